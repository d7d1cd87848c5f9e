// The A20 gate as the chipset forms it: enabled while either the keyboard controller's output
// port bit 1 or port 0x92 bit 1 asks for it (PIIX4 datasheet, "A20GATE and fast A20").

import type { MemoryBus } from '../bus/memory.ts';

export type A20Source = 'keyboard' | 'port92';

export class A20Gate {
  // At power-on the 8042's output port has A20 on (as QEMU and Bochs model it), so the first
  // fetch at 0xFFFFFFF0 reaches the ROM; the BIOS turns it off if it wants the 8086 wrap.
  private keyboard = true;
  private port92 = false;

  constructor(private readonly memory: MemoryBus) { this.apply(); }

  set(source: A20Source, enabled: boolean): void {
    if (source === 'keyboard') this.keyboard = enabled; else this.port92 = enabled;
    this.apply();
  }

  get enabled(): boolean { return this.keyboard || this.port92; }

  private apply(): void { this.memory.setA20(this.keyboard || this.port92); }
}
