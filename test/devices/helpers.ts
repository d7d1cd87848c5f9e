// A tiny machine for device tests: an I/O bus, a deterministic clock (1 ns per instruction)
// and a run loop that fires timers in order as virtual time advances.
import { IoBus } from '../../src/bus/io.ts';
import type { IrqLine, IrqSink } from '../../src/bus/interrupts.ts';
import { Clock, Scheduler } from '../../src/machine/clock.ts';

export class Rig {
  readonly io = new IoBus();
  readonly clock = new Clock({ mode: 'deterministic', nsPerInstruction: 1 });
  readonly scheduler = new Scheduler(this.clock);

  /** Advance virtual time to `ns`, firing every timer due on the way at its own deadline. */
  runTo(ns: number): void {
    for (;;) {
      const next = this.scheduler.nextDeadline();
      const stop = Math.min(next, ns);
      const now = this.clock.now();
      if (stop > now) this.clock.advance(stop - now);
      if (next <= ns) this.scheduler.runDue(); else break;
    }
  }
  runFor(ns: number): void { this.runTo(this.clock.now() + ns); }

  in8(port: number): number { return this.io.read8(port); }
  out8(port: number, v: number): void { this.io.write8(port, v); }
}

/** An IRQ line that records its level and counts rising edges. */
export class TestLine implements IrqLine {
  level = false;
  rises = 0;
  riseTimes: number[] = [];
  constructor(private readonly now: () => number = () => 0) {}
  raise(): void { if (!this.level) { this.rises++; this.riseTimes.push(this.now()); } this.level = true; }
  lower(): void { this.level = false; }
}

/** An IrqSink recording levels of IRQ 0-15. */
export class TestSink implements IrqSink {
  levels = new Array<boolean>(16).fill(false);
  setIrq(irq: number, level: boolean): void { this.levels[irq] = level; }
}
