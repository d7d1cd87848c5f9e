// soulvm's saved-state file (.vsv): a whole machine at an instruction boundary.
//
// Layout (little-endian):
//   magic    "SOULVSV" 0x1A
//   u32      format version (FORMAT_VERSION)
//   u32      header length, header: UTF-8 JSON (VsvHeader: soulvm version, time of the save,
//            the machine configuration, its digest and the attached disks' identities)
//   u32      CRC-32 of the header
//   sections, each: u16 name length, name (UTF-8), u32 flags (bit 0: deflated),
//            u32 stored length, u32 length once inflated, u32 CRC-32 of the stored bytes, bytes
//   the last section is "end" (empty), so a truncated file is always noticed.
// Sections: "devices" (the registry's device sections, state.ts encoding) and "ram" (a bitmap
// of the RAM's non-zero 4 KiB pages, then those pages, deflated).
// Reading checks every byte of the file (magic, version, lengths, checksums, configuration)
// before the machine is touched; a bad file is a StateError and changes nothing.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { StateError } from './state.ts';

export const VSV_MAGIC = new Uint8Array([0x53, 0x4f, 0x55, 0x4c, 0x56, 0x53, 0x56, 0x1a]); // "SOULVSV\x1a"
export const FORMAT_VERSION = 1;
const PAGE = 4096;
const FLAG_DEFLATED = 1;
/** Sections larger than this are refused before allocating (the RAM of a 4 GiB machine fits). */
const MAX_SECTION = 0x1_0000_0000;

export interface VsvDisk { slot: string; sectors: number; sectorSize: number; readOnly: boolean }
export interface VsvHeader {
  soulvm: string;
  savedAt: string;
  /** What must match for the state to load: RAM size, device set, clock. */
  config: Record<string, unknown>;
  configDigest: string;
  disks: VsvDisk[];
}

export interface VsvContents { header: VsvHeader; devices: Uint8Array; ram: Uint8Array }

// ---- RAM: zero pages elided ----

function packRam(ram: Uint8Array): Uint8Array {
  const pages = Math.ceil(ram.length / PAGE);
  const bitmap = new Uint8Array(Math.ceil(pages / 8));
  const words = new Int32Array(ram.buffer, ram.byteOffset, ram.length >> 2);
  let used = 0;
  for (let p = 0; p < pages; p++) {
    const w0 = (p * PAGE) >> 2, w1 = Math.min(((p + 1) * PAGE) >> 2, words.length);
    for (let i = w0; i < w1; i++) if (words[i] !== 0) { bitmap[p >> 3] |= 1 << (p & 7); used++; break; }
  }
  const out = new Uint8Array(8 + bitmap.length + used * PAGE);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, ram.length, true);
  dv.setUint32(4, used, true);
  out.set(bitmap, 8);
  let at = 8 + bitmap.length;
  for (let p = 0; p < pages; p++) {
    if (!(bitmap[p >> 3] & (1 << (p & 7)))) continue;
    out.set(ram.subarray(p * PAGE, (p + 1) * PAGE), at);
    at += PAGE;
  }
  return out;
}

function unpackRam(packed: Uint8Array, ramSize: number): Uint8Array {
  if (packed.length < 8) throw new StateError('saved state: the RAM section is truncated');
  const dv = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const size = dv.getUint32(0, true), used = dv.getUint32(4, true);
  if (size !== ramSize) throw new StateError(`saved state holds ${size / 1048576} MiB of RAM; this machine has ${ramSize / 1048576} MiB`);
  const pages = Math.ceil(size / PAGE), bitmapLength = Math.ceil(pages / 8);
  if (packed.length !== 8 + bitmapLength + used * PAGE) throw new StateError('saved state: the RAM section has the wrong length');
  const bitmap = packed.subarray(8, 8 + bitmapLength);
  let count = 0;
  for (let p = 0; p < pages; p++) if (bitmap[p >> 3] & (1 << (p & 7))) count++;
  if (count !== used) throw new StateError('saved state: the RAM section\'s page map does not match its page count');
  const ram = new Uint8Array(size);
  let at = 8 + bitmapLength;
  for (let p = 0; p < pages; p++) {
    if (!(bitmap[p >> 3] & (1 << (p & 7)))) continue;
    ram.set(packed.subarray(at, at + PAGE), p * PAGE);
    at += PAGE;
  }
  return ram;
}

// ---- the file ----

class Out {
  readonly parts: Uint8Array[] = [];
  bytes(b: Uint8Array): void { this.parts.push(b); }
  u16(v: number): void { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, v, true); this.parts.push(b); }
  u32(v: number): void { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); this.parts.push(b); }
  section(name: string, data: Uint8Array, deflate: boolean): void {
    const stored = deflate ? new Uint8Array(deflateRawSync(data, { level: 1 })) : data;
    const n = new TextEncoder().encode(name);
    this.u16(n.length); this.bytes(n);
    this.u32(deflate ? FLAG_DEFLATED : 0);
    this.u32(stored.length); this.u32(data.length); this.u32(crc32(stored));
    this.bytes(stored);
  }
  result(): Uint8Array {
    const total = this.parts.reduce((s, p) => s + p.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

export function encodeVsv(header: VsvHeader, devices: Uint8Array, ram: Uint8Array): Uint8Array {
  const o = new Out();
  o.bytes(VSV_MAGIC);
  o.u32(FORMAT_VERSION);
  const h = new TextEncoder().encode(JSON.stringify(header));
  o.u32(h.length); o.bytes(h); o.u32(crc32(h));
  o.section('devices', devices, true);
  o.section('ram', packRam(ram), true);
  o.section('end', new Uint8Array(0), false);
  return o.result();
}

/** Parse and check a whole .vsv, for a machine with `ramSize` bytes of RAM. */
export function decodeVsv(file: Uint8Array, ramSize: number): VsvContents {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let pos = 0;
  const need = (n: number, what: string) => {
    if (pos + n > file.length) throw new StateError(`saved state is truncated (${what} at offset ${pos})`);
  };
  need(VSV_MAGIC.length, 'the signature');
  for (let i = 0; i < VSV_MAGIC.length; i++) if (file[i] !== VSV_MAGIC[i]) throw new StateError('not a soulvm saved state (bad signature)');
  pos = VSV_MAGIC.length;
  need(8, 'the header');
  const version = dv.getUint32(pos, true); pos += 4;
  if (version > FORMAT_VERSION) throw new StateError(`saved state format ${version} is newer than this soulvm understands (${FORMAT_VERSION})`);
  if (version < 1) throw new StateError(`saved state format ${version} is not valid`);
  const headerLength = dv.getUint32(pos, true); pos += 4;
  need(headerLength + 4, 'the header');
  const headerBytes = file.subarray(pos, pos + headerLength);
  if (crc32(headerBytes) !== dv.getUint32(pos + headerLength, true)) throw new StateError('saved state: the header is damaged (checksum mismatch)');
  let header: VsvHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch { throw new StateError('saved state: the header is damaged'); }
  if (!header || typeof header !== 'object' || typeof header.configDigest !== 'string' || !Array.isArray(header.disks)) {
    throw new StateError('saved state: the header is damaged');
  }
  pos += headerLength + 4;

  const sections = new Map<string, Uint8Array>();
  for (;;) {
    need(2, 'a section');
    const nameLength = dv.getUint16(pos, true); pos += 2;
    need(nameLength + 16, 'a section header');
    let name: string;
    try { name = new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(pos, pos + nameLength)); } catch { throw new StateError('saved state: a section name is damaged'); }
    pos += nameLength;
    const flags = dv.getUint32(pos, true), stored = dv.getUint32(pos + 4, true), length = dv.getUint32(pos + 8, true), crc = dv.getUint32(pos + 12, true);
    pos += 16;
    if (flags & ~FLAG_DEFLATED) throw new StateError(`saved state: section "${name}" has unknown flags ${flags}`);
    if (length > MAX_SECTION || stored > MAX_SECTION) throw new StateError(`saved state: section "${name}" is implausibly large`);
    need(stored, `section "${name}"`);
    const bytes = file.subarray(pos, pos + stored);
    pos += stored;
    if (crc32(bytes) !== crc) throw new StateError(`saved state: section "${name}" is damaged (checksum mismatch)`);
    if (sections.has(name)) throw new StateError(`saved state: section "${name}" appears twice`);
    if (name === 'end') {
      if (flags || stored || length) throw new StateError('saved state: the end marker is damaged');
      break;
    }
    let data: Uint8Array;
    if (flags & FLAG_DEFLATED) {
      try { data = new Uint8Array(inflateRawSync(bytes, { maxOutputLength: Math.max(length, 1) })); } catch { throw new StateError(`saved state: section "${name}" does not inflate`); }
    } else data = bytes;
    if (data.length !== length) throw new StateError(`saved state: section "${name}" has ${data.length} bytes, its header says ${length}`);
    sections.set(name, data);
  }
  if (pos !== file.length) throw new StateError(`saved state has ${file.length - pos} bytes after its end`);
  const devices = sections.get('devices'), ramPacked = sections.get('ram');
  if (!devices || !ramPacked) throw new StateError('saved state lacks its devices or RAM section');
  return { header, devices, ram: unpackRam(ramPacked, ramSize) };
}

/** Write `bytes` to `path` atomically: a temporary file, fsync, rename, fsync of the folder. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  try { const d = openSync(dirname(path), 'r'); try { fsyncSync(d); } finally { closeSync(d); } } catch { /* not every platform syncs folders */ }
}

export function readVsvFile(path: string): Uint8Array { return new Uint8Array(readFileSync(path)); }
