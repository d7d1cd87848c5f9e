// Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC's port 0x61
// (timer 2 gate, speaker enable, refresh toggle, OUT2).
//
// Nothing ticks: each counter remembers the virtual clock tick at which its counting element
// (CE) was loaded and with what, and its value and OUT pin are computed from virtual time
// when asked. Only counter 0's OUT rising edge (IRQ0) is scheduled as an event.
// References: Intel 8254 datasheet (231164) "Modes" (mode 0-5 waveforms), "Read operations"
// (counter latch, read-back command), "Status byte".

import type { IoBus } from '../bus/io.ts';
import type { IrqLine } from '../bus/interrupts.ts';
import type { Scheduler, Timer } from '../machine/clock.ts';
import { defineState, type StateDesc } from '../state/state.ts';

/** The PC's timer input clock: 14.31818 MHz / 12. */
export const PIT_HZ = 1193182;
const TICKS_PER_NS = PIT_HZ / 1e9;

/** The counter tick in progress at virtual time `ns`. */
export function pitTick(ns: number): number { return Math.floor(ns * TICKS_PER_NS); }
/** The first virtual ns at which tick `tick` has begun. */
export function pitTickStart(tick: number): number {
  let ns = Math.ceil(tick / TICKS_PER_NS);
  while (Math.floor(ns * TICKS_PER_NS) < tick) ns++;
  while (ns > 0 && Math.floor((ns - 1) * TICKS_PER_NS) >= tick) ns--;
  return ns;
}

const toBcd = (v: number): number => ((v / 1000 | 0) % 10) << 12 | ((v / 100 | 0) % 10) << 8 | ((v / 10 | 0) % 10) << 4 | (v % 10);
const fromBcd = (v: number): number => ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);

/** One 8254 counter. Times are in PIT ticks. */
export class PitCounter {
  mode = 0;               // 0-5 (6 and 7 act as 2 and 3)
  modeBits = 0;           // M2-M0 as written, for the status byte
  bcd = false;
  access = 3;             // RW bits: 1 = LSB, 2 = MSB, 3 = LSB then MSB
  count = 0;              // count register (CR) as written, BCD if bcd
  hasCount = false;       // a count was written since the control word
  gate = true;
  running = false;        // CE counts from startValue at baseTick
  baseTick = 0;
  startValue = 0;         // binary; the period in modes 2 and 3
  held = 0;               // CE while not running
  outHigh = false;        // OUT while not running; in mode 0 also "terminal count reached"
  strobeDone = false;     // modes 4/5: the one-clock strobe already happened
  switchTick = -1;        // modes 2/3: a new count takes over at this reload
  nextPeriod = 0;
  nullCountUntil = -1;    // null count bit is set before this tick
  writeMsbNext = false;   // LSB/MSB access: the next write is the MSB
  writeLsb = 0;
  readMsbNext = false;
  latchedBytes = 0;       // bytes of a latched count still to read
  latchedCount = 0;
  statusLatched = false;
  latchedStatus = 0;

  static readonly state: StateDesc = defineState('i8254-counter', 1, {
    mode: { type: 'u8', max: 5 }, modeBits: { type: 'u8', max: 7 }, bcd: 'bool', access: { type: 'u8', max: 3 }, count: 'u16', hasCount: 'bool',
    gate: 'bool', running: 'bool', baseTick: 'f64', startValue: 'u32', held: 'u32', outHigh: 'bool',
    strobeDone: 'bool', switchTick: 'f64', nextPeriod: 'u32', nullCountUntil: 'f64', writeMsbNext: 'bool',
    writeLsb: 'u8', readMsbNext: 'bool', latchedBytes: { type: 'u8', max: 2 }, latchedCount: 'u16',
    statusLatched: 'bool', latchedStatus: 'u8',
  });

  reset(): void {
    this.mode = 0; this.modeBits = 0; this.bcd = false; this.access = 3; this.count = 0; this.hasCount = false;
    this.gate = true; this.running = false; this.baseTick = 0; this.startValue = 0; this.held = 0;
    this.outHigh = false; this.strobeDone = false; this.switchTick = -1; this.nextPeriod = 0;
    this.nullCountUntil = -1; this.writeMsbNext = false; this.writeLsb = 0; this.readMsbNext = false;
    this.latchedBytes = 0; this.latchedCount = 0; this.statusLatched = false; this.latchedStatus = 0;
  }

  private get modulus(): number { return this.bcd ? 10000 : 0x10000; }
  /** The count register as a number of clocks (0 means the full range). */
  private get initial(): number { const n = this.bcd ? fromBcd(this.count) : this.count; return n === 0 ? this.modulus : n; }

  /** Modes 2/3: a new count written while running takes effect at the next reload. */
  private sync(t: number): void {
    if (this.switchTick >= 0 && t >= this.switchTick) {
      this.baseTick = this.switchTick;
      this.startValue = this.nextPeriod;
      this.switchTick = -1;
    }
  }

  /** CE at tick t, binary. */
  value(t: number): number {
    this.sync(t);
    if (!this.running || t < this.baseTick) return this.held;
    const d = t - this.baseTick, p = this.startValue, m = this.modulus;
    switch (this.mode) {
      case 2: return p - (d % p);
      case 3: {
        // Even N: N, N-2, …, 2 per half. Odd N: high half N, N-1, N-3 …; low half N, N-3, N-5 … (datasheet mode 3).
        const phase = d % p, high = (p + 1) >> 1;
        if (phase === 0) return p;
        if (!(p & 1)) return p - 2 * (phase < high ? phase : phase - high);
        return phase < high ? p - 1 - 2 * (phase - 1) : (phase === high ? p : p - 3 - 2 * (phase - high - 1));
      }
      default: return (((this.startValue - d) % m) + m) % m;
    }
  }

  /** OUT at tick t. */
  out(t: number): boolean {
    this.sync(t);
    if (!this.running) return this.outHigh;
    const d = t - this.baseTick, p = this.startValue;
    if (d < 0) return this.mode === 0 ? this.outHigh : true;
    switch (this.mode) {
      case 0: return this.outHigh || d >= p;
      case 1: return d >= p;
      case 2: return p < 2 || d % p !== p - 1;
      case 3: return p < 2 || d % p < ((p + 1) >> 1);
      default: return this.strobeDone || d !== p; // modes 4, 5
    }
  }

  /** The next tick after t at which OUT rises, or Infinity. */
  nextRise(t: number): number {
    this.sync(t);
    if (!this.running) return Infinity;
    const d = t - this.baseTick, p = this.startValue;
    switch (this.mode) {
      case 0: return this.outHigh || d >= p ? Infinity : this.baseTick + p;
      case 1: return d >= p ? Infinity : this.baseTick + p;
      case 2: case 3:
        if (p < 2) return Infinity;
        if (this.switchTick >= 0) return this.switchTick;
        return this.baseTick + (d < 0 ? p : (Math.floor(d / p) + 1) * p);
      default: return this.strobeDone || d > p ? Infinity : this.baseTick + p + 1;
    }
  }

  /** Called when OUT has risen at tick t (modes 4/5 strobe once). */
  rose(t: number): void {
    if ((this.mode === 4 || this.mode === 5) && this.running && t - this.baseTick > this.startValue) this.strobeDone = true;
  }

  private status(t: number): number {
    return (this.out(t) ? 0x80 : 0) | (t < this.nullCountUntil ? 0x40 : 0) | (this.access << 4) | (this.modeBits << 1) | (this.bcd ? 1 : 0);
  }

  latchCount(t: number): void {
    if (this.latchedBytes) return; // a second latch before reading is ignored
    const v = this.value(t) % this.modulus;
    this.latchedCount = this.bcd ? toBcd(v) : v;
    this.latchedBytes = this.access === 3 ? 2 : 1;
  }

  latchStatus(t: number): void {
    if (this.statusLatched) return;
    this.latchedStatus = this.status(t);
    this.statusLatched = true;
  }

  /** Control word for this counter (RW ≠ 0). */
  control(v: number, t: number): void {
    this.held = this.value(t); // CE stops where it is
    this.access = (v >> 4) & 3;
    this.modeBits = (v >> 1) & 7;
    this.mode = this.modeBits > 5 ? this.modeBits - 4 : this.modeBits; // 6 and 7 are 2 and 3
    this.bcd = (v & 1) !== 0;
    this.running = false;
    this.hasCount = false;
    this.switchTick = -1;
    this.strobeDone = false;
    this.outHigh = this.mode !== 0; // mode 0: OUT low after the control word; others high
    this.writeMsbNext = this.readMsbNext = false;
    this.latchedBytes = 0;
    this.statusLatched = false;
    this.nullCountUntil = Infinity;
  }

  read(t: number): number {
    if (this.statusLatched) { this.statusLatched = false; return this.latchedStatus; }
    let v: number;
    if (this.latchedBytes) {
      v = this.latchedCount;
      this.latchedBytes--;
    } else {
      const ce = this.value(t) % this.modulus;
      v = this.bcd ? toBcd(ce) : ce;
    }
    switch (this.access) {
      case 1: return v & 0xff;
      case 2: return v >> 8;
      default:
        this.readMsbNext = !this.readMsbNext;
        return this.readMsbNext ? v & 0xff : v >> 8;
    }
  }

  write(v: number, t: number): void {
    if (this.access === 3 && !this.writeMsbNext) {
      this.writeLsb = v;
      this.writeMsbNext = true;
      // Mode 0: writing the first byte stops counting and drops OUT.
      if (this.mode === 0) { this.held = this.value(t); this.running = false; this.outHigh = false; }
      return;
    }
    if (this.access === 3) { this.count = this.writeLsb | (v << 8); this.writeMsbNext = false; }
    else if (this.access === 1) this.count = v;
    else this.count = v << 8;
    this.newCount(t);
  }

  private newCount(t: number): void {
    const n = this.initial, first = !this.hasCount;
    this.hasCount = true;
    switch (this.mode) {
      case 0: case 4:
        // Loaded into CE on the next clock; counts while GATE is high.
        this.outHigh = this.mode === 4;
        this.strobeDone = false;
        this.held = n;
        this.load(t + 1, n, this.gate);
        this.nullCountUntil = t + 1;
        break;
      case 1: case 5:
        // Waits for a GATE trigger; a count written meanwhile does not disturb a running one-shot.
        this.nullCountUntil = Infinity;
        break;
      default: // 2, 3
        if (first || !this.running) {
          this.load(t + 1, n, this.gate);
          this.nullCountUntil = t + 1;
        } else {
          this.sync(t);
          const d = t - this.baseTick, p = this.startValue;
          this.switchTick = this.baseTick + (d < 0 ? p : (Math.floor(d / p) + 1) * p);
          this.nextPeriod = n;
          this.nullCountUntil = this.switchTick;
        }
    }
  }

  private load(at: number, value: number, counting: boolean): void {
    this.baseTick = at;
    this.startValue = value;
    this.running = counting;
    this.switchTick = -1;
    if (!counting) this.held = value % this.modulus; // loaded, waiting for GATE
  }

  setGate(level: boolean, t: number): void {
    if (level === this.gate) return;
    this.gate = level;
    if (!this.hasCount) return;
    switch (this.mode) {
      case 0: case 4:
        if (!level) { // pause: CE holds, OUT holds
          if (this.mode === 0 && this.out(t)) this.outHigh = true; // terminal count already reached
          if (this.mode === 4) this.strobeDone = this.strobeDone || t - this.baseTick >= this.startValue;
          this.held = this.value(t);
          this.running = false;
        } else {
          this.load(t + 1, this.held === 0 ? this.modulus : this.held, true);
        }
        break;
      case 2: case 3:
        if (!level) { this.held = this.value(t); this.running = false; this.outHigh = true; this.switchTick = -1; }
        else this.load(t + 1, this.initial, true); // a rising GATE reloads on the next clock
        break;
      default: // 1, 5: the rising edge triggers
        if (level) {
          this.load(t + 1, this.initial, true);
          this.strobeDone = false;
          this.nullCountUntil = t + 1;
        }
    }
  }
}

/** The 8254 with counter 0 on IRQ0, counter 2 gated by port 0x61 and readable there. */
export class Pit {
  readonly counters = [new PitCounter(), new PitCounter(), new PitCounter()];
  /** Port 0x61 bits 0-3 as written (gate 2, speaker data, parity and IOCHK check disable). */
  portB = 0;
  private readonly irqTimer: Timer;

  readonly stateDesc: StateDesc = defineState('pit', 1, {
    counters: { structs: PitCounter.state, length: 3 }, portB: { type: 'u8', max: 0x0f }, irqTimer: 'timer',
  });

  constructor(io: IoBus, private readonly irq0: IrqLine, private readonly scheduler: Scheduler) {
    this.irqTimer = scheduler.createTimer('pit-irq0', at => this.irq0Edge(at));
    io.map(0x40, 0x42, { read8: p => this.counters[p & 3].read(this.tick()), write8: (p, v) => this.writeCounter(p & 3, v) });
    io.map(0x43, 0x43, { write8: (_p, v) => this.writeControl(v) });
    io.map(0x61, 0x61, { read8: () => this.readPortB(), write8: (_p, v) => this.writePortB(v) });
    this.reset();
  }

  reset(): void {
    for (const c of this.counters) c.reset();
    this.portB = 0;
    this.counters[2].gate = false;
    this.irq0.lower();
    this.irqTimer.disarm();
  }

  private tick(): number { return pitTick(this.scheduler.now()); }

  /** The OUT pin of counter n now. */
  output(n: number): boolean { return this.counters[n].out(this.tick()); }

  /** Speaker: true while counter 2's output reaches the speaker (gate and data enable set). */
  get speakerOn(): boolean { return (this.portB & 3) === 3; }

  private writeControl(v: number): void {
    const t = this.tick();
    const sc = v >> 6;
    if (sc === 3) {
      // Read-back: bit 5 low latches counts, bit 4 low latches status, bits 1-3 select counters.
      for (let i = 0; i < 3; i++) {
        if (!(v & (2 << i))) continue;
        if (!(v & 0x10)) this.counters[i].latchStatus(t);
        if (!(v & 0x20)) this.counters[i].latchCount(t);
      }
      return;
    }
    const c = this.counters[sc];
    if ((v & 0x30) === 0) { c.latchCount(t); return; }
    c.control(v, t);
    if (sc === 0) this.outputChanged(t);
  }

  private writeCounter(n: number, v: number): void {
    const t = this.tick();
    this.counters[n].write(v, t);
    if (n === 0) this.outputChanged(t);
  }

  /** Counter 0's OUT changed by a write: drive IRQ0 to its level and schedule the next rise. */
  private outputChanged(t: number): void {
    const c = this.counters[0];
    if (c.out(t)) this.irq0.raise(); else this.irq0.lower();
    this.scheduleIrq0(t);
  }

  private scheduleIrq0(t: number): void {
    const next = this.counters[0].nextRise(t);
    if (next === Infinity) this.irqTimer.disarm();
    else this.irqTimer.arm(pitTickStart(next));
  }

  /** OUT0 rises: an edge for the PIC (the line is pulsed, as only rising edges are scheduled). */
  private irq0Edge(at: number): void {
    const t = pitTick(at);
    const c = this.counters[0];
    c.rose(t);
    this.irq0.lower();
    this.irq0.raise();
    this.scheduleIrq0(t);
  }

  private readPortB(): number {
    const now = this.scheduler.now();
    // Bit 4 toggles with each DRAM refresh request (every 15.085 µs); bit 5 is OUT2.
    const refresh = Math.floor(now / 15085) & 1;
    return (this.portB & 0x0f) | (refresh << 4) | (this.counters[2].out(pitTick(now)) ? 0x20 : 0);
  }

  private writePortB(v: number): void {
    this.portB = v & 0x0f;
    this.counters[2].setGate((v & 1) !== 0, this.tick());
  }
}
