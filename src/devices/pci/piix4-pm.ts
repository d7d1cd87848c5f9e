// PIIX4 function 3, power management (8086:7113), after the 82371AB datasheet sections 4.4
// and 7: the 64-byte PM I/O space at PMBA (config 0x40, enabled by PMREGMISC bit 0) holding
// the ACPI fixed registers the OS uses:
//   0x00 PMSTS   status, write one to clear (TMROF 0, GBL 5, PWRBTN 8, RTC 10, WAK 15)
//   0x02 PMEN    enables for the same bits; an enabled status bit raises SCI when SCI_EN is set
//   0x04 PMCNTRL SCI_EN (0), GBL_RLS (2, write-only), SUS_TYP (12:10), SUS_EN (13, write-only)
//   0x08 PMTMR   24-bit free-running counter at 3.579545 MHz
// and plain storage for the rest (GPE, processor control, global and device registers).
// Writing SUS_EN with SUS_TYP 000 is soft off (S5) per the datasheet's PMCNTRL table; the
// machine is told through onPowerOff. The ACPI tables' _S5 package must therefore say 0.

import type { IrqLine } from '../../bus/interrupts.ts';
import { PciDevice, overlaps } from './pci-device.ts';
import type { PciBus } from './pci-bus.ts';

const PMBA = 0x40;
const PMREGMISC = 0x80;
const PM_SIZE = 64;

export const PMSTS_TMROF = 1 << 0;
export const PMSTS_GBL = 1 << 5;
export const PMSTS_PWRBTN = 1 << 8;
export const PMSTS_RTC = 1 << 10;
export const PMSTS_WAK = 1 << 15;
const PMCNTRL_SCI_EN = 1 << 0;
const PMCNTRL_SUS_EN = 1 << 13;
const PM_TIMER_HZ = 3579545;

export interface Piix4PmOptions {
  /** The SCI interrupt (ISA IRQ 9 on this board, level-triggered). */
  sci?: IrqLine;
  /** Virtual time in nanoseconds, for the PM timer. */
  nowNs: () => number;
  /** The guest asked for soft off (S5). */
  onPowerOff?: () => void;
  /** The guest asked for another sleep state (SUS_TYP 1-7); there is no sleep, so it is only reported. */
  onSleep?: (susTyp: number) => void;
  slot?: number;
}

export class Piix4Pm extends PciDevice {
  private readonly regs = new Uint8Array(PM_SIZE);
  private mappedAt = -1;
  private sciLevel = false;

  readonly stateDesc = this.pciState('piix4-pm', 1, { regs: { bytes: PM_SIZE }, sciLevel: 'bool' }, () => {
    this.updatePmMapping();
    this.updateSci();
  });

  constructor(bus: PciBus, private readonly options: Piix4PmOptions) {
    super(bus, ((options.slot ?? 7) << 3) | 3, {
      vendorId: 0x8086, deviceId: 0x7113, classCode: 0x068000, revision: 0x03, interruptPin: 1,
    });
    this.set16(0x06, 0x0280);
    this.setWritable(PMBA, 4, 0x0000ffc0);
    this.config[PMBA] = 0x01;
    this.writeMask[PMREGMISC] = 0x01;
    for (let o = 0x44; o < 0x80; o++) this.writeMask[o] = 0xff; // DEVACT/DEVRES registers
    this.setWritable(0x90, 4, 0x0000fff0);                       // SMBBA
    this.config[0x90] = 0x01;
    this.writeMask[0xd2] = 0x0f;                                  // SMBHSTCFG (host disabled)
  }

  override reset(): void {
    super.reset();
    this.set32(PMBA, 1);
    this.config[PMREGMISC] = 0;
    this.set32(0x90, 1);
    this.config[0xd2] = 0;
    this.regs.fill(0);
    this.updateSci();
    this.updatePmMapping();
  }

  /** The base of the PM I/O space when it is decoded, or -1. */
  get pmBase(): number { return this.mappedAt; }

  protected override configWritten(offset: number, size: number): void {
    super.configWritten(offset, size);
    if (overlaps(offset, size, PMBA, 4) || overlaps(offset, size, PMREGMISC, 1)) this.updatePmMapping();
  }

  /** The power button: sets PWRBTN_STS, which raises SCI when enabled (ACPI shutdown request). */
  pressPowerButton(): void {
    this.set(0x00, this.get(0x00) | PMSTS_PWRBTN);
    this.updateSci();
  }

  private updatePmMapping(): void {
    const base = this.get32(PMBA) & 0xffc0;
    const want = (this.config[PMREGMISC] & 1) && base !== 0 ? base : -1;
    if (want === this.mappedAt) return;
    const io = this.bus.io;
    if (this.mappedAt >= 0) io.unmap(this.mappedAt, this.mappedAt + PM_SIZE - 1);
    this.mappedAt = want;
    if (want < 0) return;
    io.map(want, want + PM_SIZE - 1, {
      read8: (p) => this.read(p - want, 1),
      write8: (p, v) => this.write(p - want, v, 1),
      read16: (p) => this.read(p - want, 2),
      write16: (p, v) => this.write(p - want, v, 2),
      read32: (p) => this.read(p - want, 4),
      write32: (p, v) => this.write(p - want, v, 4),
    });
  }

  private timer(): number {
    return Math.floor(this.options.nowNs() * (PM_TIMER_HZ / 1e9)) & 0xffffff;
  }

  /** A PM register read of `size` bytes at offset `off`. */
  read(off: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) {
      const o = off + i;
      const b = o >= 0x08 && o < 0x0c ? (this.timer() >>> (8 * (o - 8))) & 0xff : o < PM_SIZE ? this.regs[o] : 0xff;
      v = (v << 8) | b;
    }
    return v >>> 0;
  }

  write(off: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) {
      const o = off + i, b = (value >>> (8 * i)) & 0xff;
      if (o === 0x00 || o === 0x01) this.regs[o] &= ~b;         // PMSTS: write one to clear
      else if (o >= 0x08 && o < 0x0c) continue;                  // PMTMR is read-only
      else if (o < PM_SIZE) this.regs[o] = b;
    }
    if (off <= 0x05 && off + size > 0x04) this.controlWritten();
    this.updateSci();
  }

  private controlWritten(): void {
    const cnt = this.get(0x04);
    this.set(0x04, cnt & ~(PMCNTRL_SUS_EN | 0x0004)); // SUS_EN and GBL_RLS are write-only
    if (cnt & PMCNTRL_SUS_EN) {
      const susTyp = (cnt >>> 10) & 7;
      if (susTyp === 0) this.options.onPowerOff?.();
      else this.options.onSleep?.(susTyp);
    }
  }

  private updateSci(): void {
    const level = (this.get(0x04) & PMCNTRL_SCI_EN) !== 0 && (this.get(0x00) & this.get(0x02) & 0x0521) !== 0;
    if (level === this.sciLevel) return;
    this.sciLevel = level;
    if (level) this.options.sci?.raise(); else this.options.sci?.lower();
  }

  private get(o: number): number { return this.regs[o] | (this.regs[o + 1] << 8); }
  private set(o: number, v: number): void { this.regs[o] = v; this.regs[o + 1] = v >>> 8; }
}
