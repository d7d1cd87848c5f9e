// VHD disks: fixed, dynamic and differencing, read and written in place.
//
// Crash safety of dynamic and differencing disks rests on one ordering rule: nothing on disk
// ever points at bytes that are not there yet.
//  - A new block goes where the trailing footer was. The footer is first rewritten past the
//    end of the new block, then the block's data is written; the old footer bytes fall inside
//    the new block's bitmap, which is rewritten before the block is referenced.
//  - Sector bitmaps and BAT entries change only in memory until flush(), which fsyncs the data,
//    then writes bitmaps, then BAT sectors, then fsyncs again.
// So a process killed at any instant leaves a valid trailing footer and metadata that refers
// only to durable data; writes since the last completed flush may be missing (the contract of a
// disk with a volatile write cache), earlier ones are intact. Blocks written but never
// referenced are leaked space, reported by `check` and reclaimed by `compact`.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BlockDevice, DiskError, SECTOR_SIZE, checkRange } from './block-device.ts';
import { fileSize, isAllZero, preadFull, pwriteFull, replaceFile } from './file-io.ts';
import { ioError, openFile } from './raw.ts';
import {
  DISK_DIFFERENCING, DISK_DYNAMIC, DISK_FIXED, type DynamicHeader, FOOTER_SIZE, HEADER_SIZE,
  LOCATOR_MACX, LOCATOR_W2KU, LOCATOR_W2RU, MAX_DISK_BYTES, TYPE_NAMES, UNUSED_ENTRY, type VhdFooter,
  type VhdType, bitmapBytesFor, chsGeometry, decodeFooter, decodeHeader, decodeLocatorPath, encodeFooter,
  encodeHeader, encodeLocatorPath, sameId, uuidString, vhdSizeFor, vhdTime,
} from './vhd-format.ts';

export const DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024;
const CREATOR_APP = 'svm ';
const CREATOR_VERSION = 0x00010000;
const CREATOR_OS_WI2K = 0x5769326b; // what Virtual PC and qemu write; the host OS is informational
const MAX_CHAIN_DEPTH = 256;

export interface VhdOpenOptions {
  readOnly?: boolean;
  /** Open the immediate parent writable (used by merge). */
  parentWritable?: boolean;
  /** Accept a parent whose modification time differs from the one recorded in the child. */
  ignoreParentTimestamp?: boolean;
  /** Real paths of the children below this disk, to detect loops. */
  chain?: readonly string[];
  /**
   * Do not look for the parent (inspection, and whole-block rebuilds): sectors a differencing
   * disk does not hold then read as zeros, so this is not for guest use.
   */
  noParent?: boolean;
}

/** A parent to record in a differencing disk: identity plus locator paths. */
export interface ParentRecord {
  uniqueId: Uint8Array;
  timestamp: number;
  name: string;
  locators: { code: string; data: Uint8Array }[];
}

/** Everything needed to lay out a new, empty VHD file. */
export interface VhdLayout {
  footer: VhdFooter;
  blockSize: number;
  parent?: ParentRecord;
}

export interface CreateOptions {
  type: VhdType;
  /**
   * Virtual size in bytes, rounded up to a size the CHS geometry covers (see vhdSizeFor).
   * Differencing disks default to the parent's.
   */
  size?: number;
  blockSize?: number;
  /** Parent file of a differencing disk. */
  parent?: string;
  uniqueId?: Uint8Array;
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

export class VhdDisk implements BlockDevice {
  readonly sectorSize = SECTOR_SIZE;
  readonly sectorCount: number;
  readonly type: VhdType;
  /** The parent of a differencing disk (opened read-only unless parentWritable). */
  readonly parent?: BlockDevice;
  /** The path the parent was found at. */
  readonly parentPath?: string;

  private fd: number;
  private closed = false;
  /** Dynamic and differencing disks only: */
  private readonly bat: Uint32Array;
  private readonly sectorsPerBlock: number;
  private readonly bitmapBytes: number;
  private readonly bitmaps: (Uint8Array | undefined)[] = [];
  private readonly dirtyBitmaps = new Set<number>();
  private readonly dirtyBatSectors = new Set<number>();
  /** Offset of the trailing footer; a new block is placed here. */
  private footerOffset: number;

  private constructor(
    readonly path: string,
    fd: number,
    readonly footer: VhdFooter,
    readonly header: DynamicHeader | undefined,
    bat: Uint32Array,
    footerOffset: number,
    readonly readOnly: boolean,
    parent?: { disk: BlockDevice; path: string },
  ) {
    this.fd = fd;
    this.type = TYPE_NAMES[footer.diskType];
    this.sectorCount = Math.floor(footer.currentSize / SECTOR_SIZE);
    this.bat = bat;
    this.sectorsPerBlock = header ? header.blockSize / SECTOR_SIZE : 0;
    this.bitmapBytes = header ? bitmapBytesFor(header.blockSize) : 0;
    this.footerOffset = footerOffset;
    this.parent = parent?.disk;
    this.parentPath = parent?.path;
  }

  get blockSize(): number { return this.header?.blockSize ?? 0; }
  get blockCount(): number { return this.bat.length; }
  get uniqueId(): Uint8Array { return this.footer.uniqueId; }

  /** File offset of block `b`'s bitmap, or -1 if the block is not allocated. */
  blockOffset(b: number): number {
    const e = this.bat[b];
    return e === UNUSED_ENTRY ? -1 : e * SECTOR_SIZE;
  }

  // ---- opening ----

  static open(path: string, opts: VhdOpenOptions = {}): VhdDisk {
    const readOnly = !!opts.readOnly;
    let real: string;
    try { real = fs.realpathSync(path); } catch (e) { throw ioError(path, e); }
    if (opts.chain?.includes(real)) {
      throw new DiskError('parent-loop', path, `differencing chain loops: ${[...opts.chain, real].join(' -> ')}`);
    }
    if ((opts.chain?.length ?? 0) >= MAX_CHAIN_DEPTH) {
      throw new DiskError('parent-loop', path, `differencing chain deeper than ${MAX_CHAIN_DEPTH} disks`);
    }
    // Everything is validated through a read-only descriptor; the file is reopened for writing
    // only once it has been accepted, so a rejected file is never touched.
    const rfd = openFile(path, true);
    let disk: VhdDisk;
    try {
      disk = VhdDisk.validate(path, real, rfd, { ...opts, readOnly });
    } catch (e) {
      fs.closeSync(rfd);
      throw e;
    }
    if (!readOnly) {
      try {
        disk.fd = openFile(path, false);
      } catch (e) {
        disk.parent?.close();
        throw e;
      } finally {
        fs.closeSync(rfd);
      }
    }
    return disk;
  }

  private static validate(path: string, real: string, fd: number, opts: VhdOpenOptions): VhdDisk {
    const size = fileSize(fd);
    const footerOffset = size - FOOTER_SIZE;
    const footer = readTrailingFooter(path, fd, size);
    if (footer.formatVersion >>> 16 !== 1) {
      throw new DiskError('unsupported', path, `VHD format version ${footer.formatVersion >>> 16}.${footer.formatVersion & 0xffff} is not 1.x`);
    }
    const type = TYPE_NAMES[footer.diskType];
    if (!type) throw new DiskError('bad-format', path, `unknown VHD disk type ${footer.diskType}`);
    if (type === 'fixed') {
      if (footerOffset < footer.currentSize) {
        throw new DiskError('truncated', path, `fixed disk of ${footer.currentSize} bytes needs a file of ${footer.currentSize + FOOTER_SIZE} bytes, found ${size}`);
      }
      return new VhdDisk(path, fd, footer, undefined, new Uint32Array(0), footerOffset, !!opts.readOnly);
    }

    if (footer.dataOffset < 0 || footer.dataOffset + HEADER_SIZE > footerOffset) {
      throw new DiskError('truncated', path, `dynamic disk header at offset ${footer.dataOffset} lies outside the file (${size} bytes)`);
    }
    const hbuf = new Uint8Array(HEADER_SIZE);
    preadFull(fd, hbuf, footer.dataOffset);
    const header = decodeHeader(hbuf, path);
    if (header.headerVersion >>> 16 !== 1) {
      throw new DiskError('unsupported', path, `dynamic header version ${header.headerVersion >>> 16}.${header.headerVersion & 0xffff} is not 1.x`);
    }
    if (!isPowerOfTwo(header.blockSize) || header.blockSize < SECTOR_SIZE || header.blockSize > 0x4000_0000) {
      throw new DiskError('bad-block-size', path, `block size ${header.blockSize} is not a power of two between 512 bytes and 1 GiB`);
    }
    const blocks = Math.ceil(footer.currentSize / header.blockSize);
    if (header.maxTableEntries < blocks) {
      throw new DiskError('bad-format', path, `block allocation table has ${header.maxTableEntries} entries, the disk size needs ${blocks}`);
    }
    const batBytes = header.maxTableEntries * 4;
    if (header.tableOffset + blocks * 4 > footerOffset) {
      throw new DiskError('bat-beyond-eof', path, `block allocation table at offset ${header.tableOffset} runs past the end of the file (${size} bytes)`);
    }
    const batBuf = new Uint8Array(blocks * 4);
    preadFull(fd, batBuf, header.tableOffset);
    const bat = new Uint32Array(blocks);
    const bv = new DataView(batBuf.buffer);
    for (let i = 0; i < blocks; i++) bat[i] = bv.getUint32(4 * i);

    // Metadata regions that no block may overlap.
    const meta: { start: number; end: number; what: string }[] = [
      { start: footer.dataOffset, end: footer.dataOffset + HEADER_SIZE, what: 'the dynamic header' },
      { start: header.tableOffset, end: header.tableOffset + batBytes, what: 'the block allocation table' },
    ];
    if (footer.dataOffset >= FOOTER_SIZE) meta.push({ start: 0, end: FOOTER_SIZE, what: 'the footer copy' });
    if (type === 'differencing') {
      for (const l of header.locators) {
        if (l.dataLength === 0) continue;
        if (l.offset + l.dataLength > footerOffset) {
          throw new DiskError('truncated', path, `parent locator '${l.code}' at offset ${l.offset} lies past the end of the file`);
        }
        meta.push({ start: l.offset, end: l.offset + l.dataLength, what: `parent locator '${l.code}'` });
      }
    }
    const span = bitmapBytesFor(header.blockSize) + header.blockSize;
    const sorted = bat.filter((e) => e !== UNUSED_ENTRY).sort();
    for (let i = 0; i < sorted.length; i++) {
      const start = sorted[i] * SECTOR_SIZE;
      const end = start + span;
      if (end > footerOffset) {
        throw new DiskError('bat-beyond-eof', path,
          `block ${bat.indexOf(sorted[i])} at offset ${start} ends at ${end}, past the end of the data (${footerOffset}); the file is truncated or the table is damaged`);
      }
      if (i > 0 && sorted[i - 1] * SECTOR_SIZE + span > start) {
        throw new DiskError('bat-overlap', path,
          `blocks ${bat.indexOf(sorted[i - 1])} and ${bat.indexOf(sorted[i])} overlap (offsets ${sorted[i - 1] * SECTOR_SIZE} and ${start})`);
      }
      for (const m of meta) {
        if (start < m.end && m.start < end) {
          throw new DiskError('bat-overlap', path, `block ${bat.indexOf(sorted[i])} at offset ${start} overlaps ${m.what}`);
        }
      }
    }

    const parent = type === 'differencing' && !opts.noParent ? resolveParent(path, real, fd, header, opts) : undefined;
    return new VhdDisk(path, fd, footer, header, bat, footerOffset, !!opts.readOnly, parent);
  }

  // ---- the block device ----

  read(sector: number, buf: Uint8Array): void {
    const count = checkRange(this, this.path, sector, buf);
    if (this.type === 'fixed') { preadFull(this.fd, buf, sector * SECTOR_SIZE); return; }
    this.eachBlock(sector, count, (block, first, off, run) => {
      const e = this.bat[block];
      if (e === UNUSED_ENTRY) { this.readAbsent(sector + off, buf, off, run); return; }
      // Runs of sectors the block holds are read from it, the others from the parent.
      const bm = this.bitmapOf(block);
      const data = e * SECTOR_SIZE + this.bitmapBytes;
      for (let i = 0; i < run;) {
        const present = bitAt(bm, first + i);
        let j = i + 1;
        while (j < run && bitAt(bm, first + j) === present) j++;
        if (present) {
          preadFull(this.fd, buf.subarray((off + i) * SECTOR_SIZE, (off + j) * SECTOR_SIZE), data + (first + i) * SECTOR_SIZE);
        } else {
          this.readAbsent(sector + off + i, buf, off + i, j - i);
        }
        i = j;
      }
    });
  }

  /** Split sectors sector..sector+count-1 into runs within one block each. */
  private eachBlock(sector: number, count: number, piece: (block: number, first: number, off: number, run: number) => void): void {
    const spb = this.sectorsPerBlock;
    for (let off = 0; off < count;) {
      const block = Math.floor((sector + off) / spb);
      const first = sector + off - block * spb;
      const run = Math.min(count - off, spb - first);
      piece(block, first, off, run);
      off += run;
    }
  }

  /** Sectors this disk does not hold: zeros, or the parent's data. */
  private readAbsent(sector: number, buf: Uint8Array, offSectors: number, count: number): void {
    const from = offSectors * SECTOR_SIZE;
    const to = from + count * SECTOR_SIZE;
    const p = this.parent;
    if (!p) { buf.fill(0, from, to); return; }
    const inParent = Math.max(0, Math.min(count, p.sectorCount - sector));
    if (inParent > 0) p.read(sector, buf.subarray(from, from + inParent * SECTOR_SIZE));
    buf.fill(0, from + inParent * SECTOR_SIZE, to);
  }

  write(sector: number, data: Uint8Array): void {
    if (this.readOnly) throw new DiskError('read-only', this.path, 'the disk is open read-only');
    const count = checkRange(this, this.path, sector, data);
    if (this.type === 'fixed') { pwriteFull(this.fd, data, sector * SECTOR_SIZE); return; }
    this.eachBlock(sector, count, (block, first, off, run) => {
      const chunk = data.subarray(off * SECTOR_SIZE, (off + run) * SECTOR_SIZE);
      // Zeros written to an unallocated block of a dynamic disk change nothing a reader sees.
      if (this.bat[block] === UNUSED_ENTRY && this.type === 'dynamic' && isAllZero(chunk)) return;
      if (this.bat[block] === UNUSED_ENTRY) this.allocate(block);
      pwriteFull(this.fd, chunk, this.bat[block] * SECTOR_SIZE + this.bitmapBytes + first * SECTOR_SIZE);
      this.markPresent(block, first, run);
    });
  }

  flush(): void {
    if (this.readOnly || this.closed) return;
    fs.fsyncSync(this.fd); // data and grown footers first ...
    if (this.dirtyBitmaps.size === 0 && this.dirtyBatSectors.size === 0) return;
    for (const b of this.dirtyBitmaps) pwriteFull(this.fd, this.bitmaps[b]!, this.bat[b] * SECTOR_SIZE);
    this.dirtyBitmaps.clear();
    const sector = new Uint8Array(SECTOR_SIZE);
    const v = new DataView(sector.buffer);
    for (const i of [...this.dirtyBatSectors].sort((a, b) => a - b)) { // ... then what makes them visible
      const firstEntry = i * (SECTOR_SIZE / 4);
      const n = Math.min(SECTOR_SIZE / 4, this.bat.length - firstEntry);
      for (let k = 0; k < n; k++) v.setUint32(4 * k, this.bat[firstEntry + k]);
      pwriteFull(this.fd, sector.subarray(0, n * 4), this.header!.tableOffset + firstEntry * 4);
    }
    this.dirtyBatSectors.clear();
    fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      fs.closeSync(this.fd);
      this.parent?.close();
    }
  }

  // ---- blocks ----

  private bitmapOf(block: number): Uint8Array {
    let bm = this.bitmaps[block];
    if (!bm) {
      bm = new Uint8Array(this.bitmapBytes);
      preadFull(this.fd, bm, this.bat[block] * SECTOR_SIZE);
      this.bitmaps[block] = bm;
    }
    return bm;
  }

  /** Set the bitmap bits of sectors first..first+count-1 of a block (in memory until flush). */
  private markPresent(block: number, first: number, count: number): void {
    const bm = this.bitmapOf(block);
    let changed = false;
    for (let i = first; i < first + count; i++) {
      const mask = 0x80 >> (i & 7); // sector 0 is the most significant bit of byte 0
      if (!(bm[i >> 3] & mask)) { bm[i >> 3] |= mask; changed = true; }
    }
    if (changed) this.dirtyBitmaps.add(block);
  }

  private allocate(block: number): void {
    const start = roundUp(this.footerOffset, SECTOR_SIZE);
    const newFooterOffset = start + this.bitmapBytes + this.blockSize;
    if (newFooterOffset / SECTOR_SIZE > UNUSED_ENTRY) {
      throw new DiskError('io', this.path, 'file would grow past the 2 TiB a VHD block table can address');
    }
    pwriteFull(this.fd, encodeFooter(this.footer), newFooterOffset); // the file stays valid from here on
    this.footerOffset = newFooterOffset;
    this.bat[block] = start / SECTOR_SIZE;
    this.bitmaps[block] = new Uint8Array(this.bitmapBytes);
    this.dirtyBitmaps.add(block);
    this.dirtyBatSectors.add(block >> 7);
  }

  /** A block's bitmap and data, with the sectors it does not hold zeroed; undefined if unallocated. */
  readBlock(block: number): { bitmap: Uint8Array; data: Uint8Array } | undefined {
    if (this.bat[block] === UNUSED_ENTRY) return undefined;
    const bitmap = this.bitmapOf(block).slice();
    const data = new Uint8Array(this.blockSize);
    preadFull(this.fd, data, this.bat[block] * SECTOR_SIZE + this.bitmapBytes);
    for (let i = 0; i < this.sectorsPerBlock; i++) {
      if (!bitAt(bitmap, i)) data.fill(0, i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE);
    }
    return { bitmap, data };
  }

  /** Store a whole block (for rebuilding a disk): `bitmap` as given, `data` at its place. */
  putBlock(block: number, bitmap: Uint8Array, data: Uint8Array): void {
    if (this.readOnly) throw new DiskError('read-only', this.path, 'the disk is open read-only');
    if (this.bat[block] === UNUSED_ENTRY) this.allocate(block);
    pwriteFull(this.fd, data.subarray(0, this.blockSize), this.bat[block] * SECTOR_SIZE + this.bitmapBytes);
    this.bitmaps[block] = bitmap.slice(0, this.bitmapBytes);
    this.dirtyBitmaps.add(block);
  }

  /** Sector runs [first, count] a block holds, from its bitmap. */
  presentRuns(block: number): [number, number][] {
    if (this.bat[block] === UNUSED_ENTRY) return [];
    const bm = this.bitmapOf(block);
    const runs: [number, number][] = [];
    const limit = Math.min(this.sectorsPerBlock, this.sectorCount - block * this.sectorsPerBlock);
    for (let i = 0; i < limit;) {
      if (!bitAt(bm, i)) { i++; continue; }
      let j = i + 1;
      while (j < limit && bitAt(bm, j)) j++;
      runs.push([block * this.sectorsPerBlock + i, j - i]);
      i = j;
    }
    return runs;
  }

  /** The layout of this disk, to create an empty copy of it (same identity and parent). */
  layout(): VhdLayout {
    const h = this.header;
    let parent: ParentRecord | undefined;
    if (h && this.type === 'differencing') {
      parent = {
        uniqueId: h.parentUniqueId, timestamp: h.parentTimestamp, name: h.parentName,
        locators: h.locators.map((l) => {
          const data = new Uint8Array(l.dataLength);
          preadFull(this.fd, data, l.offset);
          return { code: l.code, data };
        }),
      };
    }
    return { footer: { ...this.footer }, blockSize: h?.blockSize ?? DEFAULT_BLOCK_SIZE, parent };
  }

  /** Bytes the file occupies up to and including its trailing footer. */
  get fileBytes(): number { return this.footerOffset + FOOTER_SIZE; }

  allocatedBlocks(): number {
    let n = 0;
    for (let i = 0; i < this.bat.length; i++) if (this.bat[i] !== UNUSED_ENTRY) n++;
    return n;
  }
}

function bitAt(bm: Uint8Array, i: number): boolean {
  return (bm[i >> 3] & (0x80 >> (i & 7))) !== 0;
}

/** The footer at the end of the file, with a helpful error when only the copy at the start survives. */
function readTrailingFooter(path: string, fd: number, size: number): VhdFooter {
  if (size < FOOTER_SIZE) throw new DiskError('truncated', path, `file of ${size} bytes is too short to be a VHD`);
  const buf = new Uint8Array(FOOTER_SIZE);
  preadFull(fd, buf, size - FOOTER_SIZE);
  try {
    return decodeFooter(buf, path, 'at the end of the file');
  } catch (e) {
    const copy = new Uint8Array(FOOTER_SIZE);
    preadFull(fd, copy, 0);
    let copyOk = false;
    try { copyOk = decodeFooter(copy, path, 'at the start').diskType !== DISK_FIXED; } catch { /* no copy either */ }
    if (!copyOk) {
      // A fixed disk cut short inside its footer still shows the cookie at the last sector boundary.
      const cut = Math.floor(size / FOOTER_SIZE) * FOOTER_SIZE;
      if (size % FOOTER_SIZE !== 0 && size - cut >= 8) {
        const head = new Uint8Array(8);
        preadFull(fd, head, cut);
        if (String.fromCharCode(...head) === 'conectix') {
          throw new DiskError('truncated', path, `the VHD footer at offset ${cut} is cut short: the file is truncated`);
        }
      }
      throw e;
    }
    const code = (e as DiskError).code === 'bad-checksum' ? 'bad-checksum' : 'truncated';
    throw new DiskError(code, path,
      `the footer at the end of the file is ${code === 'bad-checksum' ? 'damaged' : 'missing (truncated or interrupted file)'}; ` +
      `the copy at the start is intact: 'soulvm disk check --repair' restores it`);
  }
}

/** Where a differencing disk's locators say its parent might be, most portable first. */
function parentCandidates(childPath: string, fd: number, header: DynamicHeader): string[] {
  const dir = nodePath.dirname(childPath);
  const out: string[] = [];
  const order = [LOCATOR_W2RU, LOCATOR_MACX, LOCATOR_W2KU];
  const locs = [...header.locators].sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code));
  for (const l of locs) {
    if (!order.includes(l.code) || l.dataLength === 0 || l.dataLength > 65536) continue;
    const data = new Uint8Array(l.dataLength);
    preadFull(fd, data, l.offset);
    const p = decodeLocatorPath(l.code, data);
    if (!p) continue;
    if (l.code === LOCATOR_MACX) {
      if (p.startsWith('file://')) {
        try { out.push(fileURLToPath(p)); } catch { /* not a local URL */ }
      } else out.push(nodePath.resolve(dir, p));
    } else {
      const posix = p.replace(/^[A-Za-z]:/, '').replace(/\\/g, '/');
      out.push(nodePath.resolve(dir, posix));
      out.push(nodePath.join(dir, nodePath.basename(posix))); // moved together with the child
    }
  }
  if (header.parentName) out.push(nodePath.join(dir, nodePath.basename(header.parentName.replace(/\\/g, '/'))));
  return [...new Set(out)];
}

function resolveParent(
  path: string, real: string, fd: number, header: DynamicHeader, opts: VhdOpenOptions,
): { disk: BlockDevice; path: string } {
  const chain = [...(opts.chain ?? []), real];
  const tried: string[] = [];
  let mismatch: string | undefined;
  for (const candidate of parentCandidates(path, fd, header)) {
    let candidateReal: string;
    try { candidateReal = fs.realpathSync(candidate); } catch { tried.push(candidate); continue; }
    const id = peekUniqueId(candidate);
    if (!id || !sameId(id, header.parentUniqueId)) {
      mismatch ??= `${candidate} has unique id ${id ? uuidString(id) : '(not a VHD)'}, the child expects ${uuidString(header.parentUniqueId)}`;
      continue;
    }
    if (chain.includes(candidateReal)) {
      throw new DiskError('parent-loop', path, `differencing chain loops: ${[...chain, candidateReal].join(' -> ')}`);
    }
    if (!opts.ignoreParentTimestamp) {
      const mtime = vhdTime(fs.statSync(candidate).mtimeMs);
      if (mtime !== header.parentTimestamp) {
        throw new DiskError('parent-changed', path,
          `parent ${candidate} was modified after this differencing disk was created ` +
          `(parent time ${mtime}, recorded ${header.parentTimestamp}); its data may no longer match`);
      }
    }
    const disk = VhdDisk.open(candidate, { readOnly: !opts.parentWritable, chain });
    return { disk, path: candidate };
  }
  if (mismatch) throw new DiskError('parent-changed', path, `parent is not the disk this one was made from: ${mismatch}`);
  throw new DiskError('parent-missing', path,
    `parent '${header.parentName}' not found (looked at ${tried.length ? tried.join(', ') : 'no usable locator'})`);
}

/** The unique id in a file's trailing footer, or undefined if it has none. */
function peekUniqueId(path: string): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const size = fileSize(fd);
    if (size < FOOTER_SIZE) return undefined;
    const buf = new Uint8Array(FOOTER_SIZE);
    preadFull(fd, buf, size - FOOTER_SIZE);
    return decodeFooter(buf, path, 'at the end').uniqueId;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

// ---- creating ----

/** A new footer for a disk of `size` bytes. */
export function newFooter(type: VhdType, size: number, uniqueId?: Uint8Array): VhdFooter {
  return {
    features: 2, // "reserved, must be set"
    formatVersion: 0x00010000,
    dataOffset: type === 'fixed' ? -1 : FOOTER_SIZE,
    timestamp: vhdTime(Date.now()),
    creatorApp: CREATOR_APP,
    creatorVersion: CREATOR_VERSION,
    creatorOs: CREATOR_OS_WI2K,
    originalSize: size,
    currentSize: size,
    geometry: chsGeometry(size),
    diskType: type === 'fixed' ? DISK_FIXED : type === 'dynamic' ? DISK_DYNAMIC : DISK_DIFFERENCING,
    uniqueId: uniqueId ?? new Uint8Array(randomBytes(16)),
    savedState: 0,
  };
}

/** Write an empty VHD with this layout into the open, empty file `fd`. */
export function writeEmptyVhd(fd: number, layout: VhdLayout): void {
  const { footer, blockSize } = layout;
  if (footer.diskType === DISK_FIXED) {
    fs.ftruncateSync(fd, footer.currentSize); // sparse zeros
    pwriteFull(fd, encodeFooter({ ...footer, dataOffset: -1 }), footer.currentSize);
    return;
  }
  const entries = Math.ceil(footer.currentSize / blockSize);
  const tableOffset = FOOTER_SIZE + HEADER_SIZE;
  let next = tableOffset + roundUp(entries * 4, SECTOR_SIZE);
  const locators = (layout.parent?.locators ?? []).map((l) => {
    const space = roundUp(Math.max(l.data.length, 1), SECTOR_SIZE);
    // Bytes, not the sectors the spec says: what Virtual PC and Hyper-V write (and VirtualBox expects).
    const loc = { code: l.code, dataSpace: space, dataLength: l.data.length, offset: next, data: l.data };
    next += space;
    return loc;
  });
  const f = encodeFooter({ ...footer, dataOffset: FOOTER_SIZE });
  const header = encodeHeader({
    tableOffset, headerVersion: 0x00010000, maxTableEntries: entries, blockSize,
    parentUniqueId: layout.parent?.uniqueId ?? new Uint8Array(16),
    parentTimestamp: layout.parent?.timestamp ?? 0,
    parentName: layout.parent?.name ?? '',
    locators,
  });
  const bat = new Uint8Array(roundUp(entries * 4, SECTOR_SIZE)).fill(0xff, 0, entries * 4);
  pwriteFull(fd, f, 0);
  pwriteFull(fd, header, FOOTER_SIZE);
  pwriteFull(fd, bat, tableOffset);
  for (const l of locators) {
    const padded = new Uint8Array(l.dataSpace);
    padded.set(l.data);
    pwriteFull(fd, padded, l.offset);
  }
  pwriteFull(fd, f, next);
}

/** What a differencing disk at `childPath` records about `parentPath`. */
export function parentRecord(childPath: string, parentPath: string, parent: VhdDisk): ParentRecord {
  const abs = nodePath.resolve(parentPath);
  let rel = nodePath.relative(nodePath.dirname(nodePath.resolve(childPath)), abs);
  if (!rel.startsWith('..')) rel = './' + rel;
  return {
    uniqueId: parent.uniqueId,
    timestamp: vhdTime(fs.statSync(abs).mtimeMs),
    name: nodePath.basename(abs),
    locators: [
      { code: LOCATOR_W2RU, data: encodeLocatorPath(LOCATOR_W2RU, rel.replace(/\//g, '\\')) },
      { code: LOCATOR_W2KU, data: encodeLocatorPath(LOCATOR_W2KU, abs.replace(/\//g, '\\')) },
      { code: LOCATOR_MACX, data: encodeLocatorPath(LOCATOR_MACX, pathToFileURL(abs).href) },
    ],
  };
}

export function checkBlockSize(path: string, blockSize: number): void {
  if (!isPowerOfTwo(blockSize) || blockSize < SECTOR_SIZE || blockSize > 256 * 1024 * 1024) {
    throw new DiskError('bad-block-size', path, `block size ${blockSize} is not a power of two between 512 bytes and 256 MiB`);
  }
}

/** Create a new VHD file at `path` (which must not exist). */
export function createVhd(path: string, opts: CreateOptions): void {
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (opts.type !== 'fixed') checkBlockSize(path, blockSize);
  let size = opts.size;
  let parent: ParentRecord | undefined;
  if (opts.type === 'differencing') {
    if (!opts.parent) throw new DiskError('bad-format', path, 'a differencing disk needs a parent');
    const p = VhdDisk.open(opts.parent, { readOnly: true });
    try {
      size ??= p.sectorCount * SECTOR_SIZE;
      parent = parentRecord(path, opts.parent, p);
    } finally { p.close(); }
  }
  if (size === undefined || !Number.isFinite(size) || size <= 0) throw new DiskError('bad-format', path, 'disk size must be given and positive');
  size = vhdSizeFor(size);
  if (size > MAX_DISK_BYTES) throw new DiskError('bad-format', path, `disk size ${size} exceeds the VHD maximum of 2040 GiB`);
  const layout: VhdLayout = { footer: newFooter(opts.type, size, opts.uniqueId), blockSize, parent };
  if (fs.existsSync(path)) throw new DiskError('exists', path, 'file already exists; not replacing it');
  replaceFile(path, (tmp) => writeNewFile(tmp, layout), true);
}

export function writeNewFile(path: string, layout: VhdLayout): void {
  const fd = fs.openSync(path, 'wx');
  try { writeEmptyVhd(fd, layout); } finally { fs.closeSync(fd); }
}
