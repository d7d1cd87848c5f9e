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

  it('host mode follows the wall clock, never goes backwards, and stops while paused', () => {
    let host = 1_000_000;
    const clock = new Clock({ mode: 'host', hostNs: () => host });
    expect(clock.now()).toBe(0);
    host += 500; expect(clock.now()).toBe(500);
    clock.pause(); host += 1000; expect(clock.now()).toBe(500);
    clock.resume(); host += 10; expect(clock.now()).toBe(510);
    // The slice length follows the measured speed: 1000 instructions in 2000 ns of wall time.
    for (let i = 0; i < 60; i++) { clock.instructionsUntil(0); host += 2000; clock.advance(1000); }
    expect(clock.instructionsUntil(clock.now() + 1e6)).toBe(500_000);
    expect(clock.idle(Infinity)).toBe(Infinity);
    expect(clock.idle(clock.now() + 10)).toBe(10);
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
