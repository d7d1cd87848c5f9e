// Virtual time and the device scheduler.
//
// Virtual time (ns, a double) is the only time devices see. In `deterministic` mode it
// advances only with instructions retired (a fixed ns per instruction), so the same inputs
// give the same run; in `host` mode it follows the wall clock: within a slice it too advances
// per instruction, at a rate retuned between slices from the CPU's measured speed and its gap
// to the wall clock, so it never jumps under a running guest (it catches up in one step only
// while the CPU is halted). Devices arm timers at absolute virtual times; the run loop runs
// the CPU until the next deadline (instructionsUntil), advances the clock, and fires what is due.
//
// The run loop, in outline:
//   clock.setInFlightCounter(() => instructions the CPU retired in the current slice);
//   scheduler.onEarlierDeadline = () => end the CPU's slice after the current instruction;
//   for (;;) {
//     const n = cpu.run(clock.instructionsUntil(scheduler.nextDeadline()));
//     clock.advance(n);                       // host mode also retunes its ns per instruction
//     if (cpu halted) clock.idle(scheduler.nextDeadline());  // deterministic: jump; host: sleep the returned ns
//     scheduler.runDue();
//   }

import { defineState, type StateDesc } from '../state/state.ts';

export type ClockMode = 'host' | 'deterministic';

export interface ClockOptions {
  mode?: ClockMode;
  /** Deterministic mode: virtual ns per instruction retired (default 1, i.e. 1000 MIPS). */
  nsPerInstruction?: number;
  /** The CPU's nominal frequency for the TSC (default 1 GHz). */
  tscHz?: number;
  /** Host mode: the wall clock in ns (default process.hrtime); tests substitute their own. */
  hostNs?: () => number;
  /** Longest CPU slice in instructions, so the host stays responsive (default 1 Mi). */
  maxSlice?: number;
}

const defaultHostNs = (): number => Number(process.hrtime.bigint());

export class Clock {
  readonly mode: ClockMode;
  readonly nsPerInstruction: number;
  readonly tscHz: number;
  private readonly tscPerNs: number;
  private readonly hostNs: () => number;
  private readonly maxSlice: number;
  /** Virtual ns at the last slice boundary (advance, idle). */
  private time = 0;
  /** Host mode: virtual ns each instruction of the current slice is worth (retuned between slices). */
  private hostNsPerInstruction = 20;
  /** Host mode: smoothed wall-clock ns the CPU takes per instruction. */
  private hostSpeed = 20;
  private hostSpeedMeasured = false;
  /** Host mode: where the wall clock says virtual time should be: hostNs() + hostOffset. */
  private hostOffset = 0;
  /** Host mode: wall-clock ns at the start of the current slice (set by instructionsUntil). */
  private sliceStartHost = 0;
  private running = true;
  /** Instructions retired inside the current slice, not yet advanced. */
  private inFlight: () => number = () => 0;

  readonly stateDesc: StateDesc = defineState('clock', 1, { time: 'f64' }, {
    postLoad: (c: Clock) => { c.hostOffset = c.time - c.hostNs(); },
  });

  constructor(options: ClockOptions = {}) {
    this.mode = options.mode ?? 'deterministic';
    this.nsPerInstruction = options.nsPerInstruction ?? 1;
    if (!(this.nsPerInstruction > 0)) throw new RangeError(`nsPerInstruction must be positive, got ${this.nsPerInstruction}`);
    this.tscHz = options.tscHz ?? 1e9;
    this.tscPerNs = this.tscHz / 1e9;
    this.hostNs = options.hostNs ?? defaultHostNs;
    this.maxSlice = options.maxSlice ?? 1 << 20;
    this.hostOffset = -this.hostNs();
    this.sliceStartHost = this.hostNs();
  }

  /**
   * Let the clock see instructions retired in the current slice, so a guest polling a timer
   * (the PIT counter, the TSC) sees time pass within a slice.
   */
  setInFlightCounter(count: () => number): void { this.inFlight = count; }

  /** Virtual ns per instruction in the current slice. */
  private get rate(): number { return this.mode === 'deterministic' ? this.nsPerInstruction : this.hostNsPerInstruction; }

  /**
   * Current virtual time in ns. Within a slice it advances with each instruction retired in
   * both modes: host mode must not read the wall clock here, because a guest calibrating one
   * timer against another (Linux: the TSC against the PIT) rejects the jumps that GC pauses and
   * slice boundaries would put into its readings.
   */
  now(): number {
    if (!this.running) return this.time;
    return this.time + this.inFlight() * this.rate;
  }

  /** The time-stamp counter at the nominal CPU frequency. */
  tsc(): number { return Math.floor(this.now() * this.tscPerNs); }

  /**
   * The run loop reports a finished slice. Host mode then retunes the rate for the next slice:
   * the CPU's measured speed, sped up or slowed down (at most 25%) so that virtual time closes
   * its gap to the wall clock within about 50 ms of running, without ever jumping.
   */
  advance(instructionsRetired: number): void {
    if (this.mode === 'deterministic') { this.time += instructionsRetired * this.nsPerInstruction; return; }
    if (!this.running) return;
    this.time += instructionsRetired * this.hostNsPerInstruction;
    const wall = this.hostNs();
    const spent = wall - this.sliceStartHost;
    this.sliceStartHost = wall;
    if (spent > 0 && instructionsRetired >= 1000) {
      const speed = spent / instructionsRetired;
      if (!this.hostSpeedMeasured) { this.hostSpeed = speed; this.hostSpeedMeasured = true; }
      else this.hostSpeed = this.hostSpeed * 0.75 + (speed < this.hostSpeed * 8 ? speed : this.hostSpeed * 8) * 0.25;
    }
    let lag = wall + this.hostOffset - this.time;
    if (lag > MAX_HOST_LAG_NS || lag < -MAX_HOST_LAG_NS) {
      // The host stalled (suspend, a debugger, a long GC): the time is lost, as for a VM that
      // was not scheduled, rather than replayed at a racing clock.
      this.hostOffset = this.time - wall;
      lag = 0;
    }
    let correction = 1 + lag / CATCH_UP_NS;
    if (correction > 1.25) correction = 1.25; else if (correction < 0.8) correction = 0.8;
    this.hostNsPerInstruction = this.hostSpeed * correction;
  }

  /** How many instructions to run before `deadlineNs` is reached (at least 1). Call it right before each slice. */
  instructionsUntil(deadlineNs: number): number {
    if (this.mode === 'host') this.sliceStartHost = this.hostNs();
    const ns = deadlineNs - this.now();
    if (ns <= 0) return 1;
    const n = Math.ceil(ns / this.rate);
    return n >= this.maxSlice ? this.maxSlice : n < 1 ? 1 : n;
  }

  /**
   * The CPU is idle (HLT) until `deadlineNs`. Deterministic mode jumps there and returns 0.
   * Host mode catches virtual time up with the wall clock (a halted CPU observes no jump), but
   * never past the deadline: each timer fires on its own and the guest runs in between, so a
   * periodic tick is not lost when the host oversleeps. It returns the wall-clock ns the run
   * loop should sleep (0 when due, Infinity when nothing is scheduled: wait for host input).
   */
  idle(deadlineNs: number): number {
    if (this.mode === 'deterministic') {
      if (deadlineNs !== Infinity && deadlineNs > this.time) this.time = deadlineNs;
      return 0;
    }
    if (!this.running) return Infinity;
    const wall = this.hostNs();
    this.sliceStartHost = wall;
    let target = wall + this.hostOffset;
    if (target < this.time) { this.hostOffset = this.time - wall; target = this.time; } // ahead: wait it out here
    if (target - deadlineNs > MAX_HOST_LAG_NS) { this.hostOffset -= target - deadlineNs; target = deadlineNs; } // a stall: forget it
    if (deadlineNs > this.time) this.time = target < deadlineNs ? target : deadlineNs;
    const ns = deadlineNs - target;
    return ns > 0 ? ns : 0;
  }

  /** Host mode: stop virtual time while the machine is paused, and go on without a jump. */
  pause(): void { if (this.mode === 'host' && this.running) this.running = false; }
  resume(): void {
    if (this.mode === 'host' && !this.running) { this.hostOffset = this.time - this.hostNs(); this.running = true; }
  }
}

/** Host mode: a gap to the wall clock larger than this is forgotten instead of caught up. */
const MAX_HOST_LAG_NS = 250e6;
/** Host mode: the wall-clock span over which the rate correction closes the gap. */
const CATCH_UP_NS = 50e6;

/** A device's timer: fires its callback once when virtual time reaches `deadline`. */
export class Timer {
  armed = false;
  deadline = Infinity;
  /** Creation order: the tie-break for timers due at the same ns, so runs are repeatable. */
  constructor(readonly name: string, readonly callback: (now: number) => void, private readonly scheduler: Scheduler, readonly order: number) {}

  arm(atNs: number): void {
    this.armed = true;
    this.deadline = atNs;
    this.scheduler.changed(atNs);
  }
  disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.deadline = Infinity;
    this.scheduler.changed(Infinity);
  }
}

export class Scheduler {
  private readonly timers: Timer[] = [];
  private cachedNext = Infinity;
  private cacheValid = true;
  /** The deadline the run loop was last given by nextDeadline(). */
  private reported = Infinity;
  /**
   * Called when a timer is armed earlier than the deadline nextDeadline() last reported, e.g.
   * by a port write in the middle of a CPU slice: the run loop may want to end the slice.
   */
  onEarlierDeadline: (deadlineNs: number) => void = () => {};

  constructor(readonly clock: Clock) {}

  now(): number { return this.clock.now(); }

  createTimer(name: string, callback: (now: number) => void): Timer {
    const t = new Timer(name, callback, this, this.timers.length);
    this.timers.push(t);
    return t;
  }

  /** @internal timers report changes here */
  changed(deadline: number): void {
    this.cacheValid = false;
    if (deadline < this.reported) { this.reported = deadline; this.onEarlierDeadline(deadline); }
  }

  /** The earliest armed deadline, Infinity when none. */
  nextDeadline(): number {
    if (this.cacheValid) return (this.reported = this.cachedNext);
    let next = Infinity;
    const timers = this.timers;
    for (let i = 0; i < timers.length; i++) if (timers[i].armed && timers[i].deadline < next) next = timers[i].deadline;
    this.cachedNext = next;
    this.cacheValid = true;
    return (this.reported = next);
  }

  /** Fire every due timer in deadline order (ties by creation order). A callback may re-arm. */
  runDue(): number {
    let fired = 0;
    const now = this.clock.now();
    for (;;) {
      let due: Timer | null = null;
      const timers = this.timers;
      for (let i = 0; i < timers.length; i++) {
        const t = timers[i];
        if (t.armed && t.deadline <= now && (due === null || t.deadline < due.deadline)) due = t;
      }
      if (due === null) return fired;
      due.armed = false;
      const at = due.deadline;
      due.deadline = Infinity;
      this.cacheValid = false;
      due.callback(at);
      fired++;
    }
  }
}
