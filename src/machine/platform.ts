// The legacy devices around the PIC pair and the PIT: RTC/CMOS, 8042 keyboard controller with
// the A20 gate and port 92h, four 16550A UARTs, the VGA and the 0xE9 debug console.

import type { IrqLine, IrqSink } from '../bus/interrupts.ts';
import { Rtc } from '../devices/rtc.ts';
import { A20Gate } from '../devices/a20.ts';
import { I8042 } from '../devices/i8042.ts';
import { Port92 } from '../devices/port92.ts';
import { Uart, COM_PORTS } from '../devices/uart.ts';
import { Vga } from '../devices/vga.ts';
import { DebugConsole } from '../devices/debugcon.ts';
import { NullBackend, type CharBackend } from '../devices/char-backend.ts';
import type { PcMachine } from './pc.ts';

export interface PlatformHooks {
  /** COM1–COM4's lines to the host (missing ports lead nowhere). */
  serial: (CharBackend | null | undefined)[];
  onDebugConsole?: (byte: number) => void;
  rtcStart?: Date;
  /** The guest asked for a CPU reset (8042 pulse, port 92h bit 0). */
  onResetRequest: () => void;
}

export interface Platform {
  rtc: Rtc;
  a20: A20Gate;
  i8042: I8042;
  port92: Port92;
  uarts: Uart[];
  vga: Vga;
  reset(): void;
}

/**
 * ISA interrupt lines that several devices may drive (COM1 and COM3 share IRQ 4): the line is
 * high while any of its drivers holds it high.
 */
function sharedLines(sink: IrqSink): (irq: number) => IrqLine {
  const levels = new Map<number, number>();
  let next = 0;
  return (irq) => {
    const bit = 1 << next++;
    const set = (on: boolean) => {
      const before = levels.get(irq) ?? 0;
      const after = on ? before | bit : before & ~bit;
      levels.set(irq, after);
      if ((before !== 0) !== (after !== 0) || on) sink.setIrq(irq, after !== 0);
    };
    return { raise: () => set(true), lower: () => set(false) };
  };
}

export function attachPlatform(m: PcMachine, hooks: PlatformHooks): Platform {
  const line = sharedLines(m.pic);
  const rtc = new Rtc(m.io, line(8), m.scheduler, { startTime: hooks.rtcStart });
  rtc.setMemorySize(m.mem.ramSize);
  rtc.updateChecksum();
  const a20 = new A20Gate(m.mem);
  const i8042 = new I8042(m.io, line(1), line(12), a20, hooks.onResetRequest);
  const port92 = new Port92(m.io, a20, hooks.onResetRequest);
  const uarts = COM_PORTS.map(({ base, irq }, i) => new Uart(m.io, base, line(irq), m.scheduler, hooks.serial[i] ?? new NullBackend()));
  const vga = new Vga(m.io, m.mem, m.scheduler);
  const devices = [rtc, i8042, port92, ...uarts, vga];
  new DebugConsole(m.io, (b) => hooks.onDebugConsole?.(b));
  return { rtc, a20, i8042, port92, uarts, vga, reset: () => { for (const d of devices) d.reset(); } };
}
