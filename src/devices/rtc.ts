// Motorola MC146818 real-time clock and CMOS RAM (ports 0x70/0x71), IRQ8.
//
// The time registers hold bytes in the format register B selected when they were written (BCD
// or binary, 12 or 24 hours), as on the chip: changing the format does not convert them. Each
// update cycle (once a second of virtual time) advances them in the current format, carrying
// seconds into minutes … years; the century byte 0x32 (CMOS RAM on a PC) is carried too, as
// QEMU does, so that the full year stays right. UIP is high during the 244 us before each update (datasheet
// "UIP bit": when UIP is 0 the update will not occur for at least 244 us).
// References: MC146818A datasheet, "Address map", "Register A-D", "Update cycle",
// "Interrupts"; IBM AT CMOS layout for bytes 0x0E-0x3F.

import type { IoBus } from '../bus/io.ts';
import type { IrqLine } from '../bus/interrupts.ts';
import type { Scheduler, Timer } from '../machine/clock.ts';
import { defineState, type StateDesc } from '../state/state.ts';

// Register numbers.
const SEC = 0x00, SEC_ALARM = 0x01, MIN = 0x02, MIN_ALARM = 0x03, HOUR = 0x04, HOUR_ALARM = 0x05;
const DAY_OF_WEEK = 0x06, DAY = 0x07, MONTH = 0x08, YEAR = 0x09;
const REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d;
const CENTURY = 0x32;

// Register A
const UIP = 0x80;
// Register B
const SET = 0x80, PIE = 0x40, AIE = 0x20, UIE = 0x10, SQWE = 0x08, DM_BINARY = 0x04, HOURS_24 = 0x02;
// Register C
const IRQF = 0x80, PF = 0x40, AF = 0x20, UF = 0x10;

/** CMOS bytes the BIOS fills in (IBM AT layout, plus the usual extensions). */
export const CMOS = {
  SHUTDOWN_STATUS: 0x0f,
  FLOPPY_TYPES: 0x10,     // high nibble drive A, low nibble drive B (4 = 1.44 MB)
  DISK_TYPES: 0x12,       // high nibble disk 0, low nibble disk 1 (0xF: see 0x19/0x1A)
  EQUIPMENT: 0x14,
  BASE_MEMORY: 0x15,      // 0x15-0x16: KiB below 1 MiB
  EXTENDED_MEMORY: 0x17,  // 0x17-0x18: KiB above 1 MiB (max 65535)
  DISK0_EXT_TYPE: 0x19,
  DISK1_EXT_TYPE: 0x1a,
  CHECKSUM: 0x2e,         // 0x2E high, 0x2F low: sum of 0x10-0x2D
  EXTENDED_MEMORY_POST: 0x30, // 0x30-0x31: as 0x17-0x18, as found by POST
  CENTURY: 0x32,
  MEMORY_ABOVE_16M: 0x34, // 0x34-0x35: 64 KiB blocks between 16 MiB and 4 GiB
  BOOT_ORDER: 0x3d,       // 0x3D (and 0x38 high nibble): boot devices, as Bochs/SeaBIOS use
  MEMORY_ABOVE_4G: 0x5b,  // 0x5B-0x5D: 64 KiB blocks above 4 GiB
} as const;

export interface RtcOptions {
  /** The time the clock shows at virtual time 0; default the host's time now. */
  startTime?: Date;
  /** Keep local time in the registers (as DOS and Windows expect) instead of UTC. */
  localTime?: boolean;
}

const TIME_REGISTERS = [SEC, MIN, HOUR, DAY_OF_WEEK, DAY, MONTH, YEAR, CENTURY];
const toBcd = (v: number): number => (((v / 10) | 0) << 4) | (v % 10);
const fromBcd = (v: number): number => (v >> 4) * 10 + (v & 0x0f);
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const UPDATE_NS = 1e9;
const UIP_NS = 244_000;

export class Rtc {
  /** CMOS RAM, time registers included. */
  readonly cmos = new Uint8Array(128);
  index = 0;
  nmiMasked = true;
  /** Virtual ns of the next update cycle; the divider's one-second phase. */
  nextUpdate = 0;
  /** Virtual ns at which the divider started: the periodic interrupt's phase. */
  dividerStart = 0;
  /** Periodic periods elapsed up to the last time PF was set. */
  periodsSeen = 0;
  private readonly updateTimer: Timer;
  private readonly periodicTimer: Timer;

  readonly stateDesc: StateDesc = defineState('rtc', 1, {
    cmos: { bytes: 128 }, index: { type: 'u8', max: 0x7f }, nmiMasked: 'bool', nextUpdate: 'f64',
    dividerStart: 'f64', periodsSeen: 'f64', updateTimer: 'timer', periodicTimer: 'timer',
  }, { postLoad: (r: Rtc) => { if (r.cmos[REG_C] & IRQF) r.irq.raise(); else r.irq.lower(); } });

  constructor(io: IoBus, private readonly irq: IrqLine, private readonly scheduler: Scheduler, options: RtcOptions = {}) {
    this.updateTimer = scheduler.createTimer('rtc-update', at => this.update(at));
    this.periodicTimer = scheduler.createTimer('rtc-periodic', at => this.periodic(at));
    io.map(0x70, 0x70, { read8: () => 0xff, write8: (_p, v) => { this.index = v & 0x7f; this.nmiMasked = (v & 0x80) !== 0; } });
    io.map(0x71, 0x71, { read8: () => this.read(this.index), write8: (_p, v) => this.write(this.index, v) });
    // Power-on: 32.768 kHz time base running, 1024 Hz rate, 24-hour BCD, registers valid.
    const start = options.startTime ?? new Date();
    const ms = start.getTime();
    const local = options.localTime ? -start.getTimezoneOffset() * 60_000 : 0;
    this.cmos[REG_A] = 0x26;
    this.cmos[REG_B] = HOURS_24;
    const d = new Date(ms + local);
    const fields = [d.getUTCSeconds(), d.getUTCMinutes(), d.getUTCHours(), d.getUTCDay() + 1, d.getUTCDate(),
      d.getUTCMonth() + 1, d.getUTCFullYear() % 100, Math.floor(d.getUTCFullYear() / 100)];
    TIME_REGISTERS.forEach((reg, i) => { this.cmos[reg] = toBcd(fields[i]); });
    this.cmos[REG_D] = 0x80;
    const now = scheduler.now();
    this.dividerStart = now;
    this.nextUpdate = now + UPDATE_NS - ((ms % 1000) + 1000) % 1000 * 1e6; // the host's second boundary
    this.updateTimer.arm(this.nextUpdate);
  }

  /** Machine reset: the RESET pin clears the interrupt enables and flags; time and RAM survive. */
  reset(): void {
    this.cmos[REG_B] &= ~(PIE | AIE | UIE | SQWE);
    this.cmos[REG_C] = 0;
    this.irq.lower();
    this.periodicTimer.disarm();
    this.nmiMasked = true;
  }

  // ---- BIOS helpers ----

  /** A CMOS byte, without the side effects of a guest read. */
  readCmos(index: number): number { return this.cmos[index & 0x7f]; }
  writeCmos(index: number, value: number): void { this.cmos[index & 0x7f] = value; }

  /** Fill the memory size bytes for `ramBytes` of RAM below 4 GiB and `highRamBytes` above it. */
  setMemorySize(ramBytes: number, highRamBytes = 0): void {
    const word = (at: number, v: number) => { this.cmos[at] = v & 0xff; this.cmos[at + 1] = (v >> 8) & 0xff; };
    const base = Math.min(640, Math.floor(ramBytes / 1024));
    const extKiB = Math.min(0xffff, Math.max(0, Math.floor((ramBytes - 0x100000) / 1024)));
    const above16M = Math.min(0xffff, Math.max(0, Math.floor((ramBytes - 0x1000000) / 0x10000)));
    const above4G = Math.floor(highRamBytes / 0x10000);
    word(CMOS.BASE_MEMORY, base);
    word(CMOS.EXTENDED_MEMORY, extKiB);
    word(CMOS.EXTENDED_MEMORY_POST, extKiB);
    word(CMOS.MEMORY_ABOVE_16M, above16M);
    this.cmos[CMOS.MEMORY_ABOVE_4G] = above4G & 0xff;
    this.cmos[CMOS.MEMORY_ABOVE_4G + 1] = (above4G >> 8) & 0xff;
    this.cmos[CMOS.MEMORY_ABOVE_4G + 2] = (above4G >> 16) & 0xff;
  }

  /** Floppy drive types (0 none, 1 360K, 2 1.2M, 3 720K, 4 1.44M, 5 2.88M). */
  setFloppyTypes(a: number, b: number): void { this.cmos[CMOS.FLOPPY_TYPES] = ((a & 0xf) << 4) | (b & 0xf); }

  /** Hard disk types for the first two disks (0 none, 0xF = extended type 47 in 0x19/0x1A). */
  setDiskTypes(present0: boolean, present1: boolean): void {
    this.cmos[CMOS.DISK_TYPES] = (present0 ? 0xf0 : 0) | (present1 ? 0x0f : 0);
    this.cmos[CMOS.DISK0_EXT_TYPE] = present0 ? 47 : 0;
    this.cmos[CMOS.DISK1_EXT_TYPE] = present1 ? 47 : 0;
  }

  /** Equipment byte: floppy count, VGA display, math coprocessor present. */
  setEquipment(floppies: number, fpu: boolean): void {
    this.cmos[CMOS.EQUIPMENT] = (floppies ? ((floppies - 1) << 6) | 1 : 0) | (fpu ? 0x02 : 0); // bits 5-4 = 00: EGA/VGA
  }

  /** Recompute the standard checksum at 0x2E-0x2F over 0x10-0x2D. */
  updateChecksum(): void {
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.cmos[i];
    this.cmos[CMOS.CHECKSUM] = (sum >> 8) & 0xff;
    this.cmos[CMOS.CHECKSUM + 1] = sum & 0xff;
  }

  // ---- time ----

  private get dividerRunning(): boolean { return (this.cmos[REG_A] & 0x60) !== 0x60; }

  /** Periodic interrupt period in ns from register A's rate select, 0 when off. */
  private get periodNs(): number {
    const rs = this.cmos[REG_A] & 0x0f;
    if (rs === 0 || !this.dividerRunning) return 0;
    const cycles = rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1); // of the 32.768 kHz time base
    return (cycles * 1e9) / 32768;
  }

  private encode(v: number): number { return this.cmos[REG_B] & DM_BINARY ? v : toBcd(v); }
  private decode(v: number): number { return this.cmos[REG_B] & DM_BINARY ? v : fromBcd(v); }

  private encodeHour(h: number): number {
    if (this.cmos[REG_B] & HOURS_24) return this.encode(h);
    return this.encode(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
  }
  private decodeHour(v: number): number {
    if (this.cmos[REG_B] & HOURS_24) return this.decode(v);
    return (this.decode(v & 0x7f) % 12) + (v & 0x80 ? 12 : 0);
  }

  /** One second later, counting in the current format with the chip's carries (leap years included). */
  private tick(): void {
    const c = this.cmos;
    let sec = this.decode(c[SEC]), min = this.decode(c[MIN]), hour = this.decodeHour(c[HOUR]);
    let dow = this.decode(c[DAY_OF_WEEK]), day = this.decode(c[DAY]), month = this.decode(c[MONTH]);
    let year = this.decode(c[YEAR]), century = this.decode(c[CENTURY]);
    if (++sec >= 60) {
      sec = 0;
      if (++min >= 60) {
        min = 0;
        if (++hour >= 24) {
          hour = 0;
          dow = dow >= 7 ? 1 : dow + 1;
          const full = century * 100 + year;
          const leap = full % 4 === 0 && (full % 100 !== 0 || full % 400 === 0);
          if (++day > (month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month] ?? 31)) {
            day = 1;
            if (++month > 12) {
              month = 1;
              if (++year >= 100) { year = 0; century = (century + 1) % 100; }
            }
          }
        }
      }
    }
    c[SEC] = this.encode(sec); c[MIN] = this.encode(min); c[HOUR] = this.encodeHour(hour);
    c[DAY_OF_WEEK] = this.encode(dow); c[DAY] = this.encode(day); c[MONTH] = this.encode(month);
    c[YEAR] = this.encode(year); c[CENTURY] = this.encode(century);
  }

  /** The update cycle at virtual time `at`: advance a second, check the alarm, set UF. */
  private update(at: number): void {
    this.nextUpdate = at + UPDATE_NS;
    this.updateTimer.arm(this.nextUpdate);
    if (this.cmos[REG_B] & SET) return; // updates inhibited while SET
    this.tick();
    let flags = UF;
    if (this.alarmMatches(SEC_ALARM, SEC) && this.alarmMatches(MIN_ALARM, MIN) && this.alarmMatches(HOUR_ALARM, HOUR)) flags |= AF;
    this.setFlags(flags);
  }

  /** An alarm byte matches its time register, in the current format; 0xC0-0xFF match anything. */
  private alarmMatches(alarmReg: number, timeReg: number): boolean {
    const a = this.cmos[alarmReg];
    return (a & 0xc0) === 0xc0 || a === this.cmos[timeReg];
  }

  private periodic(at: number): void {
    const period = this.periodNs;
    if (!period) return;
    // `at` is a boundary (rounded up to a whole ns), so rounding recovers its index.
    this.periodsSeen = Math.round((at - this.dividerStart) / period);
    this.setFlags(PF);
    this.periodicTimer.arm(Math.ceil(this.dividerStart + (this.periodsSeen + 1) * period));
  }

  /** Set flags in register C; IRQF and the IRQ line follow the enables in register B. */
  private setFlags(flags: number): void {
    const c = this.cmos[REG_C] | flags;
    const raise = (c & this.cmos[REG_B] & (PF | AF | UF)) !== 0;
    this.cmos[REG_C] = raise ? c | IRQF : c;
    if (raise) this.irq.raise();
  }

  /** Periodic flag for a guest polling register C with PIE off: set if a period passed. */
  private catchUpPeriodic(): void {
    const period = this.periodNs;
    if (!period) return;
    const n = Math.floor((this.scheduler.now() - this.dividerStart) / period);
    if (n > this.periodsSeen) { this.periodsSeen = n; this.setFlags(PF); }
  }

  private schedulePeriodic(): void {
    const period = this.periodNs;
    if (!period || !(this.cmos[REG_B] & PIE)) { this.periodicTimer.disarm(); return; }
    const n = Math.floor((this.scheduler.now() - this.dividerStart) / period);
    this.periodsSeen = Math.max(this.periodsSeen, n);
    this.periodicTimer.arm(Math.ceil(this.dividerStart + (n + 1) * period));
  }

  read(reg: number): number {
    switch (reg) {
      case REG_A: {
        const uip = this.dividerRunning && !(this.cmos[REG_B] & SET) && this.nextUpdate - this.scheduler.now() <= UIP_NS;
        return (this.cmos[REG_A] & 0x7f) | (uip ? UIP : 0);
      }
      case REG_C: {
        this.catchUpPeriodic();
        const c = this.cmos[REG_C];
        this.cmos[REG_C] = 0;
        this.irq.lower();
        return c;
      }
      case REG_D: return 0x80; // VRT: the battery is fine
      default: return this.cmos[reg];
    }
  }

  write(reg: number, v: number): void {
    switch (reg) {
      case REG_A: {
        const wasRunning = this.dividerRunning;
        this.catchUpPeriodic();
        this.cmos[REG_A] = v & 0x7f;
        if (!this.dividerRunning) { this.updateTimer.disarm(); }
        else if (!wasRunning) {
          // Leaving divider reset: the first update comes half a second later.
          const now = this.scheduler.now();
          this.dividerStart = now;
          this.periodsSeen = 0;
          this.nextUpdate = now + UPDATE_NS / 2;
          this.updateTimer.arm(this.nextUpdate);
        }
        this.schedulePeriodic();
        return;
      }
      case REG_B: {
        this.catchUpPeriodic();
        // Setting SET stops updates and clears UIE (datasheet "SET").
        this.cmos[REG_B] = v & SET ? v & ~UIE : v;
        this.setFlags(0);
        this.schedulePeriodic();
        return;
      }
      case REG_C: case REG_D: return; // read-only
      default: this.cmos[reg] = v;
    }
  }
}
