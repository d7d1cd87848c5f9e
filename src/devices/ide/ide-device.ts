// What every device on an IDE channel has: its copy of the task file registers (writes reach
// both devices on a channel, reads come from the selected one), status and error, its
// interrupt request, and the PIO data buffer the host reads or writes through the data port.
// AtaDisk and AtapiCdrom add their command sets on top. References: ATA/ATAPI-6 (T13 1410D),
// chapters 6 (registers), 9 (protocols) and 8 (commands).

import type { IdeChannel } from './ide-channel.ts';
import type { FieldSpec, StateDesc } from '../../state/state.ts';

// Status register bits.
export const ST_ERR = 0x01;
export const ST_DRQ = 0x08;
export const ST_DSC = 0x10;
export const ST_DF = 0x20;
export const ST_DRDY = 0x40;
export const ST_BSY = 0x80;
// Error register bits.
export const ER_ABRT = 0x04;
export const ER_IDNF = 0x10;
export const ER_UNC = 0x40;
// Device register: LBA mode and device select.
export const DEV_LBA = 0x40;
export const DEV_SELECT = 0x10;

export const enum Pio { None, In, Out }

/** What a data transfer the device is set up for does when its buffer is used up. */
export abstract class IdeDevice {
  feature = 0; hobFeature = 0;
  count = 0; hobCount = 0;
  lbaLow = 0; hobLbaLow = 0;
  lbaMid = 0; hobLbaMid = 0;
  lbaHigh = 0; hobLbaHigh = 0;
  device = 0;
  status = 0;
  error = 0;
  /** INTRQ as the device drives it (before nIEN). */
  irqPending = false;

  /** PIO data buffer: the host moves bytes [pos, end) through the data port. */
  protected readonly buf: Uint8Array;
  pos = 0;
  end = 0;
  pio: Pio = Pio.None;
  /** A DMA command is waiting for (or running on) the bus master. */
  dmaPending = false;

  channel!: IdeChannel;
  unit = 0;

  abstract readonly isAtapi: boolean;
  abstract readonly stateDesc: StateDesc;

  constructor(bufferSize: number) {
    this.buf = new Uint8Array(bufferSize);
  }

  /** The saved-state fields every device has: registers, interrupt and the PIO buffer. */
  protected baseState(): Record<string, FieldSpec> {
    const reg = 'u8' as const, n = this.buf.length;
    return {
      feature: reg, hobFeature: reg, count: reg, hobCount: reg, lbaLow: reg, hobLbaLow: reg,
      lbaMid: reg, hobLbaMid: reg, lbaHigh: reg, hobLbaHigh: reg, device: reg, status: reg, error: reg,
      irqPending: 'bool', pio: { type: 'u8', max: Pio.Out }, pos: { type: 'u32', max: n }, end: { type: 'u32', max: n },
      dmaPending: 'bool', buf: { bytes: n },
    };
  }

  /** Called once by the channel that owns the device. */
  attach(channel: IdeChannel, unit: number): void {
    this.channel = channel;
    this.unit = unit;
  }

  /** The command register was written (the device is selected and not busy). */
  abstract command(cmd: number): void;
  /** The host consumed (Pio.In) or filled (Pio.Out) the buffer [pos, end). */
  protected abstract pioDone(): void;
  /** The bus master is running and this device has a DMA command waiting. */
  abstract runDma(): void;

  /** Power-on, hardware or software reset: signature in the registers, nothing in flight. */
  reset(): void {
    this.pio = Pio.None;
    this.pos = this.end = 0;
    this.dmaPending = false;
    this.irqPending = false;
    this.feature = this.hobFeature = 0;
    this.device = 0;
    this.diagnose();
  }

  /** Power-on or hardware reset: a software reset that also forgets settings (AtaDisk extends it). */
  powerOn(): void { this.reset(); }

  /** Reset and EXECUTE DEVICE DIAGNOSTIC results: signature, diagnostic code 01h (passed), idle status. */
  diagnose(): void {
    this.setSignature();
    this.error = 0x01;
    this.status = this.isAtapi ? 0 : ST_DRDY | ST_DSC;
  }

  /** ATA 9.1: count and LBA low are 1; LBA mid/high are 00/00 (ATA) or 14h/EBh (ATAPI). */
  protected setSignature(): void {
    this.count = this.hobCount = 1;
    this.lbaLow = this.hobLbaLow = 1;
    this.lbaMid = this.hobLbaMid = this.isAtapi ? 0x14 : 0;
    this.lbaHigh = this.hobLbaHigh = this.isAtapi ? 0xeb : 0;
  }

  // ---- the data port ----

  readData16(): number {
    if (this.pio !== Pio.In) return 0xffff;
    const b = this.buf, p = this.pos;
    const v = b[p] | (b[p + 1] << 8);
    this.pos = p + 2;
    if (this.pos >= this.end) this.finishPio();
    return v;
  }

  readData32(): number {
    if (this.pio !== Pio.In) return -1;
    if (this.end - this.pos < 4) return this.readData16() | (this.readData16() << 16);
    const b = this.buf, p = this.pos;
    const v = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    this.pos = p + 4;
    if (this.pos >= this.end) this.finishPio();
    return v;
  }

  writeData16(v: number): void {
    if (this.pio !== Pio.Out) return;
    const b = this.buf, p = this.pos;
    b[p] = v; b[p + 1] = v >>> 8;
    this.pos = p + 2;
    if (this.pos >= this.end) this.finishPio();
  }

  writeData32(v: number): void {
    if (this.pio !== Pio.Out) return;
    if (this.end - this.pos < 4) { this.writeData16(v & 0xffff); this.writeData16(v >>> 16); return; }
    const b = this.buf, p = this.pos;
    b[p] = v; b[p + 1] = v >>> 8; b[p + 2] = v >>> 16; b[p + 3] = v >>> 24;
    this.pos = p + 4;
    if (this.pos >= this.end) this.finishPio();
  }

  private finishPio(): void {
    this.pio = Pio.None;
    this.status &= ~ST_DRQ;
    this.pioDone();
  }

  // ---- helpers for the command sets ----

  /** Offer `len` bytes of the buffer from `start` to the host, or ask for them (DRQ set). */
  protected startPio(dir: Pio, len: number, interrupt: boolean, start = 0): void {
    this.pos = start;
    this.end = start + len;
    this.pio = dir;
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    if (interrupt) this.raiseIrq();
  }

  /** Finish the command successfully. */
  protected complete(interrupt = true): void {
    this.pio = Pio.None;
    this.dmaPending = false;
    this.status = ST_DRDY | ST_DSC;
    if (interrupt) this.raiseIrq();
  }

  /** Finish the command with an error: ERR in status, `error` in the error register. */
  protected fail(error: number, extraStatus = 0): void {
    this.pio = Pio.None;
    this.dmaPending = false;
    this.error = error;
    this.status = ST_DRDY | ST_ERR | extraStatus;
    this.raiseIrq();
  }

  protected abort(): void { this.fail(ER_ABRT); }

  protected raiseIrq(): void {
    this.irqPending = true;
    this.channel.updateIrq();
  }

  clearIrq(): void {
    if (!this.irqPending) return;
    this.irqPending = false;
    this.channel.updateIrq();
  }

  /** Put an ATA string (two characters per word, first in the high byte) into `words`. */
  protected static putString(words: Uint16Array, first: number, count: number, s: string): void {
    const padded = s.padEnd(count * 2, ' ');
    for (let i = 0; i < count; i++) {
      words[first + i] = (padded.charCodeAt(2 * i) << 8) | padded.charCodeAt(2 * i + 1);
    }
  }

  /** Finish IDENTIFY data: copy words into the buffer with the integrity word (ATA 8.15.64). */
  protected putIdentify(words: Uint16Array): void {
    words[255] = 0xa5;
    let sum = 0;
    for (let i = 0; i < 255; i++) sum += (words[i] & 0xff) + (words[i] >>> 8);
    sum += 0xa5;
    words[255] = 0xa5 | (((-sum) & 0xff) << 8);
    for (let i = 0; i < 256; i++) { this.buf[2 * i] = words[i]; this.buf[2 * i + 1] = words[i] >>> 8; }
  }
}
