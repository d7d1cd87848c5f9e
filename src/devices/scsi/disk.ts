// A SCSI direct-access device (SBC-2) on any BlockDevice with 512-byte sectors: a VHD, a raw
// image, an undo disk. READ and WRITE in their 6-, 10-, 12- and 16-byte forms, READ CAPACITY
// (10) and (16), VERIFY, SYNCHRONIZE CACHE wired to the block device's flush, MODE SENSE and
// MODE SELECT with the read-write error recovery, disconnect-reconnect, format, rigid disk
// geometry, caching and control pages, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL and
// TEST UNIT READY.
//
// Errors: an LBA range past the last block is ILLEGAL REQUEST / LOGICAL BLOCK ADDRESS OUT OF
// RANGE; a host read failure MEDIUM ERROR / UNRECOVERED READ ERROR and a write or flush failure
// MEDIUM ERROR / WRITE ERROR, both with the failing LBA in the information field; a write to a
// read-only device DATA PROTECT / WRITE PROTECTED.

import type { BlockDevice } from '../../disk/block-device.ts';
import { defineState } from '../../state/state.ts';
import {
  Direction, outLength, get16, get24, get32, get64, put16, put32, put64, SENSE, STATUS_GOOD,
  type DataBuffer, type ScsiResult,
} from './scsi.ts';
import { CHUNK, ScsiTargetBase, TARGET_STATE, type InquiryStrings } from './target.ts';

const SECTOR = 512;
/** The geometry the rigid disk page reports (what a BIOS translation would choose does not matter to SCSI). */
const HEADS = 16, SECTORS_PER_TRACK = 63;

export interface ScsiDiskOptions extends InquiryStrings {}

export class ScsiDisk extends ScsiTargetBase {
  readonly stateDesc = defineState('scsi-disk', 1, { ...TARGET_STATE, writeCache: 'bool' });
  protected readonly deviceType = 0x00;
  protected readonly removable = false;
  /** The caching page's WCE bit (writes reach the block device at once either way). */
  private writeCache = true;
  private readonly staging = new Uint8Array(CHUNK);

  constructor(readonly disk: BlockDevice, options: ScsiDiskOptions = {}) {
    super(options, { vendor: 'Msft', product: 'Virtual Disk', revision: '1.0', serial: 'SV00000000000001' });
    if (disk.sectorSize !== SECTOR) throw new RangeError(`a SCSI disk needs 512-byte sectors, got ${disk.sectorSize}`);
  }

  protected command(c: Uint8Array, data: DataBuffer): ScsiResult {
    switch (c[0]) {
      case 0x00: return this.good();                       // TEST UNIT READY
      case 0x1b: return this.good();                       // START STOP UNIT: always spinning
      case 0x1e: return this.good();                       // PREVENT ALLOW MEDIUM REMOVAL
      case 0x2b: return this.seek(get32(c, 2));            // SEEK(10)
      case 0x25: return this.readCapacity10(c, data);
      case 0x9e:                                           // SERVICE ACTION IN(16)
        if ((c[1] & 0x1f) === 0x10) return this.readCapacity16(c, data);
        return this.check(SENSE.invalidFieldInCdb);
      case 0x08: return this.read(get24(c, 1) & 0x1fffff, c[4] || 256, data);
      case 0x28: return this.read(get32(c, 2), get16(c, 7), data);
      case 0xa8: return this.read(get32(c, 2), get32(c, 6), data);
      case 0x88: return this.read(get64(c, 2), get32(c, 10), data);
      case 0x0a: return this.write(get24(c, 1) & 0x1fffff, c[4] || 256, data);
      case 0x2a: return this.write(get32(c, 2), get16(c, 7), data);
      case 0xaa: return this.write(get32(c, 2), get32(c, 6), data);
      case 0x8a: return this.write(get64(c, 2), get32(c, 10), data);
      case 0x2f: return this.verify(get32(c, 2), get16(c, 7), (c[1] & 2) !== 0, data);
      case 0x8f: return this.verify(get64(c, 2), get32(c, 10), (c[1] & 2) !== 0, data);
      case 0x35: case 0x91: return this.synchronizeCache();
      case 0x1a: return this.modeSense(c, false, data);
      case 0x5a: return this.modeSense(c, true, data);
      case 0x15: return this.modeSelect(c, false, data);
      case 0x55: return this.modeSelect(c, true, data);
      default: return this.check(SENSE.invalidOpcode);
    }
  }

  private get blocks(): number { return this.disk.sectorCount; }

  private inRange(lba: number, count: number): boolean { return lba + count <= this.blocks; }

  private seek(lba: number): ScsiResult {
    return lba < this.blocks ? this.good() : this.check(SENSE.lbaOutOfRange);
  }

  private readCapacity10(c: Uint8Array, data: DataBuffer): ScsiResult {
    if ((c[8] & 1) === 0 && get32(c, 2) !== 0) return this.check(SENSE.invalidFieldInCdb); // PMI clear needs LBA 0
    const b = this.clear(8);
    // SBC-2 5.10: a capacity beyond 32 bits reports FFFFFFFFh and READ CAPACITY(16) tells the rest.
    put32(b, 0, Math.min(this.blocks - 1, 0xffffffff));
    put32(b, 4, SECTOR);
    return this.dataIn(8, 8, data);
  }

  private readCapacity16(c: Uint8Array, data: DataBuffer): ScsiResult {
    const b = this.clear(32);
    put64(b, 0, this.blocks - 1);
    put32(b, 8, SECTOR);
    return this.dataIn(32, get32(c, 10), data);
  }

  private read(lba: number, count: number, data: DataBuffer): ScsiResult {
    if (!this.inRange(lba, count)) return this.check(SENSE.lbaOutOfRange);
    return this.readBlocks(this.disk, lba, count, data, this.staging);
  }

  private write(lba: number, count: number, data: DataBuffer): ScsiResult {
    if (!this.inRange(lba, count)) return this.check(SENSE.lbaOutOfRange);
    if (this.disk.readOnly) return this.check(SENSE.writeProtected);
    const wanted = count * SECTOR;
    if (outLength(data) < wanted) return this.shortOut(wanted, data);
    let moved = 0;
    while (moved < wanted) {
      const n = Math.min(CHUNK, wanted - moved);
      const chunk = this.staging.subarray(0, n);
      data.read(moved, chunk);
      const sector = lba + moved / SECTOR;
      try {
        this.disk.write(sector, chunk);
      } catch {
        return { ...this.check(SENSE.writeError, sector), direction: Direction.Out, wanted, moved };
      }
      moved += n;
    }
    return { status: STATUS_GOOD, direction: Direction.Out, wanted, moved, sense: null };
  }

  /** VERIFY: BYTCHK 0 checks the blocks can be read; BYTCHK 1 compares them with data-out. */
  private verify(lba: number, count: number, byteCheck: boolean, data: DataBuffer): ScsiResult {
    if (!this.inRange(lba, count)) return this.check(SENSE.lbaOutOfRange);
    const wanted = byteCheck ? count * SECTOR : 0;
    if (outLength(data) < wanted) return this.shortOut(wanted, data);
    const theirs = new Uint8Array(SECTOR), ours = this.staging.subarray(0, SECTOR);
    for (let i = 0; i < count; i++) {
      try { this.disk.read(lba + i, ours); } catch { return this.check(SENSE.readError, lba + i); }
      if (!byteCheck) continue;
      data.read(i * SECTOR, theirs);
      for (let j = 0; j < SECTOR; j++) {
        if (theirs[j] !== ours[j]) {
          const r = this.check(SENSE.miscompare, i * SECTOR + j); // information: offset of the first difference
          return { ...r, direction: Direction.Out, wanted, moved: (i + 1) * SECTOR };
        }
      }
    }
    return { status: STATUS_GOOD, direction: byteCheck ? Direction.Out : Direction.None, wanted, moved: wanted, sense: null };
  }

  private synchronizeCache(): ScsiResult {
    if (this.disk.readOnly) return this.good();
    try { this.disk.flush(); } catch { return this.check(SENSE.writeError); }
    return this.good();
  }

  // ---- mode pages (SBC-2 6.3) ----

  /** Append mode page `page` (current, changeable or default values) at `n`; returns the new end. */
  private modePage(b: Uint8Array, n: number, page: number, pc: number): number {
    const changeable = pc === 1;
    const cyl = Math.max(1, Math.floor(this.blocks / (HEADS * SECTORS_PER_TRACK)));
    switch (page) {
      case 0x01: b.set([0x01, 0x0a, changeable ? 0 : 0x80], n); return n + 12;     // read-write error recovery: AWRE
      case 0x02: b.set([0x02, 0x0e], n); return n + 16;                           // disconnect-reconnect
      case 0x03: {                                                                 // format device
        b.set([0x03, 0x16], n);
        if (!changeable) { put16(b, n + 10, SECTORS_PER_TRACK); put16(b, n + 12, SECTOR); b[n + 20] = 0x40; } // hard sectored
        return n + 24;
      }
      case 0x04: {                                                                 // rigid disk geometry
        b.set([0x04, 0x16], n);
        if (!changeable) { b[n + 2] = cyl >>> 16; b[n + 3] = cyl >>> 8; b[n + 4] = cyl; b[n + 5] = HEADS; put16(b, n + 20, 7200); }
        return n + 24;
      }
      case 0x08:                                                                   // caching: WCE changeable
        b.set([0x08, 0x12, changeable ? 0x04 : (pc === 2 || this.writeCache ? 0x04 : 0)], n);
        return n + 20;
      case 0x0a: b.set([0x0a, 0x0a], n); return n + 12;                           // control
      default: return -1;
    }
  }

  private modeSense(c: Uint8Array, ten: boolean, data: DataBuffer): ScsiResult {
    const dbd = (c[1] & 0x08) !== 0, pc = c[2] >>> 6, page = c[2] & 0x3f, subpage = c[3];
    const allocation = ten ? get16(c, 7) : c[4];
    if (pc === 3) return this.check(SENSE.savingNotSupported);
    if (subpage !== 0 && subpage !== 0xff) return this.check(SENSE.invalidFieldInCdb);
    const b = this.clear(512), header = ten ? 8 : 4;
    let n = header;
    if (!dbd) { // one short block descriptor: block count (or FFFFFFh) and 512-byte blocks
      const count = Math.min(this.blocks, 0xffffff);
      b[n + 1] = count >>> 16; b[n + 2] = count >>> 8; b[n + 3] = count;
      b[n + 6] = SECTOR >>> 8; b[n + 7] = SECTOR & 0xff;
      n += 8;
    }
    const afterDescriptors = n;
    for (const p of page === 0x3f ? [0x01, 0x02, 0x03, 0x04, 0x08, 0x0a] : [page]) {
      const end = this.modePage(b, n, p, pc);
      if (end < 0) return this.check(SENSE.invalidFieldInCdb);
      n = end;
    }
    const wp = this.disk.readOnly ? 0x80 : 0; // device-specific parameter: write protect
    if (ten) { put16(b, 0, n - 2); b[3] = wp; put16(b, 6, afterDescriptors - header); }
    else { b[0] = n - 1; b[2] = wp; b[3] = afterDescriptors - header; }
    return this.dataIn(n, allocation, data);
  }

  /**
   * MODE SELECT: the parameter list is a mode parameter header, optional block descriptors
   * and pages. Only the caching page's WCE bit may change; anything else must match the
   * current values (SPC-3 6.7: otherwise INVALID FIELD IN PARAMETER LIST).
   */
  private modeSelect(c: Uint8Array, ten: boolean, data: DataBuffer): ScsiResult {
    const length = ten ? get16(c, 7) : c[4];
    if ((c[1] & 0x01) !== 0) return this.check(SENSE.savingNotSupported); // SP: save pages
    const list = new Uint8Array(length);
    const short = this.dataOut(length, data, list);
    if (short) return short;
    const header = ten ? 8 : 4;
    if (length === 0) return this.good();
    if (length < header) return this.check(SENSE.parameterListLength);
    const descLength = ten ? get16(list, 6) : list[3];
    let n = header + descLength;
    if (n > length || (descLength !== 0 && descLength !== 8)) return this.check(SENSE.invalidFieldInParameterList);
    if (descLength === 8 && get16(list, header + 6) !== SECTOR) return this.check(SENSE.invalidFieldInParameterList);
    const current = new Uint8Array(64);
    let wce = this.writeCache;
    while (n < length) {
      if (n + 2 > length) return this.check(SENSE.parameterListLength);
      const page = list[n] & 0x3f, len = list[n + 1];
      if (n + 2 + len > length) return this.check(SENSE.parameterListLength);
      current.fill(0);
      const end = this.modePage(current, 0, page, 0);
      if (end < 0 || end !== len + 2) return this.check(SENSE.invalidFieldInParameterList);
      for (let i = 2; i < end; i++) {
        const mask = page === 0x08 && i === 2 ? ~0x04 : 0xff; // WCE may change
        if ((list[n + i] & mask) !== (current[i] & mask)) return this.check(SENSE.invalidFieldInParameterList);
      }
      if (page === 0x08) wce = (list[n + 2] & 0x04) !== 0;
      n += 2 + len;
    }
    this.writeCache = wce;
    return { status: STATUS_GOOD, direction: Direction.Out, wanted: length, moved: length, sense: null };
  }
}
