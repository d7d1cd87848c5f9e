// INT 13h: floppy drives 00h-01h and hard disks 80h-83h on block devices, with CHS access
// and the Enhanced Disk Drive extensions (41h-48h) for hard disks.

import type { BlockDevice } from '../disk/block-device.ts';
import { BDA, type Ctx } from './context.ts';
import { Seg } from '../cpu/cpu.ts';

export interface Chs { cylinders: number; heads: number; sectors: number }

/** A drive as INT 13h presents it. */
export interface BiosDrive { dev: BlockDevice; chs: Chs; floppyType: number }

// Floppy formats by size: geometry and the CMOS/INT 13h drive type.
const FLOPPIES: [number, Chs, number][] = [
  [160 * 1024, { cylinders: 40, heads: 1, sectors: 8 }, 1],
  [180 * 1024, { cylinders: 40, heads: 1, sectors: 9 }, 1],
  [320 * 1024, { cylinders: 40, heads: 2, sectors: 8 }, 1],
  [360 * 1024, { cylinders: 40, heads: 2, sectors: 9 }, 1],
  [720 * 1024, { cylinders: 80, heads: 2, sectors: 9 }, 3],
  [1200 * 1024, { cylinders: 80, heads: 2, sectors: 15 }, 2],
  [1440 * 1024, { cylinders: 80, heads: 2, sectors: 18 }, 4],
  [1680 * 1024, { cylinders: 80, heads: 2, sectors: 21 }, 4],
  [2880 * 1024, { cylinders: 80, heads: 2, sectors: 36 }, 5],
];

export class BiosDiskError extends Error {
  readonly userFacing = true;
}

export function floppyDrive(dev: BlockDevice, name = 'floppy image'): BiosDrive {
  const bytes = dev.sectorCount * dev.sectorSize;
  const f = FLOPPIES.find(([size]) => size === bytes);
  if (!f) throw new BiosDiskError(`${name}: ${bytes} bytes is not a floppy size (160K-2.88M)`);
  return { dev, chs: f[1], floppyType: f[2] };
}

/** A hard disk's BIOS geometry: what its partition table implies, else LBA-assisted translation. */
export function hardDrive(dev: BlockDevice): BiosDrive {
  return { dev, chs: guessGeometry(dev), floppyType: 0 };
}

function guessGeometry(dev: BlockDevice): Chs {
  const total = dev.sectorCount;
  const mbr = new Uint8Array(512);
  if (total > 0) dev.read(0, mbr);
  if (mbr[510] === 0x55 && mbr[511] === 0xaa) {
    // Partition entries end on a cylinder boundary: their end head and sector give the geometry.
    for (let i = 0; i < 4; i++) {
      const e = 446 + i * 16;
      const endHead = mbr[e + 5], endSector = mbr[e + 6] & 0x3f;
      if (mbr[e + 4] && endSector > 0) {
        const heads = endHead + 1, sectors = endSector;
        return { cylinders: Math.max(1, Math.min(1024, Math.floor(total / (heads * sectors)))), heads, sectors };
      }
    }
  }
  let heads = 16;
  const sectors = 63;
  while (heads < 255 && total / (heads * sectors) > 1024) heads = heads === 128 ? 255 : heads * 2;
  return { cylinders: Math.max(1, Math.min(1024, Math.floor(total / (heads * sectors)))), heads, sectors };
}

// Status codes (AH).
const OK = 0x00, BAD_COMMAND = 0x01, NOT_FOUND = 0x04, WRITE_PROTECTED = 0x03, BOUNDARY = 0x09, TIMEOUT = 0x80;

export class Disks {
  constructor(readonly floppies: (BiosDrive | null)[], readonly hardDisks: BiosDrive[]) {}

  drive(dl: number): BiosDrive | null {
    if (dl & 0x80) return this.hardDisks[dl & 0x7f] ?? null;
    return this.floppies[dl] ?? null;
  }

  /** Read sectors into guest memory at a linear address; returns the status. */
  private transfer(c: Ctx, d: BiosDrive, lba: number, count: number, lin: number, write: boolean): number {
    if (lba + count > d.dev.sectorCount) return NOT_FOUND;
    if (write && d.dev.readOnly) return WRITE_PROTECTED;
    const buf = new Uint8Array(count * 512);
    try {
      if (write) { d.dev.write(lba, c.readBytes(lin, buf.length)); }
      else { d.dev.read(lba, buf); c.writeBytes(lin, buf); }
    } catch (e) {
      if ((e as { userFacing?: boolean }).userFacing) return 0x20; // controller failure: the host file failed
      throw e;
    }
    return OK;
  }

  private finish(c: Ctx, dl: number, status: number): void {
    c.status(status);
    c.setBda8(dl & 0x80 ? BDA.diskStatus : BDA.floppyStatus, status);
  }

  int13(c: Ctx, floppyOnly = false): void {
    const dl = c.dl, fn = c.ah;
    if (floppyOnly && dl & 0x80) { this.finish(c, dl, BAD_COMMAND); return; }
    const d = this.drive(dl);
    switch (fn) {
      case 0x00: case 0x0d: // reset
        this.finish(c, dl, d || dl === 0 || dl === 0x80 ? OK : NOT_FOUND); return;
      case 0x01: { // last status
        const s = c.bda8(dl & 0x80 ? BDA.diskStatus : BDA.floppyStatus);
        c.status(s); return;
      }
    }
    if (!d) {
      if (fn === 0x15 && !(dl & 0x80) && dl < 2) { c.ah = 0; c.carry(false); return; } // no drive
      if (fn === 0x08) { c.ax = 0; c.bx = 0; c.cx = 0; c.dx = dl & 0x80 ? this.hardDisks.length : this.floppies.filter(Boolean).length; this.finish(c, dl, dl & 0x80 ? NOT_FOUND : OK); return; }
      this.finish(c, dl, dl & 0x80 ? NOT_FOUND : TIMEOUT); return;
    }
    const { heads, sectors, cylinders } = d.chs;
    switch (fn) {
      case 0x02: case 0x03: case 0x04: { // read / write / verify CHS
        const count = c.al;
        const cyl = c.ch | ((c.cl & 0xc0) << 2), sec = c.cl & 0x3f, head = c.dh;
        if (count === 0 || sec === 0 || sec > sectors || head >= heads || cyl >= cylinders) { c.al = 0; this.finish(c, dl, fn === 0x04 ? NOT_FOUND : BAD_COMMAND); return; }
        const lba = (cyl * heads + head) * sectors + sec - 1;
        if (fn === 0x04) { this.finish(c, dl, lba + count > d.dev.sectorCount ? NOT_FOUND : OK); return; }
        // The ISA DMA controller cannot cross a 64 KiB boundary; floppy callers rely on this error.
        const lin = c.lin(Seg.ES, c.bx);
        if (!(dl & 0x80) && ((lin & 0xffff) + count * 512) > 0x10000) { c.al = 0; this.finish(c, dl, BOUNDARY); return; }
        const s = this.transfer(c, d, lba, count, lin, fn === 0x03);
        c.al = s === OK ? count : 0;
        this.finish(c, dl, s);
        return;
      }
      case 0x05: this.finish(c, dl, OK); return; // format track: the image keeps its data
      case 0x08: { // drive parameters
        const maxCyl = cylinders - 1;
        c.ch = maxCyl & 0xff; c.cl = sectors | ((maxCyl >> 2) & 0xc0);
        c.dh = heads - 1;
        if (dl & 0x80) { c.dl = this.hardDisks.length; c.bl = 0; }
        else {
          c.dl = this.floppies.filter(Boolean).length; c.bl = d.floppyType;
          this.setEsDi(c, 0xf000, 0xefc7); // the diskette parameter table
        }
        c.al = 0;
        this.finish(c, dl, OK);
        return;
      }
      case 0x0c: case 0x10: case 0x11: case 0x14: case 0x17: case 0x18: case 0x47:
        this.finish(c, dl, OK); return; // seek, ready, recalibrate, diagnostics, media type, ext seek
      case 0x15: // drive type
        if (dl & 0x80) { c.ah = 3; const n = d.dev.sectorCount; c.cx = n >>> 16; c.dx = n & 0xffff; c.carry(false); }
        else { c.ah = 2; c.carry(false); } // floppy with change-line support
        return;
      case 0x16: this.finish(c, dl, OK); return; // disk not changed
      case 0x41: // EDD installation check
        if (!(dl & 0x80) || c.bx !== 0x55aa) { this.finish(c, dl, BAD_COMMAND); return; }
        c.bx = 0xaa55; c.ah = 0x21; c.cx = 0x0001; c.carry(false); // EDD 1.1: extended disk access (42h-44h, 47h, 48h)
        return;
      case 0x42: case 0x43: case 0x44: { // extended read / write / verify: disk address packet at DS:SI
        if (!(dl & 0x80)) { this.finish(c, dl, BAD_COMMAND); return; }
        const dap = c.lin(Seg.DS, c.si);
        const size = c.read8(dap);
        if (size < 0x10) { this.finish(c, dl, BAD_COMMAND); return; }
        const count = c.read16(dap + 2);
        const off = c.read16(dap + 4), seg = c.read16(dap + 6);
        const lbaLo = c.read32(dap + 8), lbaHi = c.read32(dap + 12);
        let lin = ((seg << 4) + off) >>> 0;
        if (seg === 0xffff && off === 0xffff && size >= 0x18) lin = c.read32(dap + 16);
        if (lbaHi !== 0 || lbaLo + count > d.dev.sectorCount) { c.write16(dap + 2, 0); this.finish(c, dl, NOT_FOUND); return; }
        const s = fn === 0x44 ? OK : this.transfer(c, d, lbaLo, count, lin, fn === 0x43);
        if (s !== OK) c.write16(dap + 2, 0);
        this.finish(c, dl, s);
        return;
      }
      case 0x45: c.al = 0; this.finish(c, dl, OK); return; // lock/unlock: not removable, always fine
      case 0x46: this.finish(c, dl, 0xb2); return; // eject: not removable
      case 0x48: { // extended drive parameters: result buffer at DS:SI
        if (!(dl & 0x80)) { this.finish(c, dl, BAD_COMMAND); return; }
        const p = c.lin(Seg.DS, c.si);
        const bufSize = c.read16(p);
        if (bufSize < 0x1a) { this.finish(c, dl, BAD_COMMAND); return; }
        const total = d.dev.sectorCount;
        const len = bufSize >= 0x1e ? 0x1e : 0x1a;
        c.write16(p, len);
        c.write16(p + 2, 0x0002); // CHS information valid
        c.write32(p + 4, cylinders); c.write32(p + 8, heads); c.write32(p + 12, sectors);
        c.write32(p + 16, total); c.write32(p + 20, Math.floor(total / 0x100000000));
        c.write16(p + 24, 512);
        if (len === 0x1e) c.write32(p + 26, 0xffffffff); // no device parameter table extension
        this.finish(c, dl, OK);
        return;
      }
      default:
        this.finish(c, dl, BAD_COMMAND);
    }
  }

  private setEsDi(c: Ctx, seg: number, off: number): void {
    c.cpu.setSegmentReal(Seg.ES, seg);
    c.di = off;
  }

  /** Read the boot sector of a drive into 0000:7C00; null when it is not bootable. */
  loadBootSector(c: Ctx, dl: number): string | null {
    const d = this.drive(dl);
    if (!d) return 'no such drive';
    if (d.dev.sectorCount === 0) return 'empty image';
    const buf = new Uint8Array(512);
    d.dev.read(0, buf);
    if (buf[510] !== 0x55 || buf[511] !== 0xaa) return 'no boot signature (55AA) in sector 0';
    c.cpu.mem.writeBytes(0x7c00, buf);
    return null;
  }
}
