// One interrupt input driven by several devices (COM1 and COM3 share IRQ4 on a PC): the input
// is high while any of them drives it high. Without this, a device lowering its line would
// clobber another's request.

import type { IrqLine } from '../bus/interrupts.ts';

export class SharedIrq {
  private levels = 0;
  private sources = 0;

  constructor(private readonly line: IrqLine) {}

  /** A new device's connection to the shared input (up to 31). */
  connect(): IrqLine {
    const bit = 1 << this.sources++;
    return {
      raise: () => { const was = this.levels; this.levels |= bit; if (!was) this.line.raise(); },
      lower: () => { if (!(this.levels & bit)) return; this.levels &= ~bit; if (!this.levels) this.line.lower(); },
    };
  }
}
