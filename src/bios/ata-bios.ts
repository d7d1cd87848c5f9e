// The BIOS side of the IDE controller: which block devices the BIOS offers as hard disks
// 80h-83h (in IDE channel order, as a BIOS that probes the controller finds them), and
// booting from the ATAPI CD-ROM as the El Torito specification (1.0, 1995) says for
// "no emulation" images: INT 13h on the CD's own drive number with 2048-byte blocks, and the
// El Torito functions 4B00h/4B01h that isolinux asks for its boot information.
//
// El Torito in short: sector 17 of the disc is the Boot Record Volume Descriptor
// (type 0, "CD001", version 1, "EL TORITO SPECIFICATION"), whose dword at byte 71 is the
// boot catalog's sector. The catalog starts with a validation entry (header ID 1, platform,
// ID string, a checksum making the 16 words sum to zero, key bytes 55h AAh) followed by the
// initial/default entry (boot indicator 88h, media type, load segment, sector count in
// 512-byte units, and the image's first 2048-byte sector).

import type { BlockDevice } from '../disk/block-device.ts';
import { Seg } from '../cpu/cpu.ts';
import type { Ctx } from './context.ts';
import { AtaDisk } from '../devices/ide/ata-disk.ts';
import { AtapiCdrom } from '../devices/ide/atapi-cdrom.ts';
import type { PiixIde } from '../devices/ide/piix-ide.ts';

/** The drive number INT 13h gives the CD-ROM booted without emulation. */
export const CD_DRIVE = 0xe0;
const CD_SECTOR = 2048;

/** The hard disks on the controller, primary master first: the BIOS's drives 80h, 81h, ... */
export function ideHardDisks(ide: PiixIde): BlockDevice[] {
  const out: BlockDevice[] = [];
  for (const ch of ide.channels) for (const d of ch.devices) if (d instanceof AtaDisk) out.push(d.disk);
  return out;
}

/** Boot and INT 13h service for the first ATAPI CD-ROM on the controller, if there is one. */
export function ideCdromBoot(ide: PiixIde): CdromBoot | undefined {
  for (let ch = 0; ch < 2; ch++) {
    for (let u = 0; u < 2; u++) {
      const d = ide.channels[ch].devices[u];
      if (d instanceof AtapiCdrom) return new CdromBoot(() => d.medium, { channel: ch, device: u });
    }
  }
  return undefined;
}

/** What the boot catalog's initial/default entry says. */
export interface ElToritoEntry {
  /** 0 = no emulation, 1-3 = 1.2/1.44/2.88 MB floppy, 4 = hard disk. */
  mediaType: number;
  /** Real-mode segment to load the image at (07C0h when the catalog says 0). */
  loadSegment: number;
  /** Virtual 512-byte sectors to load (no emulation). */
  sectorCount: number;
  /** First 2048-byte sector of the image. */
  imageLba: number;
  /** Sector of the boot catalog. */
  catalogLba: number;
}

/** Why a disc cannot be booted; the message is meant for the user. */
export class ElToritoError extends Error {
  override name = 'ElToritoError';
}

/** Read and check the boot catalog of `cd` (2048-byte sectors). */
export function readElTorito(cd: BlockDevice): ElToritoEntry {
  if (cd.sectorSize !== CD_SECTOR) throw new ElToritoError(`not a CD image (${cd.sectorSize}-byte sectors)`);
  if (cd.sectorCount < 18) throw new ElToritoError('the disc is too small to hold a boot record');
  const s = new Uint8Array(CD_SECTOR);
  cd.read(17, s);
  const text = (from: number, n: number) => String.fromCharCode(...s.subarray(from, from + n));
  if (s[0] !== 0 || text(1, 5) !== 'CD001' || s[6] !== 1 || text(7, 23) !== 'EL TORITO SPECIFICATION') {
    throw new ElToritoError('no El Torito boot record (sector 17)');
  }
  const catalogLba = dword(s, 71);
  if (catalogLba >= cd.sectorCount) throw new ElToritoError(`boot catalog sector ${catalogLba} is outside the disc`);
  const cat = new Uint8Array(CD_SECTOR);
  cd.read(catalogLba, cat);
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += cat[i] | (cat[i + 1] << 8);
  if (cat[0] !== 1 || cat[30] !== 0x55 || cat[31] !== 0xaa || (sum & 0xffff) !== 0) {
    throw new ElToritoError('the boot catalog validation entry is damaged');
  }
  const e = 32;
  if (cat[e] !== 0x88) throw new ElToritoError('the boot catalog\'s default entry is not bootable');
  const entry: ElToritoEntry = {
    mediaType: cat[e + 1] & 0x0f,
    loadSegment: (cat[e + 2] | (cat[e + 3] << 8)) || 0x07c0,
    sectorCount: cat[e + 6] | (cat[e + 7] << 8),
    imageLba: dword(cat, e + 8),
    catalogLba,
  };
  if (entry.mediaType !== 0) throw new ElToritoError(`floppy/hard disk emulation (media type ${entry.mediaType}) is not supported; only no-emulation boot`);
  if (entry.sectorCount === 0) throw new ElToritoError('the boot image is empty');
  if (entry.imageLba + Math.ceil(entry.sectorCount / 4) > cd.sectorCount) throw new ElToritoError('the boot image lies outside the disc');
  if (entry.loadSegment * 16 + entry.sectorCount * 512 > 0xa0000 || entry.loadSegment < 0x50) {
    throw new ElToritoError(`the boot image does not fit in conventional memory at segment ${entry.loadSegment.toString(16)}h`);
  }
  return entry;
}

function dword(b: Uint8Array, o: number): number { return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0; }

// INT 13h status codes.
const OK = 0x00, BAD_COMMAND = 0x01, WRITE_PROTECTED = 0x03, NOT_FOUND = 0x04, NO_MEDIA = 0x31, READ_ERROR = 0x0c;

/** The CD-ROM as the BIOS boots it and serves it through INT 13h (drive CD_DRIVE). */
export class CdromBoot {
  private entry: ElToritoEntry | undefined;
  private lastStatus = 0;

  /** `media` gives the disc now in the drive (it may change), `unit` the IDE position (for 4B01h). */
  constructor(private readonly media: () => BlockDevice | undefined, private readonly unit = { channel: 1, device: 0 }, readonly drive = CD_DRIVE) {}

  /** Load the boot image and jump to it with DL = the CD's drive number. Returns why it could not. */
  boot(c: Ctx): string | null {
    const cd = this.media();
    if (!cd) return 'no disc in the CD-ROM drive';
    let entry: ElToritoEntry;
    try { entry = readElTorito(cd); } catch (e) {
      if (e instanceof ElToritoError || (e as { userFacing?: boolean }).userFacing) return (e as Error).message;
      throw e;
    }
    const buf = new Uint8Array(Math.ceil(entry.sectorCount / 4) * CD_SECTOR);
    try { cd.read(entry.imageLba, buf); } catch (e) { return `cannot read the boot image: ${(e as Error).message}`; }
    c.cpu.mem.writeBytes(entry.loadSegment * 16, buf.subarray(0, entry.sectorCount * 512));
    this.entry = entry;
    c.dl = this.drive;
    c.cpu.setSegmentReal(Seg.DS, 0);
    c.cpu.setSegmentReal(Seg.ES, 0);
    c.jump(entry.loadSegment, 0);
    return null;
  }

  /** INT 13h for DL = this.drive. */
  int13(c: Ctx): void {
    const fn = c.ah, cd = this.media();
    switch (fn) {
      case 0x00: return this.finish(c, OK);
      case 0x01: c.status(this.lastStatus); return;
      case 0x41:
        if (c.bx !== 0x55aa) return this.finish(c, BAD_COMMAND);
        c.bx = 0xaa55; c.ah = 0x21; c.cx = 0x0005; c.carry(false); // extended access and EDD
        return;
      case 0x42: case 0x44: return this.extendedRead(c, fn === 0x44);
      case 0x43: return this.finish(c, WRITE_PROTECTED);
      case 0x47: case 0x10: return this.finish(c, cd ? OK : NO_MEDIA);
      case 0x48: return this.parameters(c);
      case 0x4b: return this.emulationStatus(c);
      default: return this.finish(c, BAD_COMMAND);
    }
  }

  private finish(c: Ctx, status: number): void {
    this.lastStatus = status;
    c.status(status);
  }

  private extendedRead(c: Ctx, verify: boolean): void {
    const cd = this.media();
    if (!cd) return this.finish(c, NO_MEDIA);
    const dap = c.lin(Seg.DS, c.si);
    const size = c.read8(dap);
    if (size < 0x10) return this.finish(c, BAD_COMMAND);
    const count = c.read16(dap + 2);
    const off = c.read16(dap + 4), seg = c.read16(dap + 6);
    const lba = c.read32(dap + 8), lbaHi = c.read32(dap + 12);
    let lin = ((seg << 4) + off) >>> 0;
    if (seg === 0xffff && off === 0xffff && size >= 0x18) lin = c.read32(dap + 16);
    if (lbaHi !== 0 || lba + count > cd.sectorCount) { c.write16(dap + 2, 0); return this.finish(c, NOT_FOUND); }
    if (!verify && count > 0) {
      const buf = new Uint8Array(Math.min(count, 32) * CD_SECTOR);
      try {
        for (let done = 0; done < count;) {
          const n = Math.min(32, count - done);
          const part = buf.subarray(0, n * CD_SECTOR);
          cd.read(lba + done, part);
          c.writeBytes(lin + done * CD_SECTOR, part);
          done += n;
        }
      } catch {
        c.write16(dap + 2, 0);
        return this.finish(c, READ_ERROR);
      }
    }
    this.finish(c, OK);
  }

  private parameters(c: Ctx): void {
    const cd = this.media();
    const p = c.lin(Seg.DS, c.si);
    const bufSize = c.read16(p);
    if (bufSize < 0x1a) return this.finish(c, BAD_COMMAND);
    const len = bufSize >= 0x1e ? 0x1e : 0x1a;
    const total = cd?.sectorCount ?? 0;
    c.write16(p, len);
    c.write16(p + 2, 0x0074); // removable, change line, lockable, no valid CHS
    c.write32(p + 4, 0xffffffff); c.write32(p + 8, 0xffffffff); c.write32(p + 12, 0xffffffff);
    c.write32(p + 16, total); c.write32(p + 20, 0);
    c.write16(p + 24, CD_SECTOR);
    if (len === 0x1e) c.write32(p + 26, 0xffffffff);
    this.finish(c, OK);
  }

  /** 4B00h terminate emulation / 4B01h get status: the 13h-byte specification packet at DS:SI. */
  private emulationStatus(c: Ctx): void {
    const sub = c.al;
    if (sub !== 0x00 && sub !== 0x01) return this.finish(c, BAD_COMMAND);
    const e = this.entry;
    if (!e) return this.finish(c, BAD_COMMAND); // not booted from CD
    const p = c.lin(Seg.DS, c.si);
    const packet = new Uint8Array(0x13);
    packet[0] = 0x13;
    packet[1] = e.mediaType;       // no emulation, ATAPI
    packet[2] = this.drive;
    packet[3] = this.unit.channel; // controller index
    packet.set([e.imageLba & 0xff, (e.imageLba >>> 8) & 0xff, (e.imageLba >>> 16) & 0xff, e.imageLba >>> 24], 4);
    packet[8] = this.unit.device;  // device specification: IDE slave bit
    packet[12] = e.loadSegment & 0xff; packet[13] = e.loadSegment >>> 8;
    packet[14] = e.sectorCount & 0xff; packet[15] = e.sectorCount >>> 8;
    c.writeBytes(p, packet);
    c.al = 0;
    this.finish(c, OK);
  }
}
