// Virtual clock and scheduler: ordering, re-arming, determinism, host mode, TSC.
import { describe, expect, it } from 'vitest';
import { Clock, Scheduler } from '../../src/machine/clock.ts';
import { IoBus } from '../../src/bus/io.ts';
import { irqLine } from '../../src/bus/interrupts.ts';
import { PicPair } from '../../src/devices/pic.ts';
import { Pit } from '../../src/devices/pit.ts';
import { Rtc } from '../../src/devices/rtc.ts';

describe('clock and scheduler', () => {
  it('fires due timers in deadline order, ties by creation order, and lets callbacks re-arm', () => {
    const clock = new Clock({ mode: 'deterministic', nsPerInstruction: 2 });
    const s = new Scheduler(clock);
    const log: string[] = [];
    const a = s.createTimer('a', at => { log.push(`a@${at}`); if (at < 300) a.arm(at + 100); });
    const b = s.createTimer('b', at => log.push(`b@${at}`));
    const c = s.createTimer('c', at => log.push(`c@${at}`));
    a.arm(100); b.arm(150); c.arm(100);
    expect(s.nextDeadline()).toBe(100);
    expect(clock.instructionsUntil(100)).toBe(50);
    clock.advance(100);                                     // 200 ns
    s.runDue();
    expect(log).toEqual(['a@100', 'c@100', 'b@150', 'a@200']);
    expect(s.nextDeadline()).toBe(300);
    c.arm(250); c.disarm();
    expect(c.armed).toBe(false);
    expect(s.nextDeadline()).toBe(300);
    clock.idle(s.nextDeadline());                           // halted CPU: jump to the deadline
    expect(clock.now()).toBe(300);
    s.runDue();
    expect(log.at(-1)).toBe('a@300');
    expect(s.nextDeadline()).toBe(Infinity);
  });

  it('tells the run loop when a timer is armed before the deadline it was given', () => {
    const s = new Scheduler(new Clock());
    const early: number[] = [];
    s.onEarlierDeadline = d => early.push(d);
    const a = s.createTimer('a', () => {}), b = s.createTimer('b', () => {});
    a.arm(1000);
    expect(s.nextDeadline()).toBe(1000);
    b.arm(2000);                                            // later: the slice stands
    a.arm(1500);                                            // later too
    expect(early).toEqual([1000]);                          // only the first (before any report)
    expect(s.nextDeadline()).toBe(1500);
    b.arm(700);
    expect(early).toEqual([1000, 700]);
  });

  it('sees instructions retired inside a slice and derives the TSC from virtual time', () => {
    let inFlight = 0;
    const clock = new Clock({ mode: 'deterministic', nsPerInstruction: 3, tscHz: 2e9 });
    clock.setInFlightCounter(() => inFlight);
    clock.advance(10);
    inFlight = 5;
    expect(clock.now()).toBe(45);
    expect(clock.tsc()).toBe(90);
    expect(clock.instructionsUntil(100)).toBe(19);
    expect(clock.instructionsUntil(10)).toBe(1);
  });

  it('host mode: time advances per instruction inside a slice and never jumps under a running CPU', () => {
    let host = 1_000_000, inFlight = 0;
    const clock = new Clock({ mode: 'host', hostNs: () => host });
    clock.setInFlightCounter(() => inFlight);
    expect(clock.now()).toBe(0);
    clock.instructionsUntil(Infinity);
    const rate = clock.now() === 0 ? (inFlight = 100, clock.now() / 100) : NaN;
    expect(rate).toBeGreaterThan(0);
    host += 5_000_000;                                      // a GC pause mid-slice: the guest sees nothing of it
    inFlight = 101;
    expect(clock.now()).toBeCloseTo(101 * rate, 6);
    inFlight = 0; clock.advance(101);
    expect(clock.now()).toBeCloseTo(101 * rate, 6);         // the slice boundary is seamless too
  });

  it('host mode tracks the wall clock over many slices, retuning the rate by at most 25% a slice', () => {
    let host = 0;
    const clock = new Clock({ mode: 'host', hostNs: () => host });
    const slice = (instructions: number, wallNs: number) => {
      clock.instructionsUntil(Infinity);
      const before = clock.now();
      host += wallNs;
      clock.advance(instructions);
      return (clock.now() - before) / instructions;
    };
    // A CPU at 2 ns per instruction (1 M instructions a slice): the estimate converges and
    // virtual time follows the wall.
    slice(1_000_000, 2_000_000);                            // runs at a guess; measures the CPU
    let last = slice(1_000_000, 2_000_000);
    for (let i = 0; i < 300; i++) {
      const r = slice(1_000_000, 2_000_000);
      expect(r / last).toBeLessThanOrEqual(1.25 * 1.25 + 1e-9);
      expect(last / r).toBeLessThanOrEqual(1.25 * 1.25 + 1e-9);
      last = r;
    }
    expect(Math.abs(clock.now() - host)).toBeLessThan(1e6);
    expect(clock.instructionsUntil(clock.now() + 1e6)).toBeGreaterThan(400_000);
    expect(clock.instructionsUntil(clock.now() + 1e6)).toBeLessThan(600_000);
    // A 20 ms hiccup between slices (the event loop): caught up smoothly, not in a jump.
    host += 20e6;
    const t0 = clock.now();
    slice(1_000_000, 2_000_000);                            // sees the gap at its end
    expect(clock.now() - t0).toBeLessThan(1_000_000 * 2 * 1.25 + 1);
    expect(slice(1_000_000, 2_000_000)).toBeGreaterThan(2 * 1.2);
    for (let i = 0; i < 200; i++) slice(1_000_000, 2_000_000);
    expect(Math.abs(clock.now() - host)).toBeLessThan(1e6);
    // A stall beyond a quarter second is forgotten: no racing clock afterwards.
    host += 5e9;
    slice(1_000_000, 2_000_000);
    expect(slice(1_000_000, 2_000_000)).toBeLessThan(2 * 1.01);
  });

  it('host mode: a halted CPU catches up with the wall clock one deadline at a time; pause stops time', () => {
    let host = 0;
    const clock = new Clock({ mode: 'host', hostNs: () => host });
    host += 3_000_000;
    expect(clock.idle(Infinity)).toBe(Infinity);
    expect(clock.now()).toBe(3_000_000);
    expect(clock.idle(clock.now() + 10)).toBe(10);          // not due yet: sleep 10 ns
    // The host overslept past two 4 ms ticks: the clock stops at each of them in turn.
    host += 9_000_000;
    expect(clock.idle(7_000_000)).toBe(0);
    expect(clock.now()).toBe(7_000_000);
    expect(clock.idle(11_000_000)).toBe(0);
    expect(clock.now()).toBe(11_000_000);
    expect(clock.idle(15_000_000)).toBe(3_000_000);
    expect(clock.now()).toBe(12_000_000);
    // A stall of seconds is not replayed tick by tick.
    host += 10e9;
    expect(clock.idle(15_000_000)).toBe(0);
    expect(clock.idle(19_000_000)).toBe(4_000_000);      // back to following the wall clock
    expect(clock.now()).toBe(15_000_000);
    clock.pause(); host += 1e9;
    expect(clock.now()).toBe(15_000_000);
    expect(clock.idle(clock.now() + 10)).toBe(Infinity);
    clock.resume(); host += 10;
    expect(clock.idle(Infinity)).toBe(Infinity);
    expect(clock.now()).toBe(15_000_010);
  });

  it('gives identical event order and times for two deterministic runs of the same machine', () => {
    const run = () => {
      const clock = new Clock({ mode: 'deterministic', nsPerInstruction: 7 });
      const scheduler = new Scheduler(clock);
      const io = new IoBus();
      const events: string[] = [];
      const pic = new PicPair(io);
      const tap = { setIrq: (irq: number, level: boolean) => { if (level) events.push(`irq${irq}@${clock.now()}`); pic.setIrq(irq, level); } };
      new Pit(io, irqLine(tap, 0), scheduler);
      new Rtc(io, irqLine(tap, 8), scheduler, { startTime: new Date(Date.UTC(2020, 0, 1)) });
      io.write8(0x43, 0x34); io.write8(0x40, 0x9c); io.write8(0x40, 0x2e);
      io.write8(0x70, 0x0a); io.write8(0x71, 0x2a);           // RTC periodic 1024 Hz... rate 10
      io.write8(0x70, 0x0b); io.write8(0x71, 0x52);           // PIE + UIE, 24h
      let left = 300_000_000;
      while (left > 0) {
        const n = Math.min(left, clock.instructionsUntil(scheduler.nextDeadline()));
        clock.advance(n); left -= n;
        scheduler.runDue();
        if (events.length % 7 === 3) { io.write8(0x70, 0x0c); io.read8(0x71); }
      }
      return events;
    };
    const first = run(), second = run();
    expect(first.length).toBeGreaterThan(50);
    expect(second).toEqual(first);
  });
});
