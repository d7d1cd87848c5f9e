// System control port A (0x92): fast A20 (bit 1) and fast reset (bit 0, on a 0→1 write).
// PIIX4 datasheet 4.1.x "Port 92h".

import type { IoBus } from '../bus/io.ts';
import { defineState, type StateDesc } from '../state/state.ts';
import type { A20Gate } from './a20.ts';

export class Port92 {
  value = 0;

  readonly stateDesc: StateDesc = defineState('port92', 1, { value: 'u8' }, {
    postLoad: (p: Port92) => p.a20.set('port92', (p.value & 2) !== 0),
  });

  constructor(io: IoBus, private readonly a20: A20Gate, private readonly onReset: () => void) {
    io.map(0x92, 0x92, { read8: () => this.value, write8: (_p, v) => this.write(v) });
  }

  reset(): void {
    this.value = 0;
    this.a20.set('port92', false);
  }

  private write(v: number): void {
    const resetEdge = (v & 1) !== 0 && !(this.value & 1);
    this.value = v & 0x03;
    this.a20.set('port92', (v & 2) !== 0);
    if (resetEdge) this.onReset();
  }
}
