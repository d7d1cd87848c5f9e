// The Bochs/QEMU debug console: bytes written to port 0xE9 go to the host; reads return 0xE9
// so that software can detect the port.

import type { IoBus } from '../bus/io.ts';
import { defineState, type StateDesc } from '../state/state.ts';
import type { CharBackend } from './char-backend.ts';

export class DebugConsole {
  readonly stateDesc: StateDesc = defineState('debugcon', 1, {});

  /** `out` is a CharBackend or a function taking each byte. */
  constructor(io: IoBus, out: CharBackend | ((byte: number) => void), port = 0xe9) {
    const write = typeof out === 'function' ? out : (b: number) => out.write(b);
    io.map(port, port, { read8: () => 0xe9, write8: (_p, v) => write(v) });
  }

  reset(): void {}
}
