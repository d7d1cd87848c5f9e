// An ATAPI CD-ROM drive reading an ISO image (a BlockDevice with 2048-byte sectors).
//
// ATA side (ATA/ATAPI-6 9.10-9.11): PACKET takes a 12-byte command through the data port,
// then moves data in DRQ blocks no larger than the byte count limit the host wrote to LBA
// mid/high, telling it each block's size there and the phase in the interrupt reason
// register (sector count: CoD bit 0, IO bit 1). With feature bit 0 set, the data goes by DMA.
// Packet side (MMC-2/MMC-3, SPC): the commands Linux's sr/cdrom, isolinux, Windows setup and
// their BIOSes use, fixed-format sense data, UNIT ATTENTION after a media change and the
// media event class of GET EVENT STATUS NOTIFICATION.

import type { BlockDevice } from '../../disk/block-device.ts';
import { defineState } from '../../state/state.ts';
import { IdeDevice, Pio, ST_BSY, ST_DRDY, ST_DRQ, ST_DSC } from './ide-device.ts';
import {
  capabilitiesPage, getConfiguration, getEventStatus, mechanismStatus, readDiscInformation, readToc, type DriveState,
} from '../scsi/mmc.ts';
import { get32, put16, put32, putAscii, type Sense } from '../scsi/scsi.ts';

export const CD_SECTOR = 2048;
const BUFFER_SECTORS = 32;

// Interrupt reason (sector count register).
const IR_COD = 0x01;
const IR_IO = 0x02;

// Sense keys and additional sense codes.
export const SENSE_NONE = 0x0;
export const SENSE_NOT_READY = 0x2;
export const SENSE_MEDIUM_ERROR = 0x3;
export const SENSE_ILLEGAL_REQUEST = 0x5;
export const SENSE_UNIT_ATTENTION = 0x6;
export const ASC_INVALID_OPCODE = 0x20;
export const ASC_LBA_OUT_OF_RANGE = 0x21;
export const ASC_INVALID_FIELD = 0x24;
export const ASC_MEDIUM_CHANGED = 0x28;
export const ASC_MEDIUM_NOT_PRESENT = 0x3a;
export const ASC_REMOVAL_PREVENTED = 0x53;
const ASC_READ_ERROR = 0x11;
const ASC_SAVING_NOT_SUPPORTED = 0x39;

/** Commands that run even with a unit attention pending (SPC-3 5.x, MMC-5 4.1.6). */
const IGNORE_UNIT_ATTENTION = new Set([0x03, 0x12, 0x46, 0x4a]);
/** Commands that need a disc in the drive. */
const NEEDS_MEDIA = new Set([0x00, 0x25, 0x28, 0xa8, 0x43, 0x51, 0xbe, 0x2b, 0x52]);

export interface AtapiCdromOptions {
  model?: string;
  serial?: string;
  firmware?: string;
  vendor?: string;   // INQUIRY vendor (8 characters)
  product?: string;  // INQUIRY product (16 characters)
  /** The guest ejected the disc (START STOP UNIT with LoEj). */
  onEject?: () => void;
}

const enum Phase { Idle, Packet, Data }

export class AtapiCdrom extends IdeDevice {
  readonly isAtapi = true;
  readonly stateDesc = defineState('atapi-cdrom', 1, {
    ...this.baseState(),
    unitAttention: 'bool', senseKey: 'u8', asc: 'u8', ascq: 'u8', locked: 'bool', mediaEvent: { type: 'u8', max: 3 },
    transferMode: 'u8', phase: { type: 'u8', max: Phase.Data }, cdb: { bytes: 12 }, dma: 'bool',
    remaining: 'u32', bufPos: { type: 'u32', max: BUFFER_SECTORS * CD_SECTOR }, bufLen: { type: 'u32', max: BUFFER_SECTORS * CD_SECTOR },
    readLba: 'u32', readLeft: 'u32',
  });
  private media: BlockDevice | undefined;
  private readonly opts: AtapiCdromOptions;
  private unitAttention = false;
  private senseKey = 0; private asc = 0; private ascq = 0;
  private locked = false;
  /** Media event for GET EVENT STATUS NOTIFICATION: 0 none, 1 eject request, 2 new media, 3 removal. */
  private mediaEvent = 0;
  transferMode = 0x42;

  private phase = Phase.Idle;
  private readonly cdb = new Uint8Array(12);
  private dma = false;
  /** Bytes of the command's data still to reach the host. */
  private remaining = 0;
  /** Data in `buf` not yet sent: [bufPos, bufLen). */
  private bufPos = 0;
  private bufLen = 0;
  /** Sectors still to load from the disc for a read command. */
  private readLba = 0;
  private readLeft = 0;

  constructor(media: BlockDevice | undefined, options: AtapiCdromOptions = {}) {
    super(BUFFER_SECTORS * CD_SECTOR);
    if (media && media.sectorSize !== CD_SECTOR) throw new RangeError(`a CD-ROM needs 2048-byte sectors, got ${media.sectorSize}`);
    this.media = media;
    this.opts = options;
  }

  get hasMedia(): boolean { return this.media !== undefined; }
  /** The disc in the drive (the BIOS boots from it), or undefined. */
  get medium(): BlockDevice | undefined { return this.media; }

  /** Put a disc in (or swap it): the guest sees UNIT ATTENTION and a new-media event. */
  insert(media: BlockDevice): void {
    if (media.sectorSize !== CD_SECTOR) throw new RangeError(`a CD-ROM needs 2048-byte sectors, got ${media.sectorSize}`);
    this.media = media;
    this.unitAttention = true;
    this.mediaEvent = 2;
  }

  /** Take the disc out (the host's eject; the guest's lock is the user's business). */
  eject(): void {
    if (!this.media) return;
    this.media = undefined;
    this.unitAttention = true;
    this.mediaEvent = 3;
  }

  override reset(): void {
    super.reset();
    this.phase = Phase.Idle;
  }

  command(cmd: number): void {
    this.phase = Phase.Idle;
    switch (cmd) {
      case 0xa0: return this.packet();
      case 0xa1: this.putIdentify(this.identifyWords()); this.startPio(Pio.In, 512, true); return;
      case 0x08: this.reset(); return; // DEVICE RESET: no interrupt
      case 0x90: return this.channel.executeDiagnostic();
      case 0xef:
        if (this.feature === 0x03) {
          const mode = this.count, kind = mode >>> 3, n = mode & 7;
          if (mode <= 1 || (kind === 1 && n <= 4) || (kind === 4 && n <= 2) || (kind === 8 && n <= 5)) {
            this.transferMode = mode;
            return this.complete();
          }
        }
        return this.abort();
      case 0xe5: case 0x98: this.count = 0xff; return this.complete();
      case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: case 0x94: case 0x95: case 0x96: case 0x97: case 0x99:
        return this.complete();
      case 0xec: case 0x20: case 0x21: case 0x24: case 0xc8: case 0x25:
        // ATA-6 9.1: an ATAPI device aborts these with its signature, so drivers can tell what it is.
        this.abort();
        this.setSignature();
        return;
      default: return this.abort();
    }
  }

  // ---- the PACKET protocol ----

  private packet(): void {
    this.dma = (this.feature & 1) !== 0;
    this.phase = Phase.Packet;
    this.count = IR_COD;
    this.startPio(Pio.Out, 12, false);
  }

  protected pioDone(): void {
    if (this.phase === Phase.Packet) {
      this.cdb.set(this.buf.subarray(0, 12));
      this.phase = Phase.Idle;
      this.execute();
    } else if (this.phase === Phase.Data) {
      this.remaining -= this.end - this.bufPos;
      this.bufPos = this.end;
      this.nextChunk();
    } else {
      this.status = ST_DRDY | ST_DSC; // end of IDENTIFY PACKET DEVICE data
    }
  }

  /** Byte count limit from LBA mid/high: even, and 0 taken as the largest. */
  private get byteCountLimit(): number {
    const limit = this.lbaMid | (this.lbaHigh << 8);
    return limit === 0 ? 0xfffe : limit & ~1 || 2;
  }

  /** Start sending `remaining` bytes: from the buffer as filled, or disc sectors via refill(). */
  private sendData(): void {
    if (this.remaining === 0) return this.ok();
    this.phase = Phase.Data;
    if (this.dma) {
      this.status = ST_BSY | ST_DRDY | ST_DSC | ST_DRQ; // busy with the transfer until the bus master has it
      this.channel.dmaRequest(this);
      return;
    }
    this.nextChunk();
  }

  private nextChunk(): void {
    if (this.remaining <= 0) return this.ok();
    if (this.bufPos >= this.bufLen && !this.refill()) return;
    let len = Math.min(this.remaining, this.bufLen - this.bufPos);
    const limit = this.byteCountLimit;
    if (len > limit) len = limit;
    this.lbaMid = len & 0xff;
    this.lbaHigh = (len >>> 8) & 0xff;
    this.count = IR_IO;
    this.startPio(Pio.In, len, true, this.bufPos);
  }

  /** Load the next sectors of a read command into the buffer. False after a read error. */
  private refill(): boolean {
    const n = Math.min(BUFFER_SECTORS, this.readLeft);
    if (n === 0 || !this.media) { this.checkCondition(SENSE_MEDIUM_ERROR, ASC_READ_ERROR); return false; }
    try {
      this.media.read(this.readLba, this.buf.subarray(0, n * CD_SECTOR));
    } catch {
      this.checkCondition(SENSE_MEDIUM_ERROR, ASC_READ_ERROR);
      return false;
    }
    this.readLba += n;
    this.readLeft -= n;
    this.bufPos = 0;
    this.bufLen = n * CD_SECTOR;
    return true;
  }

  runDma(): void {
    const bm = this.channel.busMaster;
    if (!bm || !this.dmaPending || this.phase !== Phase.Data) return;
    while (this.remaining > 0) {
      if (this.bufPos >= this.bufLen && !this.refill()) return;
      const len = Math.min(this.remaining, this.bufLen - this.bufPos);
      const moved = bm.transfer(this.buf, this.bufPos, len, true);
      this.bufPos += moved;
      this.remaining -= moved;
      if (moved < len) return; // PRD table ran out: wait for a reset
    }
    bm.deviceDone();
    this.ok();
  }

  /** GOOD status: interrupt reason "command complete". */
  private ok(): void {
    this.phase = Phase.Idle;
    this.error = 0;
    this.count = IR_IO | IR_COD;
    this.setSense(SENSE_NONE, 0);
    this.complete();
  }

  /** CHECK CONDITION: the sense key in the error register's high nibble (as QEMU and drives report it), sense kept for REQUEST SENSE. */
  private checkCondition(key: number, asc: number, ascq = 0): void {
    this.phase = Phase.Idle;
    this.setSense(key, asc, ascq);
    this.count = IR_IO | IR_COD;
    this.fail(key << 4);
  }

  private setSense(key: number, asc: number, ascq = 0): void {
    this.senseKey = key; this.asc = asc; this.ascq = ascq;
  }

  /** Reply with `data` (already in the buffer, `len` bytes), cut to the allocation length. */
  private reply(len: number, allocation: number): void {
    this.bufPos = 0;
    this.bufLen = Math.min(len, allocation);
    this.readLeft = 0;
    this.remaining = this.bufLen;
    this.sendData();
  }

  // ---- packet commands ----

  private execute(): void {
    const c = this.cdb, op = c[0];
    if (this.unitAttention && !IGNORE_UNIT_ATTENTION.has(op)) {
      this.unitAttention = false;
      return this.checkCondition(SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED);
    }
    if (NEEDS_MEDIA.has(op) && !this.media) return this.checkCondition(SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
    const b = this.buf;
    b.fill(0, 0, 512);
    switch (op) {
      case 0x00: return this.ok(); // TEST UNIT READY
      case 0x03: return this.requestSense(c[4]);
      case 0x12: return this.inquiry(c[4]);
      case 0x1b: return this.startStop(c[4]);
      case 0x1e: this.locked = (c[4] & 1) !== 0; return this.ok(); // PREVENT ALLOW MEDIUM REMOVAL
      case 0x25: { // READ CAPACITY
        put32(b, 0, this.media!.sectorCount - 1);
        put32(b, 4, CD_SECTOR);
        return this.reply(8, 8);
      }
      case 0x28: return this.read(get32(c, 2), (c[7] << 8) | c[8]);
      case 0xa8: return this.read(get32(c, 2), get32(c, 6));
      case 0xbe: return this.readCd();
      case 0x2b: return this.ok(); // SEEK
      case 0xbb: return this.ok(); // SET CD SPEED
      case 0x43: return this.built(readToc(c, b, this.media!.sectorCount), (c[7] << 8) | c[8]);
      case 0x1a: return this.modeSense(false);
      case 0x5a: return this.modeSense(true);
      case 0x46: return this.built(getConfiguration(c, b, this.driveState, 2 /* ATAPI */), (c[7] << 8) | c[8]);
      case 0x4a: return this.getEventStatus();
      case 0xbd: return this.reply(mechanismStatus(b, this.driveState), (c[8] << 8) | c[9]);
      case 0x51: return this.built(readDiscInformation(c, b), (c[7] << 8) | c[8]);
      default:
        return this.checkCondition(SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
    }
  }

  private requestSense(allocation: number): void {
    const b = this.buf;
    if (this.unitAttention) { this.unitAttention = false; this.setSense(SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED); }
    b[0] = 0xf0; // valid, current error, fixed format
    b[2] = this.senseKey;
    b[7] = 10;   // additional sense length
    b[12] = this.asc;
    b[13] = this.ascq;
    this.setSense(SENSE_NONE, 0); // reported, so cleared
    this.reply(18, allocation);
  }

  private inquiry(allocation: number): void {
    const b = this.buf;
    b[0] = 0x05;  // CD/DVD device
    b[1] = 0x80;  // removable
    b[2] = 0x00;
    b[3] = 0x21;  // ATAPI, response data format 1
    b[4] = 31;    // additional length
    putAscii(b, 8, 8, this.opts.vendor ?? 'Msft');
    putAscii(b, 16, 16, this.opts.product ?? 'Virtual CD-ROM');
    putAscii(b, 32, 4, this.opts.firmware ?? '1.1.0');
    this.reply(36, allocation);
  }

  private startStop(flags: number): void {
    const loej = (flags & 2) !== 0, start = (flags & 1) !== 0;
    if (loej && !start) {
      if (this.locked) return this.checkCondition(SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
      if (this.media) {
        this.media = undefined;
        this.mediaEvent = 3;
        this.opts.onEject?.();
      }
    }
    this.ok();
  }

  private read(lba: number, count: number): void {
    const media = this.media!;
    if (lba + count > media.sectorCount) return this.checkCondition(SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
    this.readLba = lba;
    this.readLeft = count;
    this.bufPos = this.bufLen = 0;
    this.remaining = count * CD_SECTOR;
    this.sendData();
  }

  /** READ CD: only the user data of data sectors (what a reader of an ISO image can give). */
  private readCd(): void {
    const c = this.cdb, count = (c[6] << 16) | (c[7] << 8) | c[8], fields = c[9];
    if (fields === 0) return this.ok();
    if ((fields & 0xf8) !== 0x10) return this.checkCondition(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    this.read(get32(c, 2), count);
  }

  /** Send a reply built by src/devices/scsi/mmc.ts, or report its sense. */
  private built(r: number | Sense, allocation: number): void {
    if (typeof r === 'number') this.reply(r, allocation);
    else this.checkCondition(r[0], r[1], r[2]);
  }

  private get driveState(): DriveState { return { blocks: this.media?.sectorCount, locked: this.locked }; }

  private modeSense(ten: boolean): void {
    const c = this.cdb, pc = c[2] >>> 6, page = c[2] & 0x3f, b = this.buf;
    const allocation = ten ? (c[7] << 8) | c[8] : c[4];
    if (pc === 3) return this.checkCondition(SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
    let n = ten ? 8 : 4;
    const changeable = pc === 1;
    if (page === 0x01 || page === 0x3f) { // read error recovery
      b.set([0x01, 0x06, changeable ? 0 : 0x00, changeable ? 0 : 0x05, 0, 0, 0, 0], n);
      n += 8;
    }
    if (page === 0x2a || page === 0x3f) n = capabilitiesPage(b, n, this.driveState, changeable);
    if (n === (ten ? 8 : 4)) return this.checkCondition(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    const mediumType = this.media ? 0x01 : 0x70; // 120 mm data disc, or door closed/no disc
    if (ten) { put16(b, 0, n - 2); b[2] = mediumType; } else { b[0] = n - 1; b[1] = mediumType; }
    this.reply(n, allocation);
  }

  private getEventStatus(): void {
    const r = getEventStatus(this.cdb, this.buf, this.driveState, this.mediaEvent);
    if (Array.isArray(r)) return this.built(r as Sense, 0);
    const { length, reported } = r as { length: number; reported: boolean };
    if (reported) this.mediaEvent = 0;
    this.reply(length, (this.cdb[7] << 8) | this.cdb[8]);
  }

  identifyWords(): Uint16Array {
    const w = new Uint16Array(256), mode = this.transferMode;
    w[0] = 0x85c0; // ATAPI, CD-ROM, removable, accelerated DRQ, 12-byte packets
    IdeDevice.putString(w, 10, 10, this.opts.serial ?? 'SV00000000000002');
    IdeDevice.putString(w, 23, 4, this.opts.firmware ?? '1.1.0');
    IdeDevice.putString(w, 27, 20, this.opts.model ?? 'Virtual CD');
    w[49] = 0x0b00; // IORDY, LBA, DMA
    w[50] = 0x4000;
    w[53] = 0x0006; // words 64-70 and 88 are valid
    w[63] = 0x0007 | ((mode >>> 3) === 4 ? 0x100 << (mode & 7) : 0);
    w[64] = 0x0003;
    w[65] = 0xb4; w[66] = 0xb4; w[67] = 0x12c; w[68] = 0xb4;
    w[71] = 30; w[72] = 30;
    w[80] = 0x001e; // ATA-1 to ATA-4
    w[82] = 0x4010; w[83] = 0x4000; w[84] = 0x4000; // PACKET, NOP
    w[85] = 0x4010; w[86] = 0x0000; w[87] = 0x4000;
    w[88] = 0x003f | ((mode >>> 3) === 8 ? 0x100 << (mode & 7) : 0);
    w[93] = this.unit === 0 ? 0x600b : 0x6b00;
    return w;
  }
}

export { toMsf } from '../scsi/mmc.ts';
