// Saved state declared once, as data.
//
// A device lists its state fields (name → type) in a StateDesc beside the fields themselves;
// generic code turns the object into bytes and back, so save and restore can never drift
// apart (the idea of QEMU's VMStateDescription). Loading decodes and checks the whole blob
// before touching the object, so a bad state gets a StateError and changes nothing.
//
// Encoding of one section (little-endian):
//   u16 name length, name (UTF-8), u32 version, u32 payload length, payload
// The payload is the fields in declaration order: integers in their width, bool as one byte,
// f64 as eight, bytes/arrays as their elements, nested structs inline, timers as the f64
// deadline (-1 when disarmed).

/** Something a scheduler timer looks like to the state code. */
export interface TimerLike {
  readonly armed: boolean;
  readonly deadline: number;
  arm(atNs: number): void;
  disarm(): void;
}

export type Scalar = 'u8' | 'u16' | 'u32' | 'i32' | 'f64' | 'bool';
export type FieldType =
  | Scalar
  | 'timer'
  | { bytes: number }                          // a Uint8Array of exactly this length
  | { array: Scalar; length: number }          // a JS array or typed array of scalars
  | { struct: StateDesc }                      // a nested object
  | { structs: StateDesc; length: number };    // an array of nested objects

/**
 * A field, optionally present only from a given version on (older states leave it as is),
 * and for integers an upper bound that a loaded value must respect.
 */
export type FieldSpec = FieldType | { type: FieldType; since?: number; max?: number };

export interface StateDesc {
  readonly name: string;
  /** Current version, written into saved states. */
  readonly version: number;
  /** Oldest version this code can still load. */
  readonly minVersion: number;
  readonly fields: ReadonlyArray<{ name: string; type: FieldType; since: number; max: number }>;
  /** Called after a successful load: recompute derived values, re-drive outputs, validate. */
  readonly postLoad?: (obj: any) => void;
}

export class StateError extends Error {
  override name = 'StateError';
  /** The CLI prints the message as one line. */
  readonly userFacing = true;
}

export function defineState(
  name: string,
  version: number,
  fields: Record<string, FieldSpec>,
  options: { minVersion?: number; postLoad?: (obj: any) => void } = {},
): StateDesc {
  const list = Object.entries(fields).map(([n, spec]) =>
    typeof spec === 'object' && 'type' in spec
      ? { name: n, type: spec.type, since: spec.since ?? 0, max: spec.max ?? Infinity }
      : { name: n, type: spec as FieldType, since: 0, max: Infinity });
  return { name, version, minVersion: options.minVersion ?? 1, fields: list, postLoad: options.postLoad };
}

/** The same description under another section name (several instances of one device). */
export function named(desc: StateDesc, name: string): StateDesc {
  return { ...desc, name };
}

/** Anything that declares its state: devices keep their StateDesc in `stateDesc`. */
export interface Stateful {
  readonly stateDesc: StateDesc;
}

// ---- encoding ----

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }
  u8(v: number): void { this.room(1); this.view.setUint8(this.length, v); this.length += 1; }
  u16(v: number): void { this.room(2); this.view.setUint16(this.length, v, true); this.length += 2; }
  u32(v: number): void { this.room(4); this.view.setUint32(this.length, v >>> 0, true); this.length += 4; }
  i32(v: number): void { this.room(4); this.view.setInt32(this.length, v | 0, true); this.length += 4; }
  f64(v: number): void { this.room(8); this.view.setFloat64(this.length, v, true); this.length += 8; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.length); this.length += b.length; }
  patchU32(at: number, v: number): void { this.view.setUint32(at, v >>> 0, true); }
  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

class Reader {
  private readonly view: DataView;
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly what: string) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new StateError(`${this.what}: saved state is truncated (needs ${n} more bytes at offset ${this.pos}, has ${this.buf.length - this.pos})`);
  }
  u8(): number { this.need(1); return this.view.getUint8(this.pos++); }
  u16(): number { this.need(2); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  i32(): number { this.need(4); const v = this.view.getInt32(this.pos, true); this.pos += 4; return v; }
  f64(): number { this.need(8); const v = this.view.getFloat64(this.pos, true); this.pos += 8; return v; }
  bytes(n: number): Uint8Array { this.need(n); const b = this.buf.slice(this.pos, this.pos + n); this.pos += n; return b; }
  get left(): number { return this.buf.length - this.pos; }
}


function writeScalar(w: Writer, t: Scalar, v: unknown, where: string): void {
  if (t === 'bool') {
    if (typeof v !== 'boolean') throw new StateError(`${where}: expected a boolean, found ${typeof v}`);
    w.u8(v ? 1 : 0);
    return;
  }
  if (typeof v !== 'number' || Number.isNaN(v) && t !== 'f64') throw new StateError(`${where}: expected a number, found ${String(v)}`);
  switch (t) {
    case 'u8': w.u8(v); break;
    case 'u16': w.u16(v); break;
    case 'u32': w.u32(v); break;
    case 'i32': w.i32(v); break;
    case 'f64': w.f64(v); break;
  }
}

function readScalar(r: Reader, t: Scalar, where: string): number | boolean {
  switch (t) {
    case 'u8': return r.u8();
    case 'u16': return r.u16();
    case 'u32': return r.u32();
    case 'i32': return r.i32();
    case 'f64': return r.f64();
    case 'bool': {
      const b = r.u8();
      if (b > 1) throw new StateError(`${where}: bad boolean value ${b}`);
      return b === 1;
    }
  }
}

function writeFields(w: Writer, desc: StateDesc, obj: any, path: string): void {
  if (obj === null || typeof obj !== 'object') throw new StateError(`${path}: expected an object`);
  for (const f of desc.fields) {
    const where = `${path}.${f.name}`;
    const v = obj[f.name];
    if (v === undefined) throw new StateError(`${where}: field is declared in the state of ${desc.name} but missing on the object`);
    writeValue(w, f.type, v, where);
  }
}

function writeValue(w: Writer, t: FieldType, v: any, where: string): void {
  if (typeof t === 'string') {
    if (t === 'timer') { w.f64((v as TimerLike).armed ? (v as TimerLike).deadline : -1); return; }
    writeScalar(w, t, v, where);
  } else if ('bytes' in t) {
    if (!(v instanceof Uint8Array) || v.length !== t.bytes) throw new StateError(`${where}: expected ${t.bytes} bytes`);
    w.bytes(v);
  } else if ('array' in t) {
    if (v.length !== t.length) throw new StateError(`${where}: expected ${t.length} elements, found ${v.length}`);
    for (let i = 0; i < t.length; i++) writeScalar(w, t.array, v[i], `${where}[${i}]`);
  } else if ('struct' in t) {
    writeFields(w, t.struct, v, where);
  } else {
    if (v.length !== t.length) throw new StateError(`${where}: expected ${t.length} elements, found ${v.length}`);
    for (let i = 0; i < t.length; i++) writeFields(w, t.structs, v[i], `${where}[${i}]`);
  }
}

/** Decoded values, checked but not yet applied: a plain tree mirroring the description. */
type Decoded = Map<string, unknown>;

function readFields(r: Reader, desc: StateDesc, version: number, path: string): Decoded {
  const out: Decoded = new Map();
  for (const f of desc.fields) {
    if (f.since > version) continue;
    const v = readValue(r, f.type, version, `${path}.${f.name}`);
    if (typeof v === 'number' && v > f.max) throw new StateError(`${path}.${f.name}: value ${v} is out of range (at most ${f.max})`);
    if (Array.isArray(v) && f.max !== Infinity) {
      for (const e of v) if ((e as number) > f.max) throw new StateError(`${path}.${f.name}: value ${e} is out of range (at most ${f.max})`);
    }
    out.set(f.name, v);
  }
  return out;
}

function readValue(r: Reader, t: FieldType, version: number, where: string): unknown {
  if (typeof t === 'string') {
    if (t === 'timer') {
      const d = r.f64();
      if (Number.isNaN(d) || (d < 0 && d !== -1)) throw new StateError(`${where}: bad timer deadline ${d}`);
      return d;
    }
    return readScalar(r, t, where);
  }
  if ('bytes' in t) return r.bytes(t.bytes);
  if ('array' in t) {
    const a: unknown[] = new Array(t.length);
    for (let i = 0; i < t.length; i++) a[i] = readScalar(r, t.array, `${where}[${i}]`);
    return a;
  }
  if ('struct' in t) return readFields(r, t.struct, version, where);
  const list: Decoded[] = new Array(t.length);
  for (let i = 0; i < t.length; i++) list[i] = readFields(r, t.structs, version, `${where}[${i}]`);
  return list;
}

function applyFields(desc: StateDesc, obj: any, values: Decoded): void {
  for (const f of desc.fields) {
    if (!values.has(f.name)) continue;
    const v = values.get(f.name);
    const t = f.type;
    if (typeof t === 'string') {
      if (t === 'timer') { const d = v as number; if (d < 0) obj[f.name].disarm(); else obj[f.name].arm(d); } else obj[f.name] = v;
    } else if ('bytes' in t) {
      (obj[f.name] as Uint8Array).set(v as Uint8Array);
    } else if ('array' in t) {
      const dst = obj[f.name], src = v as unknown[];
      for (let i = 0; i < t.length; i++) dst[i] = src[i];
    } else if ('struct' in t) {
      applyFields(t.struct, obj[f.name], v as Decoded);
    } else {
      const src = v as Decoded[];
      for (let i = 0; i < t.length; i++) applyFields(t.structs, obj[f.name][i], src[i]);
    }
  }
  desc.postLoad?.(obj);
}

// ---- public API ----

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function writeSection(w: Writer, desc: StateDesc, obj: object): void {
  const name = utf8.encode(desc.name);
  w.u16(name.length);
  w.bytes(name);
  w.u32(desc.version);
  const lengthAt = w.length;
  w.u32(0);
  const start = w.length;
  writeFields(w, desc, obj, desc.name);
  w.patchU32(lengthAt, w.length - start);
}

interface ReadSection { name: string; version: number; payload: Uint8Array }

function readSection(r: Reader): ReadSection {
  const nameLength = r.u16();
  let name: string;
  try { name = fromUtf8.decode(r.bytes(nameLength)); } catch { throw new StateError('saved state: section name is not valid UTF-8'); }
  const version = r.u32();
  const length = r.u32();
  return { name, version, payload: r.bytes(length) };
}

/** Decode a section's payload for `desc`, with every check, without touching any object. */
function decodeSection(desc: StateDesc, s: ReadSection): Decoded {
  if (s.name !== desc.name) throw new StateError(`saved state is for "${s.name}", not "${desc.name}"`);
  if (s.version > desc.version) throw new StateError(`${desc.name}: saved state version ${s.version} is newer than this soulvm understands (${desc.version})`);
  if (s.version < desc.minVersion) throw new StateError(`${desc.name}: saved state version ${s.version} is too old (oldest supported is ${desc.minVersion})`);
  const r = new Reader(s.payload, desc.name);
  const values = readFields(r, desc, s.version, desc.name);
  if (r.left !== 0) throw new StateError(`${desc.name}: saved state has ${r.left} unexpected trailing bytes`);
  return values;
}

/** Serialize an object's declared state into one section. */
export function saveState(desc: StateDesc, obj: object): Uint8Array {
  const w = new Writer();
  writeSection(w, desc, obj);
  return w.result();
}

/** Restore an object's declared state from a section made by saveState. All or nothing. */
export function loadState(desc: StateDesc, obj: object, data: Uint8Array): void {
  const r = new Reader(data, desc.name);
  const s = readSection(r);
  if (r.left !== 0) throw new StateError(`${desc.name}: ${r.left} unexpected bytes after the section`);
  applyFields(desc, obj, decodeSection(desc, s));
}

/** Serialize many devices into one blob (a u32 count, then their sections). */
export function saveAll(devices: readonly Stateful[]): Uint8Array {
  const w = new Writer();
  w.u32(devices.length);
  for (const d of devices) writeSection(w, d.stateDesc, d);
  return w.result();
}

/**
 * Restore many devices from saveAll's blob, matching sections by name. Every section is
 * decoded and checked before any device changes; a missing or unknown section is an error.
 */
export function loadAll(devices: readonly Stateful[], data: Uint8Array): void {
  const r = new Reader(data, 'saved state');
  const count = r.u32();
  const sections = new Map<string, ReadSection>();
  for (let i = 0; i < count; i++) {
    const s = readSection(r);
    if (sections.has(s.name)) throw new StateError(`saved state has two sections named "${s.name}"`);
    sections.set(s.name, s);
  }
  if (r.left !== 0) throw new StateError(`saved state has ${r.left} unexpected trailing bytes`);
  const decoded: Decoded[] = [];
  for (const d of devices) {
    const s = sections.get(d.stateDesc.name);
    if (!s) throw new StateError(`saved state has no section for "${d.stateDesc.name}"`);
    sections.delete(d.stateDesc.name);
    decoded.push(decodeSection(d.stateDesc, s));
  }
  if (sections.size) throw new StateError(`saved state has sections for unknown devices: ${[...sections.keys()].join(', ')}`);
  devices.forEach((d, i) => applyFields(d.stateDesc, d, decoded[i]));
}

/** The sections of saveAll's blob by name, undecoded (to compare two states part by part). */
export function sectionsOf(data: Uint8Array): Map<string, Uint8Array> {
  const r = new Reader(data, 'saved state');
  const out = new Map<string, Uint8Array>();
  const count = r.u32();
  for (let i = 0; i < count; i++) { const s = readSection(r); out.set(s.name, s.payload); }
  return out;
}
