// The legacy devices wired as in a PC around the real soulvm CPU, for tests that run code.
import { IoBus } from '../../src/bus/io.ts';
import { irqLine } from '../../src/bus/interrupts.ts';
import { MemoryBus } from '../../src/bus/memory.ts';
import { Cpu, Stop } from '../../src/cpu/cpu.ts';
import { A20Gate } from '../../src/devices/a20.ts';
import { MemoryBackend } from '../../src/devices/char-backend.ts';
import { DebugConsole } from '../../src/devices/debugcon.ts';
import { I8042 } from '../../src/devices/i8042.ts';
import { PicPair } from '../../src/devices/pic.ts';
import { Pit } from '../../src/devices/pit.ts';
import { Port92 } from '../../src/devices/port92.ts';
import { Rtc } from '../../src/devices/rtc.ts';
import { SharedIrq } from '../../src/devices/shared-irq.ts';
import { COM_PORTS, Uart } from '../../src/devices/uart.ts';
import { Vga } from '../../src/devices/vga.ts';
import { Clock, Scheduler } from '../../src/machine/clock.ts';
import type { Stateful } from '../../src/state/state.ts';

/** A PC with `rom` (a multiple of 4 KiB, up to 128 KiB) at the top of the first MiB and of 4 GiB. */
export function buildPc(rom: Uint8Array) {
  const clock = new Clock({ mode: 'deterministic', nsPerInstruction: 1 });
  const scheduler = new Scheduler(clock);
  const mem = new MemoryBus(2 << 20);
  const io = new IoBus();
  const cpu = new Cpu(mem, io);
  const resets: string[] = [];
  const pic = new PicPair(io, () => cpu.interruptPending());
  cpu.pic = pic;
  const a20 = new A20Gate(mem);
  const serial = new MemoryBackend();
  const debug = new MemoryBackend();
  let exitCode = -1;
  io.map(0xf4, 0xf4, { write8: (_p, v) => { exitCode = v; cpu.requestStop(); } }); // QEMU's isa-debug-exit
  // COM1/COM3 share IRQ4 and COM2/COM4 share IRQ3.
  const comIrq = { 4: new SharedIrq(irqLine(pic, 4)), 3: new SharedIrq(irqLine(pic, 3)) };
  const devices: Stateful[] = [
    clock,
    pic,
    new Pit(io, irqLine(pic, 0), scheduler),
    new Rtc(io, irqLine(pic, 8), scheduler, { startTime: new Date(Date.UTC(2024, 0, 1)) }),
    new I8042(io, irqLine(pic, 1), irqLine(pic, 12), a20, () => resets.push('kbc')),
    new Port92(io, a20, () => resets.push('port92')),
    ...COM_PORTS.map(({ base, irq }, i) => new Uart(io, base, comIrq[irq].connect(), scheduler, i === 0 ? serial : new MemoryBackend())),
    new Vga(io, mem, scheduler),
    new DebugConsole(io, debug),
  ];
  mem.mapRom(rom, 0x100000 - rom.length, (0x100000000 - rom.length) >>> 0);
  /** The run loop of clock.ts, until the CPU halts with interrupts off or asks to stop. */
  const run = (maxNs: number) => {
    while (clock.now() < maxNs) {
      const n = cpu.run(clock.instructionsUntil(Math.min(scheduler.nextDeadline(), maxNs)));
      clock.advance(n);
      if (cpu.stopReason === Stop.HaltNoIrq || cpu.stopReason === Stop.Request) return;
      if (cpu.stopReason === Stop.Halt) clock.idle(Math.min(scheduler.nextDeadline(), maxNs));
      scheduler.runDue();
    }
  };
  return { clock, scheduler, pic, mem, io, cpu, run, serial, debug, devices, resets, exitCode: () => exitCode };
}
