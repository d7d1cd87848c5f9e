// A small encoder for ACPI Machine Language (ACPI 1.0b, section 16 "ACPI Machine Language
// Specification"): just the terms soulvm's DSDT uses. Every builder returns the encoded bytes,
// so a table reads like the ASL it stands for:
//   scope('\\_SB', device('LNKA', name('_HID', eisaId('PNP0C0F')), ...))

export type Aml = number[];

// Opcodes (ACPI 1.0b table 16-1 and the grammar in 16.2).
const ZERO = 0x00, ONE = 0x01, ONES = 0xff;
const BYTE_PREFIX = 0x0a, WORD_PREFIX = 0x0b, DWORD_PREFIX = 0x0c, STRING_PREFIX = 0x0d;
const NAME_OP = 0x08, SCOPE_OP = 0x10, BUFFER_OP = 0x11, PACKAGE_OP = 0x12, METHOD_OP = 0x14;
const DUAL_NAME_PREFIX = 0x2e, MULTI_NAME_PREFIX = 0x2f, ROOT_CHAR = 0x5c, PARENT_PREFIX = 0x5e;
const EXT_OP = 0x5b, OPREGION_OP = 0x80, FIELD_OP = 0x81, DEVICE_OP = 0x82, PROCESSOR_OP = 0x83;
const LOCAL0 = 0x60, ARG0 = 0x68;
const STORE_OP = 0x70, DECREMENT_OP = 0x76, SHIFT_LEFT_OP = 0x79, AND_OP = 0x7b, OR_OP = 0x7d;
const FIND_SET_RIGHT_BIT_OP = 0x82, CREATE_WORD_FIELD_OP = 0x8b, LNOT_OP = 0x92, LEQUAL_OP = 0x93;
const IF_OP = 0xa0, ELSE_OP = 0xa1, RETURN_OP = 0xa4;

/** Region spaces for OperationRegion. */
export const SystemIO = 0x01, PciConfig = 0x02;

/** PkgLength: the length of what follows including the PkgLength bytes themselves (16.2.4). */
export function pkgLength(contentLength: number): Aml {
  if (contentLength + 1 < 0x40) return [contentLength + 1];
  for (let extra = 1; extra <= 3; extra++) {
    const total = contentLength + 1 + extra;
    if (total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0x0f)];
      for (let i = 0; i < extra; i++) out.push((total >>> (4 + 8 * i)) & 0xff);
      return out;
    }
  }
  throw new RangeError(`AML package too long: ${contentLength} bytes`);
}

/** A NameSeg: four characters, padded with '_'. */
function nameSeg(seg: string): Aml {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new RangeError(`bad AML name segment "${seg}"`);
  return [...seg.padEnd(4, '_')].map((c) => c.charCodeAt(0));
}

/** A NameString: `\ROOT.PATH`, `^PARENT`, or a relative `SEG.SEG`. */
export function nameString(path: string): Aml {
  const out: Aml = [];
  let rest = path;
  if (rest.startsWith('\\')) { out.push(ROOT_CHAR); rest = rest.slice(1); }
  while (rest.startsWith('^')) { out.push(PARENT_PREFIX); rest = rest.slice(1); }
  const segs = rest === '' ? [] : rest.split('.');
  if (segs.length === 0) out.push(ZERO);
  else if (segs.length === 2) out.push(DUAL_NAME_PREFIX);
  else if (segs.length > 2) out.push(MULTI_NAME_PREFIX, segs.length);
  for (const s of segs) out.push(...nameSeg(s));
  return out;
}

/** An integer constant in its shortest encoding. */
export function int(v: number): Aml {
  v = v >>> 0;
  if (v === 0) return [ZERO];
  if (v === 1) return [ONE];
  if (v === 0xffffffff) return [ONES];
  if (v <= 0xff) return [BYTE_PREFIX, v];
  if (v <= 0xffff) return [WORD_PREFIX, v & 0xff, v >>> 8];
  return [DWORD_PREFIX, ...le32(v)];
}

/** A DWord constant, always four bytes (what iasl emits for a DWORD-typed value such as _HID). */
export function dword(v: number): Aml { return [DWORD_PREFIX, ...le32(v)]; }

export function string(s: string): Aml {
  return [STRING_PREFIX, ...[...s].map((c) => c.charCodeAt(0) & 0x7f), 0];
}

/** EISAID("PNP0A03"): three letters of five bits and four hex digits, stored big-endian. */
export function eisaId(id: string): Aml {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new RangeError(`bad EISA id "${id}"`);
  const c = (i: number) => (id.charCodeAt(i) - 0x40) & 0x1f;
  const hi = (c(0) << 10) | (c(1) << 5) | c(2);
  const lo = parseInt(id.slice(3), 16);
  return dword(((hi >>> 8) | ((hi & 0xff) << 8) | ((lo >>> 8) << 16) | ((lo & 0xff) << 24)) >>> 0);
}

export function buffer(bytes: Aml): Aml {
  const body = [...int(bytes.length), ...bytes];
  return [BUFFER_OP, ...pkgLength(body.length), ...body];
}

export function pkg(...elements: Aml[]): Aml {
  const body = [elements.length, ...elements.flat()];
  return [PACKAGE_OP, ...pkgLength(body.length), ...body];
}

export function name(path: string, value: Aml): Aml { return [NAME_OP, ...nameString(path), ...value]; }

function block(op: Aml, head: Aml, body: Aml[]): Aml {
  const content = [...head, ...body.flat()];
  return [...op, ...pkgLength(content.length), ...content];
}

export function scope(path: string, ...body: Aml[]): Aml { return block([SCOPE_OP], nameString(path), body); }
export function device(path: string, ...body: Aml[]): Aml { return block([EXT_OP, DEVICE_OP], nameString(path), body); }
export function processor(path: string, id: number, pblkAddress: number, pblkLength: number, ...body: Aml[]): Aml {
  return block([EXT_OP, PROCESSOR_OP], [...nameString(path), id, ...le32(pblkAddress), pblkLength], body);
}
/** A method; serialized, as methods that create named objects must be. */
export function method(path: string, argCount: number, ...body: Aml[]): Aml {
  return block([METHOD_OP], [...nameString(path), (argCount & 7) | 0x08], body);
}

export function opRegion(path: string, space: number, offset: number, length: number): Aml {
  return [EXT_OP, OPREGION_OP, ...nameString(path), space, ...int(offset), ...int(length)];
}
/** Field(region, ByteAcc, NoLock, Preserve) { name, bits; ... }. */
export function field(region: string, units: [string, number][]): Aml {
  // A field unit's PkgLength is its width in bits (one byte below 64).
  if (units.some(([, bits]) => bits >= 0x40)) throw new RangeError('field units are at most 63 bits here');
  const list = units.flatMap(([n, bits]) => [...nameSeg(n), bits]);
  return block([EXT_OP, FIELD_OP], [...nameString(region), 0x01 /* ByteAcc, NoLock, Preserve */], [list]);
}

// Terms used inside methods.
export const local0: Aml = [LOCAL0];
export const arg0: Aml = [ARG0];
export const ref = (path: string): Aml => nameString(path);
export const ret = (v: Aml): Aml => [RETURN_OP, ...v];
export const store = (src: Aml, dst: Aml): Aml => [STORE_OP, ...src, ...dst];
export const and = (a: Aml, b: Aml, dst: Aml = [ZERO]): Aml => [AND_OP, ...a, ...b, ...dst];
export const or = (a: Aml, b: Aml, dst: Aml = [ZERO]): Aml => [OR_OP, ...a, ...b, ...dst];
export const shiftLeft = (a: Aml, b: Aml, dst: Aml = [ZERO]): Aml => [SHIFT_LEFT_OP, ...a, ...b, ...dst];
export const findSetRightBit = (a: Aml, dst: Aml): Aml => [FIND_SET_RIGHT_BIT_OP, ...a, ...dst];
export const decrement = (a: Aml): Aml => [DECREMENT_OP, ...a];
export const lnot = (a: Aml): Aml => [LNOT_OP, ...a];
export const lequal = (a: Aml, b: Aml): Aml => [LEQUAL_OP, ...a, ...b];
export const createWordField = (src: Aml, byteIndex: number, fieldName: string): Aml =>
  [CREATE_WORD_FIELD_OP, ...src, ...int(byteIndex), ...nameString(fieldName)];
export const ifThen = (predicate: Aml, ...body: Aml[]): Aml => block([IF_OP], predicate, body);
export const orElse = (...body: Aml[]): Aml => block([ELSE_OP], [], body);

// ---- resource descriptors (ACPI 1.0b section 6.4) ----

/** IO(Decode16, min, min, 1, length). */
export function ioPort(base: number, length: number): Aml {
  return [0x47, 0x01, base & 0xff, base >>> 8, base & 0xff, base >>> 8, 0x01, length];
}
/** IRQNoFlags(): edge-triggered, active-high, exclusive ISA interrupts. */
export function irqNoFlags(...irqs: number[]): Aml {
  const mask = irqs.reduce((m, i) => m | (1 << i), 0);
  return [0x22, mask & 0xff, mask >>> 8];
}
/** IRQ(Level, ActiveLow, Shared): what PCI interrupt links offer. */
export function irqLevelLowShared(mask: number): Aml { return [0x23, mask & 0xff, (mask >>> 8) & 0xff, 0x18]; }

const PRODUCER_FIXED = 0x0c; // resource producer, positive decode, min and max fixed
/** WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, count). */
export function wordBusNumber(min: number, max: number): Aml {
  return [0x88, 0x0d, 0x00, 0x02, PRODUCER_FIXED, 0x00, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1)];
}
/** WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, length). */
export function wordIo(min: number, max: number): Aml {
  return [0x88, 0x0d, 0x00, 0x01, PRODUCER_FIXED, 0x03, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1)];
}
/** DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite, 0, min, max, 0, length). */
export function dwordMemory(min: number, max: number): Aml {
  return [0x87, 0x17, 0x00, 0x00, PRODUCER_FIXED, 0x03, ...le32(0), ...le32(min), ...le32(max), ...le32(0), ...le32(max - min + 1)];
}
/** ResourceTemplate() { ... } as a buffer, with the end tag. */
export function resources(...descriptors: Aml[]): Aml { return buffer([...descriptors.flat(), 0x79, 0x00]); }

function le16(v: number): Aml { return [v & 0xff, (v >>> 8) & 0xff]; }
function le32(v: number): Aml { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]; }
