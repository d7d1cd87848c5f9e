// Whole-disk operations behind `soulvm disk`: open by format, info, convert, compact, merge,
// resize, check and repair. Every operation that rewrites a file builds the new one beside it
// and renames it into place, so an interruption leaves the old file or the new one.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { type BlockDevice, DiskError, SECTOR_SIZE } from './block-device.ts';
import { fileSize, isAllZero, preadFull, pwriteFull, replaceFile } from './file-io.ts';
import { IsoImage, RawDisk, ioError } from './raw.ts';
import {
  DISK_FIXED, FOOTER_COOKIE, FOOTER_SIZE, HEADER_SIZE, UNUSED_ENTRY, type VhdFooter, type VhdType, bitmapBytesFor,
  chsGeometry, decodeFooter, decodeHeader, encodeFooter, uuidString, vhdSizeFor, vhdTimeToDate,
} from './vhd-format.ts';
import {
  DEFAULT_BLOCK_SIZE, VhdDisk, type VhdLayout, type VhdOpenOptions, checkBlockSize, newFooter, parentRecord,
  writeNewFile,
} from './vhd.ts';

export type Progress = (done: number, total: number) => void;
export type DiskFormat = 'vhd' | 'raw' | 'iso';

const VHD_EXTENSIONS = ['.vhd', '.vud', '.avhd'];
const RAW_EXTENSIONS = ['.img', '.raw', '.bin'];

/** The format a file name asks for, or undefined if its extension is not one we know. */
export function formatFromName(path: string): DiskFormat | undefined {
  const ext = nodePath.extname(path).toLowerCase();
  if (VHD_EXTENSIONS.includes(ext)) return 'vhd';
  if (RAW_EXTENSIONS.includes(ext)) return 'raw';
  if (ext === '.iso') return 'iso';
  return undefined;
}

/** The format of an existing file: its content decides between VHD and raw, `.iso` means ISO. */
export function detectFormat(path: string): DiskFormat {
  const byName = formatFromName(path);
  if (byName === 'iso' || byName === 'vhd') return byName;
  let fd: number;
  try { fd = fs.openSync(path, 'r'); } catch (e) { throw ioError(path, e); }
  try {
    const size = fileSize(fd);
    const head = new Uint8Array(8), tail = new Uint8Array(8);
    preadFull(fd, head, 0);
    if (size >= FOOTER_SIZE) preadFull(fd, tail, size - FOOTER_SIZE);
    const cookie = (b: Uint8Array): boolean => String.fromCharCode(...b) === FOOTER_COOKIE;
    return cookie(tail) || cookie(head) ? 'vhd' : 'raw';
  } finally { fs.closeSync(fd); }
}

/** Open any supported disk file as a block device. */
export function openDisk(path: string, opts: VhdOpenOptions = {}): BlockDevice {
  switch (detectFormat(path)) {
    case 'iso': return IsoImage.open(path);
    case 'vhd': return VhdDisk.open(path, opts);
    default: return RawDisk.open(path, opts);
  }
}

/** Copy every non-zero chunk of `src` into `dst` (which reads as zeros where not written). */
export function copyData(src: BlockDevice, dst: BlockDevice, chunk: number, onProgress?: Progress): void {
  const total = src.sectorCount * src.sectorSize;
  const buf = new Uint8Array(chunk);
  for (let pos = 0; pos < total; pos += chunk) {
    const b = buf.subarray(0, Math.min(chunk, total - pos));
    src.read(pos / src.sectorSize, b);
    if (!isAllZero(b)) dst.write(pos / dst.sectorSize, b);
    onProgress?.(pos + b.length, total);
  }
}

function refuseExisting(path: string): void {
  if (fs.existsSync(path)) throw new DiskError('exists', path, 'file already exists; not replacing it');
}

export interface ConvertOptions {
  /** Kind of VHD to write (default dynamic); ignored for raw output. */
  type?: 'fixed' | 'dynamic';
  blockSize?: number;
  onProgress?: Progress;
}

/**
 * Copy SRC (raw, ISO or any VHD, differencing chains flattened) into a new file DST. A VHD
 * output is rounded up to a CHS-exact size like any new VHD; the added tail reads as zeros.
 */
export function convert(srcPath: string, dstPath: string, opts: ConvertOptions = {}): void {
  const format = formatFromName(dstPath);
  if (format !== 'vhd' && format !== 'raw') {
    throw new DiskError('bad-format', dstPath, 'cannot tell the output format: name it .vhd, .img or .raw');
  }
  refuseExisting(dstPath);
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (format === 'vhd' && opts.type !== 'fixed') checkBlockSize(dstPath, blockSize);
  const src = openDisk(srcPath, { readOnly: true });
  try {
    const bytes = src.sectorCount * src.sectorSize;
    replaceFile(dstPath, (tmp) => {
      if (format === 'raw') RawDisk.create(tmp, bytes);
      else writeNewFile(tmp, { footer: newFooter(opts.type ?? 'dynamic', vhdSizeFor(bytes)), blockSize });
      const dst = format === 'raw' ? RawDisk.open(tmp) : VhdDisk.open(tmp);
      try {
        copyData(src, dst, Math.max(2048, Math.min(1 << 20, format === 'vhd' ? blockSize : 1 << 20)), opts.onProgress);
      } finally { dst.close(); }
    }, true);
  } finally { src.close(); }
}

/** Rewrite a dynamic or differencing disk block by block into a fresh file at the same path. */
function rebuild(
  disk: VhdDisk, layout: VhdLayout, keep: (blk: { bitmap: Uint8Array; data: Uint8Array }) => boolean,
  preserveMtime: boolean, onProgress?: Progress,
): { kept: number; dropped: number } {
  const path = disk.path;
  const st = fs.statSync(path);
  let kept = 0, dropped = 0;
  replaceFile(path, (tmp) => {
    writeNewFile(tmp, layout);
    const w = VhdDisk.open(tmp, { noParent: true }); // whole blocks are copied: the parent is not needed
    try {
      for (let b = 0; b < disk.blockCount; b++) {
        const blk = disk.readBlock(b);
        if (blk && keep(blk)) { w.putBlock(b, blk.bitmap, blk.data); kept++; } else if (blk) dropped++;
        onProgress?.(b + 1, disk.blockCount);
      }
    } finally { w.close(); }
    if (preserveMtime) fs.utimesSync(tmp, st.atime, st.mtime);
  }, false);
  return { kept, dropped };
}

export interface CompactResult { blocksKept: number; blocksDropped: number; bytesBefore: number; bytesAfter: number }

/**
 * Drop the blocks a dynamic disk holds only zeros in (for a differencing disk: the blocks that
 * hold no sectors at all, since zeros there hide the parent's data), and leaked space.
 * With `dst`, write a compacted dynamic copy of any source (raw, VHD) there instead.
 */
export function compact(path: string, dst?: string, onProgress?: Progress): CompactResult {
  const bytesBefore = fs.statSync(path).size;
  if (dst !== undefined) {
    if (formatFromName(dst) !== 'vhd') throw new DiskError('bad-format', dst, 'a compacted copy is a dynamic VHD: name it .vhd');
    convert(path, dst, { type: 'dynamic', onProgress });
    const d = VhdDisk.open(dst, { readOnly: true });
    const kept = d.allocatedBlocks();
    d.close();
    return { blocksKept: kept, blocksDropped: 0, bytesBefore, bytesAfter: fs.statSync(dst).size };
  }
  const disk = VhdDisk.open(path, { readOnly: true, noParent: true });
  try {
    if (disk.type === 'fixed') {
      throw new DiskError('unsupported', path, "a fixed disk has no blocks to drop: 'convert --type dynamic' makes a compact copy");
    }
    const diff = disk.type === 'differencing';
    const { kept, dropped } = rebuild(disk, disk.layout(), (blk) => !isAllZero(diff ? blk.bitmap : blk.data), true, onProgress);
    return { blocksKept: kept, blocksDropped: dropped, bytesBefore, bytesAfter: fs.statSync(path).size };
  } finally { disk.close(); }
}

export interface MergeOptions {
  /** Delete the child afterwards instead of leaving it empty over the updated parent. */
  deleteChild?: boolean;
  onProgress?: Progress;
}

/**
 * Write every sector a differencing disk holds into its parent. The child is then emptied
 * (same identity, so disks made from it stay valid) or deleted. An interrupted merge only
 * rewrote parent sectors with the child's data, so running it again completes it.
 */
export function merge(childPath: string, opts: MergeOptions = {}): { parentPath: string; sectors: number } {
  // The parent's time stamp is not checked: after an interrupted merge it has changed already.
  const child = VhdDisk.open(childPath, { readOnly: true, parentWritable: true, ignoreParentTimestamp: true });
  let sectors = 0;
  let parentPath: string;
  let layout: VhdLayout;
  try {
    if (child.type !== 'differencing') throw new DiskError('bad-format', childPath, 'not a differencing disk: nothing to merge');
    parentPath = child.parentPath!;
    const parent = child.parent!;
    if (child.sectorCount > parent.sectorCount) {
      throw new DiskError('unsupported', childPath, `the child (${child.sectorCount * SECTOR_SIZE} bytes) is larger than its parent: resize ${parentPath} first`);
    }
    const buf = new Uint8Array(child.blockSize);
    for (let b = 0; b < child.blockCount; b++) {
      for (const [first, count] of child.presentRuns(b)) {
        const part = buf.subarray(0, count * SECTOR_SIZE);
        child.read(first, part);
        parent.write(first, part);
        sectors += count;
      }
      opts.onProgress?.(b + 1, child.blockCount);
    }
    parent.flush();
    layout = child.layout();
  } finally { child.close(); }
  if (opts.deleteChild) {
    fs.unlinkSync(childPath);
  } else {
    const st = fs.statSync(childPath);
    const p = VhdDisk.open(parentPath, { readOnly: true });
    try { layout.parent = parentRecord(childPath, parentPath, p); } finally { p.close(); }
    replaceFile(childPath, (tmp) => {
      writeNewFile(tmp, layout);
      fs.utimesSync(tmp, st.atime, st.mtime); // same content as before for anything built on it
    }, false);
  }
  return { parentPath, sectors };
}

/** Grow a disk to `newBytes` (rounded up as at creation). Shrinking would lose data and is refused. */
export function resize(path: string, newBytes: number, onProgress?: Progress): void {
  const format = detectFormat(path);
  const size = format === 'vhd' ? vhdSizeFor(newBytes) : Math.ceil(newBytes / SECTOR_SIZE) * SECTOR_SIZE;
  if (format === 'iso') throw new DiskError('unsupported', path, 'an ISO image cannot be resized');
  if (format === 'raw') {
    const cur = fs.statSync(path).size;
    if (size < cur) throw shrinkError(path, cur, size);
    fs.truncateSync(path, size);
    return;
  }
  const disk = VhdDisk.open(path, { readOnly: true, noParent: true });
  const layout = disk.layout();
  const cur = disk.sectorCount * SECTOR_SIZE;
  if (size < cur) { disk.close(); throw shrinkError(path, cur, size); }
  if (size === cur) { disk.close(); return; }
  const footer: VhdFooter = { ...layout.footer, currentSize: size, geometry: chsGeometry(size) };
  if (disk.type === 'fixed') {
    const oldEnd = disk.fileBytes;
    disk.close();
    growFixed(path, layout.footer, footer, cur, oldEnd);
    return;
  }
  try {
    rebuild(disk, { ...layout, footer }, () => true, false, onProgress);
  } finally { disk.close(); }
}

function shrinkError(path: string, cur: number, size: number): DiskError {
  return new DiskError('unsupported', path, `shrinking from ${cur} to ${size} bytes would discard data; only growing is supported`);
}

/** Grow a fixed disk in place; after every step the file is a valid disk of the old or new size. */
function growFixed(path: string, oldFooter: VhdFooter, footer: VhdFooter, cur: number, oldEnd: number): void {
  const fd = fs.openSync(path, 'r+');
  try {
    pwriteFull(fd, encodeFooter(oldFooter), footer.currentSize); // still the old size, file longer
    fs.fsyncSync(fd);
    const zeros = new Uint8Array(64 * 1024);
    for (let pos = cur; pos < oldEnd; pos += zeros.length) {
      pwriteFull(fd, zeros.subarray(0, Math.min(zeros.length, oldEnd - pos)), pos); // old footer becomes zero data
    }
    fs.fsyncSync(fd);
    pwriteFull(fd, encodeFooter(footer), footer.currentSize);
    fs.fsyncSync(fd);
  } finally { fs.closeSync(fd); }
}

// ---- info ----

export interface DiskInfo {
  path: string;
  format: DiskFormat;
  type?: VhdType;
  virtualSize: number;
  fileSize: number;
  sectorSize: number;
  geometry?: { cylinders: number; heads: number; sectorsPerTrack: number };
  blockSize?: number;
  blocks?: number;
  allocatedBlocks?: number;
  uniqueId?: string;
  creator?: string;
  created?: string;
  savedState?: boolean;
  parent?: { name: string; uniqueId: string; timestamp: string; path?: string; error?: string };
}

export function info(path: string): DiskInfo {
  const format = detectFormat(path);
  const fileBytes = fs.statSync(path).size;
  if (format !== 'vhd') {
    const d = format === 'iso' ? IsoImage.open(path) : RawDisk.open(path, { readOnly: true });
    const out = { path, format, virtualSize: d.sectorCount * d.sectorSize, fileSize: fileBytes, sectorSize: d.sectorSize };
    d.close();
    return out;
  }
  const d = VhdDisk.open(path, { readOnly: true, noParent: true });
  try {
    const f = d.footer;
    const out: DiskInfo = {
      path, format, type: d.type, virtualSize: d.sectorCount * SECTOR_SIZE, fileSize: fileBytes, sectorSize: SECTOR_SIZE,
      geometry: f.geometry, uniqueId: uuidString(f.uniqueId),
      creator: `${f.creatorApp.trim() || '?'} ${f.creatorVersion >>> 16}.${f.creatorVersion & 0xffff}`,
      created: vhdTimeToDate(f.timestamp).toISOString(), savedState: f.savedState !== 0,
    };
    if (d.type !== 'fixed') {
      out.blockSize = d.blockSize;
      out.blocks = d.blockCount;
      out.allocatedBlocks = d.allocatedBlocks();
    }
    if (d.type === 'differencing') {
      const h = d.header!;
      out.parent = { name: h.parentName, uniqueId: uuidString(h.parentUniqueId), timestamp: vhdTimeToDate(h.parentTimestamp).toISOString() };
      try {
        const full = VhdDisk.open(path, { readOnly: true });
        out.parent.path = full.parentPath;
        full.close();
      } catch (e) {
        if (!(e instanceof DiskError)) throw e;
        out.parent.error = e.message;
      }
    }
    return out;
  } finally { d.close(); }
}

// ---- check and repair ----

export interface CheckProblem {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  /** `check --repair` can fix it without risk to data. */
  repairable: boolean;
}

export interface CheckReport {
  path: string;
  format: DiskFormat;
  problems: CheckProblem[];
  repaired: string[];
  /** No errors (warnings such as leaked space may remain). */
  ok: boolean;
}

export function check(path: string, repair = false): CheckReport {
  const format = detectFormat(path);
  const report: CheckReport = { path, format, problems: [], repaired: [], ok: true };
  if (format !== 'vhd') {
    openDisk(path, { readOnly: true }).close(); // raw and ISO images have no structure to check
    return report;
  }
  const footerFix = footerRepair(path);
  if (footerFix) {
    report.problems.push({ severity: 'error', code: footerFix.code, message: footerFix.message, repairable: true });
    if (repair) {
      footerFix.apply();
      report.repaired.push(footerFix.message);
      report.problems.length = 0;
    } else {
      report.ok = false;
      return report;
    }
  }
  let disk: VhdDisk;
  try {
    disk = VhdDisk.open(path, { readOnly: true });
  } catch (e) {
    if (!(e instanceof DiskError)) throw e;
    report.problems.push({ severity: 'error', code: e.code, message: e.message, repairable: false });
    report.ok = false;
    return report;
  }
  try {
    if (disk.type !== 'fixed') {
      const leaked = leakedBytes(disk);
      if (leaked > 0) {
        report.problems.push({
          severity: 'warning', code: 'leaked',
          message: `${leaked} bytes of the file belong to no block or metadata (alignment padding, or left by an ` +
            `interrupted write); 'soulvm disk compact' reclaims them`,
          repairable: false,
        });
      }
    }
  } finally { disk.close(); }
  return report;
}

/** Bytes between the metadata, the blocks and the trailing footer that nothing refers to. */
function leakedBytes(disk: VhdDisk): number {
  const h = disk.header!;
  let used = FOOTER_SIZE + HEADER_SIZE + Math.ceil(h.maxTableEntries * 4 / SECTOR_SIZE) * SECTOR_SIZE;
  for (const l of h.locators) used += Math.ceil(l.dataLength / SECTOR_SIZE) * SECTOR_SIZE;
  used += disk.allocatedBlocks() * (bitmapBytesFor(h.blockSize) + h.blockSize);
  return Math.max(0, disk.fileBytes - FOOTER_SIZE - used);
}

/**
 * A safe fix for the footers of a dynamic or differencing disk, if one is needed: restore a
 * missing or damaged trailing footer from the copy at the start, or the copy from the trailer.
 */
function footerRepair(path: string): { code: string; message: string; apply: () => void } | undefined {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fileSize(fd);
    const read = (at: number): VhdFooter | DiskError => {
      const b = new Uint8Array(FOOTER_SIZE);
      preadFull(fd, b, at);
      try { return decodeFooter(b, path, at === 0 ? 'at the start' : 'at the end of the file'); } catch (e) {
        if (e instanceof DiskError) return e;
        throw e;
      }
    };
    const tail = size >= FOOTER_SIZE ? read(size - FOOTER_SIZE) : new DiskError('truncated', path, 'file too short');
    const head = read(0);
    if (!(tail instanceof DiskError)) {
      if (tail.diskType === DISK_FIXED || tail.dataOffset < FOOTER_SIZE) return undefined;
      const good = encodeFooter(tail);
      if (!(head instanceof DiskError) && sameBytes(encodeFooter(head), good)) return undefined;
      return {
        code: 'footer-copy', message: 'the footer copy at the start of the file differs from the trailing footer',
        apply: () => writeAt(path, good, 0),
      };
    }
    if (head instanceof DiskError || head.diskType === DISK_FIXED) return undefined; // nothing to restore from
    // Put the footer after everything the table refers to, and never over bytes in use.
    const end = dataEnd(fd, path, head);
    if (end > size + 256 * 1024 * 1024) return undefined; // the table itself is damaged: not a footer problem
    const tailBytes = new Uint8Array(FOOTER_SIZE);
    if (size >= FOOTER_SIZE) preadFull(fd, tailBytes, size - FOOTER_SIZE);
    const damagedFooterAtEnd = size - FOOTER_SIZE >= end && String.fromCharCode(...tailBytes.subarray(0, 8)) === FOOTER_COOKIE;
    const at = damagedFooterAtEnd ? size - FOOTER_SIZE : Math.max(end, Math.ceil(size / SECTOR_SIZE) * SECTOR_SIZE);
    return {
      code: tail.code,
      message: `the trailing footer is ${tail.code === 'bad-checksum' ? 'damaged' : 'missing'}; it is restored from the copy at the start (at offset ${at})`,
      apply: () => writeAt(path, encodeFooter(head), at),
    };
  } finally { fs.closeSync(fd); }
}

/** End of the last structure a dynamic disk's header and table refer to. */
function dataEnd(fd: number, path: string, footer: VhdFooter): number {
  const hb = new Uint8Array(HEADER_SIZE);
  preadFull(fd, hb, footer.dataOffset);
  const h = decodeHeader(hb, path);
  let end = Math.max(footer.dataOffset + HEADER_SIZE, h.tableOffset + h.maxTableEntries * 4);
  for (const l of h.locators) end = Math.max(end, l.offset + l.dataLength);
  const blocks = Math.ceil(footer.currentSize / h.blockSize);
  const bat = new Uint8Array(blocks * 4);
  preadFull(fd, bat, h.tableOffset);
  const v = new DataView(bat.buffer);
  const span = bitmapBytesFor(h.blockSize) + h.blockSize;
  for (let i = 0; i < blocks; i++) {
    const e = v.getUint32(4 * i);
    if (e !== UNUSED_ENTRY) end = Math.max(end, e * SECTOR_SIZE + span);
  }
  return Math.ceil(end / SECTOR_SIZE) * SECTOR_SIZE;
}

function writeAt(path: string, data: Uint8Array, at: number): void {
  const fd = fs.openSync(path, 'r+');
  try {
    pwriteFull(fd, data, at);
    fs.fsyncSync(fd);
  } finally { fs.closeSync(fd); }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
