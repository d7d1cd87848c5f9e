// What every SCSI target here shares (SPC-3): one logical unit (LUN 0), the sense data kept
// for REQUEST SENSE, the unit attention a reset leaves pending, INQUIRY's framing and vital
// product data pages, REPORT LUNS, and the helpers that move data through the initiator's
// buffer and build results.
//
// Unit attention (SPC-3 5.9.7 and SAM-2 5.9.7): after power-on or a bus reset, the first
// command other than INQUIRY, REPORT LUNS and REQUEST SENSE ends in CHECK CONDITION with
// UNIT ATTENTION / POWER ON, RESET, OR BUS DEVICE RESET OCCURRED; REQUEST SENSE reports and
// clears it. A LUN other than 0 answers INQUIRY with peripheral qualifier 011b ("not capable
// of supporting a device on this logical unit") and everything else but REQUEST SENSE and
// REPORT LUNS with LOGICAL UNIT NOT SUPPORTED.

import {
  cdbLength, Direction, inLength, outLength, get16, get32, put16, put32, putAscii, SENSE, senseBytes, STATUS_CHECK_CONDITION, STATUS_GOOD,
  type DataBuffer, type ScsiResult, type ScsiTarget, type Sense,
} from './scsi.ts';
import type { StateDesc } from '../../state/state.ts';
import type { BlockDevice } from '../../disk/block-device.ts';

const OP_REQUEST_SENSE = 0x03;
const OP_INQUIRY = 0x12;
const OP_REPORT_LUNS = 0xa0;
/** Commands a pending unit attention does not stop (SPC-3 5.9.7). */
const PASS_UNIT_ATTENTION = new Set([OP_INQUIRY, OP_REQUEST_SENSE, OP_REPORT_LUNS]);

export interface InquiryStrings {
  /** T10 vendor identification (8 characters). */
  vendor?: string;
  /** Product identification (16 characters). */
  product?: string;
  /** Product revision level (4 characters). */
  revision?: string;
  /** Unit serial number (VPD page 80h). */
  serial?: string;
}

/** Fields of the saved state every target has (spread into a subclass's defineState). */
export const TARGET_STATE = {
  senseKey: { type: 'u8', max: 15 }, asc: 'u8', ascq: 'u8', senseInfo: 'f64',
  uaPending: 'bool', uaKey: { type: 'u8', max: 15 }, uaAsc: 'u8', uaAscq: 'u8',
} as const;

/** Bytes moved per step of a READ or WRITE (bounds the staging buffer, not the transfer). */
export const CHUNK = 64 * 1024;

export abstract class ScsiTargetBase implements ScsiTarget {
  abstract readonly stateDesc: StateDesc;
  /** Sense data of the last command that failed, for REQUEST SENSE. */
  protected senseKey = 0; protected asc = 0; protected ascq = 0;
  /** The sense data's information field (an LBA, an offset), or -1 for none. */
  protected senseInfo = -1;
  protected uaPending = true;
  protected uaKey: number = SENSE.powerOnReset[0];
  protected uaAsc: number = SENSE.powerOnReset[1];
  protected uaAscq: number = SENSE.powerOnReset[2];
  /** Where replies are built (large enough for any non-READ reply). */
  protected readonly reply = new Uint8Array(4096);
  protected readonly strings: Required<InquiryStrings>;

  constructor(strings: InquiryStrings, defaults: Required<InquiryStrings>) {
    this.strings = { ...defaults, ...Object.fromEntries(Object.entries(strings).filter(([, v]) => v !== undefined)) } as Required<InquiryStrings>;
  }

  /** Peripheral device type of LUN 0 (SPC-3 table 83): 0 disk, 5 CD/DVD. */
  protected abstract readonly deviceType: number;
  protected abstract readonly removable: boolean;
  /** The device-specific part of a command (LUN 0, no unit attention in the way). */
  protected abstract command(cdb: Uint8Array, data: DataBuffer): ScsiResult;

  busReset(): void {
    this.setUnitAttention(SENSE.powerOnReset);
    this.setSense(SENSE.noSense);
  }

  protected setUnitAttention(s: Sense): void {
    this.uaPending = true;
    [this.uaKey, this.uaAsc, this.uaAscq] = s;
  }

  execute(lun: number, cdb: Uint8Array, data: DataBuffer): ScsiResult {
    const op = cdb[0];
    const need = cdbLength(op);
    if (need === 0) return this.check(SENSE.invalidOpcode);
    if (cdb.length < need) return this.check(SENSE.invalidFieldInCdb);
    if (lun !== 0) return this.otherLun(cdb, data);
    if (this.uaPending && !PASS_UNIT_ATTENTION.has(op)) {
      this.uaPending = false;
      return this.check([this.uaKey, this.uaAsc, this.uaAscq]);
    }
    switch (op) {
      case OP_REQUEST_SENSE: return this.requestSense(cdb, data);
      case OP_INQUIRY: return this.inquiry(cdb, data);
      case OP_REPORT_LUNS: return this.reportLuns(cdb, data);
      default: {
        const r = this.command(cdb, data);
        if (r.status === STATUS_GOOD) this.setSense(SENSE.noSense);
        return r;
      }
    }
  }

  private otherLun(cdb: Uint8Array, data: DataBuffer): ScsiResult {
    const b = this.clear(36);
    switch (cdb[0]) {
      case OP_INQUIRY:
        if (cdb[1] & 1) return this.check(SENSE.lunNotSupported);
        b[0] = 0x7f; // qualifier 011b, type 1Fh
        b[2] = 0x05; b[3] = 0x02; b[4] = 31;
        return this.dataIn(36, get16(cdb, 3), data);
      case OP_REQUEST_SENSE:
        b.set(senseBytes(SENSE.lunNotSupported));
        return this.dataIn(18, cdb[4], data);
      case OP_REPORT_LUNS: return this.reportLuns(cdb, data);
      default: return this.check(SENSE.lunNotSupported);
    }
  }

  private requestSense(cdb: Uint8Array, data: DataBuffer): ScsiResult {
    if (cdb[1] & 1) return this.check(SENSE.invalidFieldInCdb); // descriptor format: not supported
    let s: Sense = [this.senseKey, this.asc, this.ascq], info = this.senseInfo;
    if (this.uaPending) { this.uaPending = false; s = [this.uaKey, this.uaAsc, this.uaAscq]; info = -1; }
    this.clear(18).set(senseBytes(s, info >= 0 ? info : undefined));
    this.setSense(SENSE.noSense); // reported, so cleared
    return this.dataIn(18, cdb[4], data);
  }

  private inquiry(cdb: Uint8Array, data: DataBuffer): ScsiResult {
    const evpd = (cdb[1] & 1) !== 0, page = cdb[2], allocation = get16(cdb, 3);
    if (!evpd) {
      if (page !== 0) return this.check(SENSE.invalidFieldInCdb);
      const b = this.clear(36);
      b[0] = this.deviceType;
      b[1] = this.removable ? 0x80 : 0;
      b[2] = 0x05;  // SPC-3
      b[3] = 0x02;  // response data format 2
      b[4] = 31;    // additional length
      b[7] = 0x00;  // no tagged queuing, no linked commands, narrow
      putAscii(b, 8, 8, this.strings.vendor);
      putAscii(b, 16, 16, this.strings.product);
      putAscii(b, 32, 4, this.strings.revision);
      return this.dataIn(36, allocation, data);
    }
    const b = this.clear(256);
    b[0] = this.deviceType;
    b[1] = page;
    let n: number;
    switch (page) {
      case 0x00: b.set([0x00, 0x80, 0x83], 4); n = 3; break; // supported pages
      case 0x80: n = this.strings.serial.length; putAscii(b, 4, n, this.strings.serial); break;
      case 0x83: { // device identification: one T10 vendor ID designator (vendor + product + serial)
        const id = this.strings.vendor.padEnd(8, ' ') + this.strings.product.padEnd(16, ' ') + this.strings.serial;
        b[4] = 0x02; // code set ASCII
        b[5] = 0x01; // association LU, designator type T10 vendor ID
        b[7] = id.length;
        putAscii(b, 8, id.length, id);
        n = 4 + id.length;
        break;
      }
      default: return this.check(SENSE.invalidFieldInCdb);
    }
    put16(b, 2, n);
    return this.dataIn(4 + n, allocation, data);
  }

  private reportLuns(cdb: Uint8Array, data: DataBuffer): ScsiResult {
    const allocation = get32(cdb, 6);
    if (allocation < 16) return this.check(SENSE.invalidFieldInCdb); // SPC-3 6.21
    if (cdb[2] > 2) return this.check(SENSE.invalidFieldInCdb);      // select report
    const b = this.clear(16);
    put32(b, 0, 8); // one LUN: 0 (the 8-byte entry stays zero)
    return this.dataIn(16, allocation, data);
  }

  // ---- helpers for targets ----

  protected setSense([key, asc, ascq]: Sense, information = -1): void {
    this.senseKey = key; this.asc = asc; this.ascq = ascq; this.senseInfo = information;
  }

  /** Zero the first `n` bytes of the reply buffer and return it. */
  protected clear(n: number): Uint8Array { this.reply.fill(0, 0, n); return this.reply; }

  protected good(): ScsiResult {
    return { status: STATUS_GOOD, direction: Direction.None, wanted: 0, moved: 0, sense: null };
  }

  /** CHECK CONDITION: the sense is kept for REQUEST SENSE and returned for auto-sense. */
  protected check(s: Sense, information?: number): ScsiResult {
    this.setSense(s, information);
    return { status: STATUS_CHECK_CONDITION, direction: Direction.None, wanted: 0, moved: 0, sense: senseBytes(s, information) };
  }

  /** Send the first `len` bytes of the reply buffer, cut to the allocation length. */
  protected dataIn(len: number, allocation: number, data: DataBuffer): ScsiResult {
    const wanted = Math.min(len, allocation), moved = Math.min(wanted, inLength(data));
    if (moved > 0) data.write(0, this.reply.subarray(0, moved));
    return { status: STATUS_GOOD, direction: Direction.In, wanted, moved, sense: null };
  }

  /**
   * Fetch `len` bytes of parameter data (MODE SELECT, VERIFY with BYTCHK) into `dst`. When the
   * initiator offers fewer, the command is not performed: the adapter's overrun, and for the
   * target an initiator-detected error.
   */
  protected dataOut(len: number, data: DataBuffer, dst: Uint8Array): ScsiResult | null {
    if (outLength(data) < len) return this.shortOut(len, data);
    if (len > 0) data.read(0, dst.subarray(0, len));
    return null;
  }

  /** The initiator ran out of data-out bytes: nothing done. */
  protected shortOut(len: number, data: DataBuffer): ScsiResult {
    const r = this.check(SENSE.initiatorDetectedError);
    return { ...r, direction: Direction.Out, wanted: len, moved: outLength(data) };
  }

  /**
   * Send `count` blocks from `dev` at `lba` (already checked to lie on it): whole blocks that
   * fit, then the part of one more (the rest is the adapter's overrun). A host read failure is
   * MEDIUM ERROR / UNRECOVERED READ ERROR with the failing block in the information field.
   */
  protected readBlocks(dev: BlockDevice, lba: number, count: number, data: DataBuffer, staging: Uint8Array): ScsiResult {
    const size = dev.sectorSize, wanted = count * size, fit = Math.min(wanted, inLength(data));
    let moved = 0;
    while (moved < fit) {
      const n = Math.min(staging.length, Math.ceil((fit - moved) / size) * size);
      const block = lba + moved / size, chunk = staging.subarray(0, n);
      try {
        dev.read(block, chunk);
      } catch {
        return { ...this.check(SENSE.readError, block), direction: Direction.In, wanted, moved };
      }
      const take = Math.min(n, fit - moved);
      data.write(moved, take === n ? chunk : chunk.subarray(0, take));
      moved += take;
    }
    return { status: STATUS_GOOD, direction: Direction.In, wanted, moved, sense: null };
  }
}
