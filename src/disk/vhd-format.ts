// On-disk structures of the Virtual Hard Disk Image Format Specification (Microsoft, v1.0,
// October 2006): the 512-byte hard disk footer, the 1024-byte dynamic disk header with its
// parent locators, CHS geometry and the time base. All fields are big-endian.
import { DiskError } from './block-device.ts';

export const FOOTER_SIZE = 512;
export const HEADER_SIZE = 1024;
export const FOOTER_COOKIE = 'conectix';
export const HEADER_COOKIE = 'cxsparse';
export const UNUSED_ENTRY = 0xffffffff;

export const DISK_FIXED = 2;
export const DISK_DYNAMIC = 3;
export const DISK_DIFFERENCING = 4;
export type VhdType = 'fixed' | 'dynamic' | 'differencing';
export const TYPE_NAMES: Record<number, VhdType> = { 2: 'fixed', 3: 'dynamic', 4: 'differencing' };

/** Largest disk the spec's 32-bit BAT sector offsets and CHS limits allow, as qemu also caps it. */
export const MAX_DISK_BYTES = 2040 * 1024 ** 3;

/** Bytes of a block's sector bitmap: one bit per sector, padded to whole sectors. */
export function bitmapBytesFor(blockSize: number): number {
  return Math.ceil(blockSize / 512 / 8 / 512) * 512;
}

/** VHD time stamps count seconds from 2000-01-01 00:00:00 UTC. */
const VHD_EPOCH_MS = Date.UTC(2000, 0, 1);
export function vhdTime(ms: number): number {
  return Math.max(0, Math.floor((ms - VHD_EPOCH_MS) / 1000)) >>> 0;
}
export function vhdTimeToDate(t: number): Date {
  return new Date(VHD_EPOCH_MS + t * 1000);
}

export interface Geometry { cylinders: number; heads: number; sectorsPerTrack: number }

/** CHS geometry for a disk size, exactly as the specification's appendix computes it. */
export function chsGeometry(totalBytes: number): Geometry {
  let totalSectors = Math.floor(totalBytes / 512);
  if (totalSectors > 65535 * 16 * 255) totalSectors = 65535 * 16 * 255;
  let sectorsPerTrack: number, heads: number, cylinderTimesHeads: number;
  if (totalSectors >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    heads = Math.floor((cylinderTimesHeads + 1023) / 1024);
    if (heads < 4) heads = 4;
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}

/**
 * The size a new VHD gets for a requested size: rounded up until the CHS geometry covers it
 * exactly. Readers disagree on whether the footer's size or its geometry rules (Virtual PC and
 * qemu trust the geometry for most creators, Hyper-V the size); when both say the same,
 * every reader sees every byte. Past the CHS maximum (about 127 GB) the size itself is kept.
 */
export function vhdSizeFor(bytes: number): number {
  const wanted = Math.ceil(bytes / 512);
  if (wanted >= 65535 * 16 * 255) return wanted * 512;
  for (let n = wanted; ; n++) {
    const g = chsGeometry(n * 512);
    const product = g.cylinders * g.heads * g.sectorsPerTrack;
    if (product >= wanted) return product * 512;
  }
}

/** One's complement of the byte sum, skipping the 4-byte checksum field itself. */
export function vhdChecksum(buf: Uint8Array, checksumAt: number): number {
  let sum = 0;
  for (let i = 0; i < buf.length; i++) {
    if (i < checksumAt || i >= checksumAt + 4) sum += buf[i];
  }
  return ~sum >>> 0;
}

const u64 = (v: DataView, at: number): number => v.getUint32(at) * 0x1_0000_0000 + v.getUint32(at + 4);
const setU64 = (v: DataView, at: number, x: number): void => {
  v.setUint32(at, Math.floor(x / 0x1_0000_0000));
  v.setUint32(at + 4, x >>> 0);
};
const ascii = (b: Uint8Array, at: number, n: number): string => String.fromCharCode(...b.subarray(at, at + n));
const setAscii = (b: Uint8Array, at: number, s: string): void => {
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i);
};

export interface VhdFooter {
  features: number;
  formatVersion: number;
  /** Offset of the dynamic header; -1 (all ones on disk) for fixed disks. */
  dataOffset: number;
  timestamp: number;
  creatorApp: string;
  creatorVersion: number;
  creatorOs: number;
  originalSize: number;
  currentSize: number;
  geometry: Geometry;
  diskType: number;
  uniqueId: Uint8Array;
  savedState: number;
}

export function encodeFooter(f: VhdFooter): Uint8Array {
  const b = new Uint8Array(FOOTER_SIZE);
  const v = new DataView(b.buffer);
  setAscii(b, 0, FOOTER_COOKIE);
  v.setUint32(8, f.features);
  v.setUint32(12, f.formatVersion);
  if (f.dataOffset < 0) { v.setUint32(16, 0xffffffff); v.setUint32(20, 0xffffffff); } else setU64(v, 16, f.dataOffset);
  v.setUint32(24, f.timestamp);
  setAscii(b, 28, f.creatorApp.padEnd(4, ' ').slice(0, 4));
  v.setUint32(32, f.creatorVersion);
  v.setUint32(36, f.creatorOs);
  setU64(v, 40, f.originalSize);
  setU64(v, 48, f.currentSize);
  v.setUint16(56, f.geometry.cylinders);
  b[58] = f.geometry.heads;
  b[59] = f.geometry.sectorsPerTrack;
  v.setUint32(60, f.diskType);
  b.set(f.uniqueId, 68);
  b[84] = f.savedState;
  v.setUint32(64, vhdChecksum(b, 64));
  return b;
}

/** Parse a footer, throwing a DiskError naming `where` if it is not a valid one. */
export function decodeFooter(b: Uint8Array, path: string, where: string): VhdFooter {
  if (b.length < FOOTER_SIZE) throw new DiskError('truncated', path, `file too short to hold a VHD footer (${where})`);
  if (ascii(b, 0, 8) !== FOOTER_COOKIE) {
    throw new DiskError('bad-cookie', path, `no VHD footer ${where}: cookie is not '${FOOTER_COOKIE}' (truncated file, or not a VHD)`);
  }
  const v = new DataView(b.buffer, b.byteOffset, FOOTER_SIZE);
  const stored = v.getUint32(64);
  const actual = vhdChecksum(b.subarray(0, FOOTER_SIZE), 64);
  if (stored !== actual) {
    throw new DiskError('bad-checksum', path, `VHD footer ${where} has checksum ${hex(stored)}, computed ${hex(actual)}`);
  }
  const hi = v.getUint32(16), lo = v.getUint32(20);
  return {
    features: v.getUint32(8),
    formatVersion: v.getUint32(12),
    dataOffset: hi === 0xffffffff && lo === 0xffffffff ? -1 : u64(v, 16),
    timestamp: v.getUint32(24),
    creatorApp: ascii(b, 28, 4),
    creatorVersion: v.getUint32(32),
    creatorOs: v.getUint32(36),
    originalSize: u64(v, 40),
    currentSize: u64(v, 48),
    geometry: { cylinders: v.getUint16(56), heads: b[58], sectorsPerTrack: b[59] },
    diskType: v.getUint32(60),
    uniqueId: b.slice(68, 84),
    savedState: b[84],
  };
}

/** Platform codes of parent locators. */
export const LOCATOR_W2RU = 'W2ru'; // Windows path relative to the child, UTF-16LE
export const LOCATOR_W2KU = 'W2ku'; // absolute Windows path, UTF-16LE
export const LOCATOR_MACX = 'MacX'; // file URL, UTF-8: the POSIX form

export interface ParentLocator {
  code: string;
  /** Space reserved at `offset`: sectors says the spec, bytes write Virtual PC and Hyper-V. Not relied on. */
  dataSpace: number;
  dataLength: number;
  offset: number;
}

export interface DynamicHeader {
  tableOffset: number;
  headerVersion: number;
  maxTableEntries: number;
  blockSize: number;
  parentUniqueId: Uint8Array;
  parentTimestamp: number;
  parentName: string;
  locators: ParentLocator[];
}

export function encodeHeader(h: DynamicHeader): Uint8Array {
  const b = new Uint8Array(HEADER_SIZE);
  const v = new DataView(b.buffer);
  setAscii(b, 0, HEADER_COOKIE);
  v.setUint32(8, 0xffffffff);
  v.setUint32(12, 0xffffffff);
  setU64(v, 16, h.tableOffset);
  v.setUint32(24, h.headerVersion);
  v.setUint32(28, h.maxTableEntries);
  v.setUint32(32, h.blockSize);
  b.set(h.parentUniqueId, 40);
  v.setUint32(56, h.parentTimestamp);
  const name = h.parentName.slice(0, 256);
  for (let i = 0; i < name.length; i++) v.setUint16(64 + 2 * i, name.charCodeAt(i)); // UTF-16 big-endian
  h.locators.slice(0, 8).forEach((l, i) => {
    const at = 576 + 24 * i;
    setAscii(b, at, l.code);
    v.setUint32(at + 4, l.dataSpace);
    v.setUint32(at + 8, l.dataLength);
    setU64(v, at + 16, l.offset);
  });
  v.setUint32(36, vhdChecksum(b, 36));
  return b;
}

export function decodeHeader(b: Uint8Array, path: string): DynamicHeader {
  if (b.length < HEADER_SIZE) throw new DiskError('truncated', path, 'file too short to hold the dynamic disk header');
  if (ascii(b, 0, 8) !== HEADER_COOKIE) {
    throw new DiskError('bad-cookie', path, `dynamic disk header cookie is not '${HEADER_COOKIE}'`);
  }
  const v = new DataView(b.buffer, b.byteOffset, HEADER_SIZE);
  const stored = v.getUint32(36);
  const actual = vhdChecksum(b.subarray(0, HEADER_SIZE), 36);
  if (stored !== actual) {
    throw new DiskError('bad-checksum', path, `dynamic disk header has checksum ${hex(stored)}, computed ${hex(actual)}`);
  }
  let parentName = '';
  for (let i = 0; i < 256; i++) {
    const c = v.getUint16(64 + 2 * i);
    if (c === 0) break;
    parentName += String.fromCharCode(c);
  }
  const locators: ParentLocator[] = [];
  for (let i = 0; i < 8; i++) {
    const at = 576 + 24 * i;
    if (v.getUint32(at) === 0) continue;
    locators.push({ code: ascii(b, at, 4), dataSpace: v.getUint32(at + 4), dataLength: v.getUint32(at + 8), offset: u64(v, at + 16) });
  }
  return {
    tableOffset: u64(v, 16),
    headerVersion: v.getUint32(24),
    maxTableEntries: v.getUint32(28),
    blockSize: v.getUint32(32),
    parentUniqueId: b.slice(40, 56),
    parentTimestamp: v.getUint32(56),
    parentName,
    locators,
  };
}

export function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

export function uuidString(id: Uint8Array): string {
  const h = Array.from(id, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function sameId(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Encode a locator path in the form its platform code calls for. */
export function encodeLocatorPath(code: string, p: string): Uint8Array {
  if (code === LOCATOR_MACX) return new TextEncoder().encode(p);
  const out = new Uint8Array(p.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < p.length; i++) v.setUint16(2 * i, p.charCodeAt(i), true); // UTF-16 little-endian
  return out;
}

export function decodeLocatorPath(code: string, data: Uint8Array): string | undefined {
  if (code === LOCATOR_MACX) return new TextDecoder().decode(data).replace(/\0+$/, '');
  if (code === LOCATOR_W2RU || code === LOCATOR_W2KU) {
    let s = '';
    for (let i = 0; i + 1 < data.length; i += 2) {
      const c = data[i] | (data[i + 1] << 8);
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }
  return undefined; // 'Wi2r'/'Wi2k' (deprecated ANSI forms) and Mac aliases are not followed
}
