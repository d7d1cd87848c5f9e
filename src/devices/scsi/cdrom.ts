// A SCSI CD-ROM drive (MMC-3) reading an ISO image (a BlockDevice with 2048-byte blocks), or
// empty. The disc-describing replies come from mmc.ts; this file adds the commands' SCSI
// side: READ(10)/(12), READ CD (user data only), READ CAPACITY, SEEK, START STOP UNIT with
// eject, PREVENT ALLOW MEDIUM REMOVAL, MODE SENSE(6/10) with pages 01h and 2Ah, and the
// NOT READY / MEDIUM NOT PRESENT and UNIT ATTENTION / MEDIUM CHANGED a tray drive reports.

import type { BlockDevice } from '../../disk/block-device.ts';
import { defineState } from '../../state/state.ts';
import {
  get16, get24, get32, put16, put32, SENSE, type DataBuffer, type ScsiResult, type Sense,
} from './scsi.ts';
import { CHUNK, ScsiTargetBase, TARGET_STATE, type InquiryStrings } from './target.ts';
import {
  CD_BLOCK, capabilitiesPage, getConfiguration, getEventStatus, mechanismStatus, readDiscInformation, readToc, type DriveState,
} from './mmc.ts';

function isSense(r: unknown): r is Sense { return Array.isArray(r); }

/** Commands that need a disc in the drive. */
const NEEDS_MEDIA = new Set([0x00, 0x25, 0x28, 0xa8, 0x43, 0x51, 0xbe, 0x2b, 0x52, 0x2f]);

export interface ScsiCdromOptions extends InquiryStrings {
  /** The guest ejected the disc (START STOP UNIT with LoEj). */
  onEject?: () => void;
}

export class ScsiCdrom extends ScsiTargetBase {
  readonly stateDesc = defineState('scsi-cdrom', 1, { ...TARGET_STATE, locked: 'bool', mediaEvent: { type: 'u8', max: 3 } });
  protected readonly deviceType = 0x05;
  protected readonly removable = true;
  private locked = false;
  /** Media event for GET EVENT STATUS NOTIFICATION: 0 none, 2 new media, 3 removal. */
  private mediaEvent = 0;
  private readonly staging = new Uint8Array(CHUNK);

  constructor(private media: BlockDevice | undefined, private readonly options: ScsiCdromOptions = {}) {
    super(options, { vendor: 'Msft', product: 'Virtual CD-ROM', revision: '1.0', serial: 'SV00000000000002' });
    if (media && media.sectorSize !== CD_BLOCK) throw new RangeError(`a CD-ROM needs 2048-byte sectors, got ${media.sectorSize}`);
  }

  get medium(): BlockDevice | undefined { return this.media; }

  /** Put a disc in (or swap it): the guest sees UNIT ATTENTION and a new-media event. */
  insert(media: BlockDevice): void {
    if (media.sectorSize !== CD_BLOCK) throw new RangeError(`a CD-ROM needs 2048-byte sectors, got ${media.sectorSize}`);
    this.media = media;
    this.mediaEvent = 2;
    this.setUnitAttention(SENSE.mediumChanged);
  }

  /** Take the disc out (the host's eject). */
  eject(): void {
    if (!this.media) return;
    this.media = undefined;
    this.mediaEvent = 3;
    this.setUnitAttention(SENSE.mediumChanged);
  }

  private get drive(): DriveState { return { blocks: this.media?.sectorCount, locked: this.locked }; }

  /** Send a reply built by an mmc.ts builder, or its sense. */
  private built(r: number | Sense, allocation: number, data: DataBuffer): ScsiResult {
    return typeof r === 'number' ? this.dataIn(r, allocation, data) : this.check(r);
  }

  protected command(c: Uint8Array, data: DataBuffer): ScsiResult {
    const op = c[0];
    if (NEEDS_MEDIA.has(op) && !this.media) return this.check(SENSE.mediumNotPresent);
    const b = this.clear(512);
    switch (op) {
      case 0x00: return this.good(); // TEST UNIT READY
      case 0x1b: return this.startStop(c[4]);
      case 0x1e: this.locked = (c[4] & 1) !== 0; return this.good();
      case 0x25: { // READ CAPACITY
        put32(b, 0, this.media!.sectorCount - 1);
        put32(b, 4, CD_BLOCK);
        return this.dataIn(8, 8, data);
      }
      case 0x28: return this.read(get32(c, 2), get16(c, 7), data);
      case 0xa8: return this.read(get32(c, 2), get32(c, 6), data);
      case 0xbe: { // READ CD: only the user data of data sectors (what an ISO image has)
        const fields = c[9], count = get24(c, 6);
        if (fields === 0) return this.good();
        if ((fields & 0xf8) !== 0x10) return this.check(SENSE.invalidFieldInCdb);
        return this.read(get32(c, 2), count, data);
      }
      case 0x2b: return get32(c, 2) < this.media!.sectorCount ? this.good() : this.check(SENSE.lbaOutOfRange);
      case 0xbb: return this.good(); // SET CD SPEED
      case 0x43: return this.built(readToc(c, b, this.media!.sectorCount), get16(c, 7), data);
      case 0x46: return this.built(getConfiguration(c, b, this.drive, 1 /* SCSI */), get16(c, 7), data);
      case 0x4a: {
        const r = getEventStatus(c, b, this.drive, this.mediaEvent);
        if (isSense(r)) return this.check(r);
        if (r.reported) this.mediaEvent = 0;
        return this.dataIn(r.length, get16(c, 7), data);
      }
      case 0x51: return this.built(readDiscInformation(c, b), get16(c, 7), data);
      case 0xbd: return this.dataIn(mechanismStatus(b, this.drive), get16(c, 8), data);
      case 0x1a: return this.modeSense(c, false, data);
      case 0x5a: return this.modeSense(c, true, data);
      default: return this.check(SENSE.invalidOpcode); // writes included: a CD-ROM has none
    }
  }

  private startStop(flags: number): ScsiResult {
    const loej = (flags & 2) !== 0, start = (flags & 1) !== 0;
    if (loej && !start) {
      if (this.locked) return this.check(SENSE.removalPrevented);
      if (this.media) {
        this.media = undefined;
        this.mediaEvent = 3;
        this.options.onEject?.();
      }
    } else if (start && !this.media && loej) {
      return this.check(SENSE.mediumNotPresent); // load: nothing in the tray
    }
    return this.good();
  }

  private read(lba: number, count: number, data: DataBuffer): ScsiResult {
    if (lba + count > this.media!.sectorCount) return this.check(SENSE.lbaOutOfRange);
    return this.readBlocks(this.media!, lba, count, data, this.staging);
  }

  private modeSense(c: Uint8Array, ten: boolean, data: DataBuffer): ScsiResult {
    const pc = c[2] >>> 6, page = c[2] & 0x3f, b = this.reply;
    const allocation = ten ? get16(c, 7) : c[4];
    if (pc === 3) return this.check(SENSE.savingNotSupported);
    const header = ten ? 8 : 4, changeable = pc === 1;
    let n = header;
    if (page === 0x01 || page === 0x3f) { // read error recovery
      b.set([0x01, 0x06, 0x00, changeable ? 0 : 0x05], n);
      n += 8;
    }
    if (page === 0x2a || page === 0x3f) n = capabilitiesPage(b, n, this.drive, changeable);
    if (n === header) return this.check(SENSE.invalidFieldInCdb);
    const mediumType = this.media ? 0x01 : 0x70; // 120 mm data disc, or door closed/no disc
    if (ten) { put16(b, 0, n - 2); b[2] = mediumType; } else { b[0] = n - 1; b[1] = mediumType; }
    return this.dataIn(n, allocation, data);
  }
}
