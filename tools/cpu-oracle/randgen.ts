// Random differential test generator for the CPU: seeded blocks of integer (and some x87)
// instructions, packed many to a ROM image, run in QEMU (the oracle), results stored as data.
//
//   npx tsx tools/cpu-oracle/randgen.ts [--seed N] [--roms N] [--blocks N] [--out DIR] [--no-qemu]
//
// Each block: fill a 512-byte data area from a per-block xorshift seed, load random values into
// all general registers but ESP and random arithmetic flags + DF, run 6..14 random instructions,
// then dump 12 dwords on port 0xE9 (raw, little-endian): block number, EAX..EDI, EFLAGS masked to
// the flags the block left defined, a hash of the data area, and the number of exceptions (#DE)
// the block took. The generator follows Intel's SDM on which flags each instruction leaves
// undefined (see `undefinedFlags` at each instruction kind below); before an instruction that
// reads a flag that is currently undefined it first inserts a CMP that defines all six.
// Output per ROM: NAME.bin.gz (image) and NAME.out.gz (QEMU's console bytes + stop line); and
// manifest.json: per ROM its mode and seed, and each block's id and code range [start, end) as
// linear addresses (the ROM is at F0000). `--show ID` regenerates the ROM holding block ID and
// prints that block's assembly listing (address, bytes, source).
// Needs nasm and qemu-system-i386; CI only reads the committed results.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

export type Mode = 'pm32' | 'real16' | 'fpu32';
export const RECORD_BYTES = 48;
export const DATA = 0x8000;
export const DATA_SIZE = 512;

// flag bits
const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800, DF = 0x400;
const ALL6 = CF | PF | AF | ZF | SF | OF;
// x87 condition codes in the status word
const FC0 = 0x100, FC1 = 0x200, FC2 = 0x400, FC3 = 0x4000;

/** Small deterministic PRNG (xorshift128+ on 32-bit halves: mulberry32 is enough here). */
class Rng {
  constructor(private s: number) {}
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number { return this.u32() % n; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  /** Interesting 32-bit values: edges, small numbers, sign boundaries, random. */
  value(): number {
    switch (this.int(8)) {
      case 0: return this.pick([0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe]);
      case 1: return this.int(16);
      case 2: return (0x100000000 - 1 - this.int(16)) >>> 0;
      default: return this.u32();
    }
  }
}

const hex = (v: number) => '0x' + (v >>> 0).toString(16);
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'ebp', 'esi', 'edi'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'bp', 'si', 'di'];
const R8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const SIZES = [8, 16, 32] as const;
const BASES = ['eax', 'ecx', 'edx', 'ebx', 'ebp', 'esi', 'edi'];
type Size = 8 | 16 | 32;
const regOf = (size: Size, i: number) => size === 8 ? R8[i % 8] : size === 16 ? R16[i % 7] : R32[i % 7];
const ptr = (size: Size) => size === 8 ? 'byte' : size === 16 ? 'word' : 'dword';

/** Flags each condition code reads. */
const CONDITIONS: Record<string, number> = {
  o: OF, no: OF, b: CF, ae: CF, e: ZF, ne: ZF, be: CF | ZF, a: CF | ZF,
  s: SF, ns: SF, p: PF, np: PF, l: SF | OF, ge: SF | OF, le: ZF | SF | OF, g: ZF | SF | OF,
};

interface Emitted { lines: string[] }

class BlockBuilder {
  lines: string[] = [];
  /** Flags currently undefined (bits of ALL6). */
  undef = 0;
  /** x87 registers in use (fpu32 blocks start with FNINIT). */
  fdepth = 0;
  /** x87 condition codes (C0-C3 bits of the status word) currently undefined. */
  fccUndef = 0;
  label = 0;
  constructor(readonly rng: Rng, readonly mode: Mode, readonly blockId: number) {}

  get bits16() { return this.mode === 'real16'; }
  emit(s: string) { this.lines.push(s); }
  /**
   * Emits an x87 instruction and follows the SDM on the condition codes it leaves undefined:
   * compares, FXAM and FPREM/FPREM1 define C0-C3; FCOMI/FUCOMI define C1 and leave C0 C2 C3
   * alone; FLDCW leaves all four undefined; every other instruction here defines C1 only (0,
   * or the rounding direction) and leaves C0 C2 C3 undefined.
   */
  femit(s: string) {
    this.emit(s);
    const mn = s.split(' ')[0];
    if (!mn.startsWith('f')) return;
    if (/^f(u?comp{0,2}|tst|xam|prem1?)$/.test(mn)) this.fccUndef = 0;
    else if (/^fu?comi$/.test(mn)) this.fccUndef &= ~FC1;
    else if (mn === 'fldcw') this.fccUndef = FC0 | FC1 | FC2 | FC3;
    else this.fccUndef = FC0 | FC2 | FC3;
  }

  /** Account for an instruction's flag effects: reads must be defined, `def` become defined, `undef` undefined. */
  flags(reads: number, def: number, undef: number) {
    if (reads & this.undef) this.defineFlags();
    this.undef = (this.undef & ~def) | undef;
  }
  defineFlags() {
    const r = this.rng;
    this.emit(`cmp ${regOf(32, r.int(7))}, ${regOf(32, r.int(7))}`);
    this.undef = 0;
  }
  /** A memory operand inside the data area (the generator may set a base register first). */
  mem(size: Size, span = 4, avoid = ''): string {
    const r = this.rng;
    const off = DATA + 16 + r.int(DATA_SIZE - 32 - span);
    if (this.bits16) {
      // every 16-bit form: [bx+si] [bx+di] [bp+si] [bp+di] [si] [di] [bp+d] [bx], with displacements
      const forms = ['bx+si', 'bx+di', 'bp+si', 'bp+di', 'si', 'di', 'bp', 'bx', ''];
      const f = r.pick(forms);
      if (f === '') return `${ptr(size)} [${hex(off)}]`;
      const regs = f.split('+');
      const disp = r.int(3) === 0 ? 0 : r.int(2) ? r.int(128) : 0x100 + r.int(0x100);
      let rest = off - disp;
      for (let i = 0; i < regs.length; i++) {
        const v = i === regs.length - 1 ? rest : r.int(Math.max(1, rest >> 1));
        this.emit(`mov ${regs[i]}, ${hex(v)}`);
        rest -= v;
      }
      const seg = f.startsWith('bp') ? 'ss:' : '';  // SS = DS = 0 here; the override is still decoded
      return `${ptr(size)} [${seg}${f}${disp ? '+' + hex(disp) : ''}]`;
    }
    // 32-bit: absolute, base+disp, base+index*scale+disp (all scales, ebp/esp bases)
    switch (r.int(4)) {
      case 0: return `${ptr(size)} [${hex(off)}]`;
      case 1: {
        const base = r.pick(BASES.filter((x) => x !== avoid));
        const disp = r.pick([0, r.int(128), -r.int(128), 0x1000 + r.int(0x1000)]);
        this.emit(`mov ${base}, ${hex(off - disp)}`);
        return `${ptr(size)} [${base}${disp >= 0 ? '+' : '-'}${hex(Math.abs(disp))}]`;
      }
      default: {
        const base = r.pick(BASES.filter((x) => x !== avoid));
        let index = r.pick(BASES.filter((x) => x !== avoid));
        if (index === base) index = base === 'esi' ? 'edi' : 'esi';
        const scale = r.pick([1, 2, 4, 8]);
        const iv = r.int(24) - 8;
        const disp = r.pick([0, r.int(128), 0x1000 + r.int(0x1000)]);
        this.emit(`mov ${index}, ${hex(iv >>> 0)}`);
        this.emit(`mov ${base}, ${hex((off - disp - iv * scale) >>> 0)}`);
        return `${ptr(size)} [${base}+${index}*${scale}${disp ? '+' + hex(disp) : ''}]`;
      }
    }
  }
  /** Before an instruction that may fault (#DE): resume after it. */
  mayFault(instr: string) {
    const l = `.f${this.blockId}_${this.label++}`;
    this.emit(this.bits16 ? `mov dword [ss:resume], ${l}` : `mov dword [resume], ${l}`);
    this.emit(instr);
    this.emit(`${l}:`);
  }
}

type Gen = (b: BlockBuilder) => void;
const rs = (b: BlockBuilder): Size => b.rng.pick(SIZES);
const reg = (b: BlockBuilder, size: Size) => regOf(size, b.rng.int(8));
const imm = (b: BlockBuilder, size: Size) => {
  const v = b.rng.value();
  return hex(size === 8 ? v & 0xff : size === 16 ? v & 0xffff : v);
};
/** A destination/source: register or memory. */
const rm = (b: BlockBuilder, size: Size) => b.rng.chance(0.35) ? b.mem(size) : reg(b, size);

const GENERATORS: [number, Gen][] = [
  // ALU: ADD/ADC/SUB/SBB/CMP define all six flags; AND/OR/XOR leave AF undefined (SDM).
  [10, (b) => {
    const op = b.rng.pick(['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp']);
    const size = rs(b);
    const logic = op === 'and' || op === 'or' || op === 'xor';
    let text: string;
    switch (b.rng.int(5)) {
      case 0: text = `${op} ${reg(b, size)}, ${reg(b, size)}`; break;
      case 1: text = `${op} ${rm(b, size)}, ${imm(b, size)}`; break;
      case 2: text = `${op} ${reg(b, size)}, ${b.mem(size)}`; break;
      case 3: text = `${op} ${b.mem(size)}, ${reg(b, size)}`; break;
      default: text = size === 8 ? `${op} al, ${imm(b, 8)}` : `${op} ${rm(b, size)}, byte ${(b.rng.int(256) - 128)}`;
    }
    b.flags(op === 'adc' || op === 'sbb' ? CF : 0, ALL6, logic ? AF : 0);
    b.emit(text);
  }],
  // TEST: AF undefined.
  [2, (b) => {
    const size = rs(b);
    b.flags(0, ALL6, AF);
    b.emit(b.rng.chance(0.5) ? `test ${rm(b, size)}, ${reg(b, size)}` : `test ${rm(b, size)}, ${imm(b, size)}`);
  }],
  // INC/DEC (CF unaffected), NEG (all defined), NOT (none).
  [4, (b) => {
    const op = b.rng.pick(['inc', 'dec', 'neg', 'not']);
    const size = rs(b);
    const target = rm(b, size);
    if (op === 'neg') b.flags(0, ALL6, 0);
    else if (op !== 'not') b.flags(0, ALL6 & ~CF, 0);
    b.emit(`${op} ${target}`);
  }],
  // Shifts and rotates by 1, by an immediate and by CL, every count 0..33 and random counts.
  [10, (b) => {
    const r = b.rng;
    const op = r.pick(['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar', 'sal']);
    const size = rs(b);
    const count = r.chance(0.8) ? r.int(34) : r.int(256);
    const byCl = r.int(3) === 0;
    if (byCl) b.emit(`mov cl, ${count}`);
    // (a CL count with CL itself as the target rotates/shifts CL by its own value: still `count`)
    const target = b.rng.chance(0.35) ? b.mem(size, 4, 'ecx') : reg(b, size);
    const text = `${op} ${target}, ${byCl ? 'cl' : count}`;
    const mc = count & 31;
    const rotate = op.startsWith('ro') || op.startsWith('rc');
    const readsCF = op === 'rcl' || op === 'rcr';
    if (mc === 0) { b.flags(readsCF ? 0 : 0, 0, 0); b.emit(text); return; }
    // SDM: OF defined only for 1-bit shifts/rotates; rotates leave SF ZF AF PF unaffected; shifts
    // leave AF undefined; SHL/SHR leave CF undefined when count >= operand size.
    const ofUndef = mc === 1 ? 0 : OF;
    if (rotate) b.flags(readsCF ? CF : 0, CF | OF, ofUndef);
    else {
      const cfUndef = (op !== 'sar' && mc >= size) ? CF : 0;
      b.flags(0, CF | OF | SF | ZF | PF, AF | ofUndef | cfUndef);
    }
    b.emit(text);
  }],
  // SHLD/SHRD by immediate or CL (16-bit counts above 16 leave the result undefined: not generated).
  [4, (b) => {
    const r = b.rng;
    const op = r.pick(['shld', 'shrd']);
    const size: Size = r.pick([16, 32] as const);
    const count = size === 16 ? r.int(17) : r.int(32);
    const useCl = r.chance(0.5);
    if (useCl) b.emit(`mov cl, ${count}`);
    // with a CL count, neither operand is (E)CX, so the count stays what the generator chose
    const pickReg = () => regOf(size, useCl ? [0, 2, 3, 4, 5, 6][r.int(6)] : r.int(7));
    const target = b.rng.chance(0.3) ? b.mem(size, 4, 'ecx') : pickReg();
    const src = pickReg();
    if (count !== 0) b.flags(0, CF | SF | ZF | PF | OF, AF | (count === 1 ? 0 : OF));
    b.emit(`${op} ${target}, ${src}, ${useCl ? 'cl' : count}`);
  }],
  // MUL/IMUL one operand: CF OF defined, SF ZF AF PF undefined. IMUL 2/3 operands likewise.
  [5, (b) => {
    const r = b.rng;
    const size = rs(b);
    b.flags(0, CF | OF, SF | ZF | AF | PF);
    switch (r.int(3)) {
      case 0: b.emit(`${r.pick(['mul', 'imul'])} ${rm(b, size)}`); break;
      case 1: { const s = r.pick([16, 32] as const); b.emit(`imul ${regOf(s, r.int(7))}, ${rm(b, s)}`); break; }
      default: { const s = r.pick([16, 32] as const); b.emit(`imul ${regOf(s, r.int(7))}, ${rm(b, s)}, ${r.chance(0.5) ? imm(b, s) : String(r.int(256) - 128)}`); }
    }
  }],
  // DIV/IDIV: all flags undefined; #DE on divide by zero or quotient overflow (resumes after).
  [5, (b) => {
    const r = b.rng;
    const op = r.pick(['div', 'idiv']);
    const size = rs(b);
    const hi = size === 8 ? 'ah' : size === 16 ? 'dx' : 'edx';
    if (r.chance(0.6)) b.emit(`mov ${hi}, ${r.chance(0.5) ? 0 : hex(r.int(4))}`);
    if (op === 'idiv' && r.chance(0.3)) b.emit(`mov ${hi}, ${size === 8 ? '0xff' : hex(size === 16 ? 0xffff : 0xffffffff)}`);
    let src = b.rng.chance(0.4) ? b.mem(size) : regOf(size, [1, 3, 4, 5, 6][r.int(5)]);
    if (size === 8 && src === 'ah') src = 'bl';
    if (r.chance(0.1) && !src.includes('[')) b.emit(`mov ${src}, 0`);
    b.flags(0, 0, ALL6);
    b.mayFault(`${op} ${src}`);
  }],
  // BCD adjustments (SDM): DAA/DAS OF undefined; AAA/AAS OF SF ZF PF undefined; AAM/AAD OF AF CF undefined.
  [4, (b) => {
    const r = b.rng;
    const op = r.pick(['daa', 'das', 'aaa', 'aas', 'aam', 'aad']);
    if (op === 'daa' || op === 'das') { b.flags(AF | CF, ALL6, OF); b.emit(op); return; }
    if (op === 'aaa' || op === 'aas') { b.flags(AF, AF | CF, OF | SF | ZF | PF); b.emit(op); return; }
    const base = r.chance(0.6) ? 10 : r.int(256);
    b.flags(0, SF | ZF | PF, OF | AF | CF);
    if (op === 'aam') b.mayFault(`aam ${base}`); else b.emit(`aad ${base}`);
  }],
  // BT/BTS/BTR/BTC: CF defined, OF SF AF PF undefined, ZF unaffected.
  [4, (b) => {
    const r = b.rng;
    const op = r.pick(['bt', 'bts', 'btr', 'btc']);
    const size: Size = r.pick([16, 32] as const);
    b.flags(0, CF, OF | SF | AF | PF);
    if (r.chance(0.5)) { b.emit(`${op} ${rm(b, size)}, ${r.int(256)}`); return; }
    const idx = regOf(size, r.int(7));
    if (r.chance(0.5)) {
      // memory bit string with a register offset: the offset reaches beyond the operand
      const target = b.mem(size, 80);
      const used = target.match(/\b(e?[abcd]x|e?[sd]i|e?bp)\b/g) ?? [];
      const free = regOf(size, [0, 1, 2, 3, 4, 5, 6].find((i) => !used.some((u) => u.endsWith(regOf(16, i).slice(-2)))) ?? 0);
      b.emit(`mov ${free}, ${hex((r.int(512) - 128) & (size === 16 ? 0xffff : 0xffffffff))}`);
      b.emit(`${op} ${target}, ${free}`);
    } else b.emit(`${op} ${regOf(size, r.int(7))}, ${idx}`);
  }],
  // BSF/BSR on a nonzero source (a zero source leaves the destination undefined): ZF defined only.
  [3, (b) => {
    const r = b.rng;
    const size: Size = r.pick([16, 32] as const);
    const src = regOf(size, r.int(7));
    b.emit(`or ${src}, ${hex((1 << r.int(size)) >>> 0)}`);
    b.flags(0, ZF, CF | OF | SF | AF | PF);
    b.emit(`${r.pick(['bsf', 'bsr'])} ${regOf(size, r.int(7))}, ${src}`);
  }],
  // SETcc / CMOVcc read the flags of their condition.
  [5, (b) => {
    const r = b.rng;
    const cc = r.pick(Object.keys(CONDITIONS));
    b.flags(CONDITIONS[cc], 0, 0);
    if (r.chance(0.5)) b.emit(`set${cc} ${rm(b, 8)}`);
    else { const s = r.pick([16, 32] as const); b.emit(`cmov${cc} ${regOf(s, r.int(7))}, ${rm(b, s)}`); }
  }],
  // XADD (flags as ADD), CMPXCHG (as CMP), CMPXCHG8B (ZF only; others unaffected), BSWAP.
  [4, (b) => {
    const r = b.rng;
    const size = rs(b);
    switch (r.int(4)) {
      case 0: b.flags(0, ALL6, 0); b.emit(`${r.chance(0.3) ? 'lock ' : ''}xadd ${b.mem(size)}, ${reg(b, size)}`); break;
      case 1: {
        const target = rm(b, size);
        const acc = size === 8 ? 'al' : size === 16 ? 'ax' : 'eax';
        if (r.chance(0.4) && !/\b(e?ax|al|ah)\b/.test(target)) b.emit(`mov ${acc}, ${target}`);
        b.flags(0, ALL6, 0);
        let src = reg(b, size);
        b.emit(`${target.includes('[') && r.chance(0.3) ? 'lock ' : ''}cmpxchg ${target}, ${src}`);
        break;
      }
      case 2: {
        const target = b.mem(32, 8).replace('dword', 'qword');
        if (/e?[abcd]x\b/.test(target)) { b.emit(`bswap ${regOf(32, 5 + r.int(2))}`); break; }
        if (r.chance(0.4)) { b.emit(`mov eax, ${target.replace('qword', 'dword')}`); }
        b.flags(0, ZF, 0);
        // QEMU 7.2 TCG computes CMPXCHG8B's untouched flags from a stale lazy-flags state (its
        // helper reads env->cc_op, which the translator has not synced), even setting EFLAGS
        // bits 16-23 from the last shift's operand. PUSHFD/POPFD ends the translation block, so
        // the state is synced and QEMU's result is the architectural one.
        b.emit('pushfd');
        b.emit('popfd');
        b.emit(`cmpxchg8b ${target}`);
        break;
      }
      default: b.emit(`bswap ${regOf(32, r.int(7))}`);
    }
  }],
  // String instructions with REP/REPE/REPNE, segment overrides on the source, address-size prefix.
  [5, (b) => {
    const r = b.rng;
    const op = r.pick(['movs', 'stos', 'lods', 'cmps', 'scas']);
    const sz = r.pick(['b', 'w', 'd']);
    const a16 = b.bits16 ? !r.chance(0.3) : r.chance(0.3);   // 16-bit addressing (SI/DI/CX) or 32-bit
    const [si, di, cx] = a16 ? ['si', 'di', 'cx'] : ['esi', 'edi', 'ecx'];
    b.emit(`mov ${b.bits16 && !a16 ? 'esi' : si}, ${hex(DATA + 96 + r.int(320))}`);
    b.emit(`mov ${b.bits16 && !a16 ? 'edi' : di}, ${hex(DATA + 96 + r.int(320))}`);
    const n = r.int(17);
    b.emit(`mov ${b.bits16 && !a16 ? 'ecx' : cx}, ${n}`);
    if (r.chance(0.5)) b.emit(r.chance(0.5) ? 'cld' : 'std');
    const cmp = op === 'cmps' || op === 'scas';
    const rep = r.pick(cmp ? ['', 'repe ', 'repne '] : ['', 'rep ']);
    const seg = (op === 'movs' || op === 'lods' || op === 'cmps') && r.chance(0.4) ? r.pick(['es ', 'ss ', 'cs ', 'fs ']) : '';
    const addr = (a16 !== b.bits16) ? 'a' + (a16 ? '16' : '32') + ' ' : '';
    if (cmp && (rep === '' || n > 0)) b.flags(0, ALL6, 0);
    b.emit(`${addr}${seg}${rep}${op}${sz}`);
  }],
  // Moves and conversions that keep flags: XCHG, MOVZX/MOVSX, LEA (every addressing form), CBW…CDQ, XLAT, PUSH/POP.
  [6, (b) => {
    const r = b.rng;
    switch (r.int(7)) {
      case 0: { const s = rs(b); b.emit(`xchg ${reg(b, s)}, ${rm(b, s)}`); break; }
      case 1: { const s = r.pick([16, 32] as const); const from: Size = s === 16 ? 8 : r.pick([8, 16] as const); b.emit(`${r.pick(['movzx', 'movsx'])} ${regOf(s, r.int(7))}, ${rm(b, from)}`); break; }
      case 2: {
        const parts = [r.pick(R32)];
        if (r.chance(0.7)) parts.push(`${r.pick(R32.filter((x) => x !== 'esp'))}*${r.pick([1, 2, 4, 8])}`);
        if (r.chance(0.7)) parts.push(hex(r.u32()));
        const dst = r.chance(0.5) ? regOf(32, r.int(7)) : regOf(16, r.int(7));
        b.emit(`lea ${dst}, [${parts.join('+')}]`);
        break;
      }
      case 3: b.emit(r.pick(['cbw', 'cwde', 'cwd', 'cdq'])); break;
      case 4: b.emit(`mov ebx, ${hex(DATA + 16 + r.int(DATA_SIZE - 300))}`); b.emit(b.bits16 ? 'a32 xlatb' : 'xlatb'); break;
      case 5: { const s = r.pick([16, 32] as const); b.emit(`push ${regOf(s, r.int(7))}`); b.emit(`pop ${regOf(s, r.int(7))}`); break; }
      default: b.emit(`push dword ${imm(b, 32)}`); b.emit(`pop ${b.mem(32)}`);
    }
  }],
  // Flag instructions: CLC/STC/CMC (CF), LAHF (reads SF ZF AF PF CF), SAHF (sets them).
  [3, (b) => {
    const op = b.rng.pick(['clc', 'stc', 'cmc', 'lahf', 'sahf']);
    if (op === 'cmc') b.flags(CF, CF, 0);
    else if (op === 'lahf') b.flags(SF | ZF | AF | PF | CF, 0, 0);
    else if (op === 'sahf') b.flags(0, SF | ZF | AF | PF | CF, 0);
    else b.flags(0, CF, 0);
    b.emit(op);
  }],
];

// x87 arithmetic (mode fpu32): values from the data area (any bit pattern: NaNs, denormals,
// infinities), all exceptions masked, results stored back to the data area, status word in AX.
// The generator tracks the register-stack depth and never underflows or overflows it: QEMU 7.2
// does not detect x87 stack faults (it neither sets SF/IE nor loads the indefinite NaN), so only
// programs that stay inside the stack have a trustworthy QEMU result.
function fpuInstruction(b: BlockBuilder): void {
  const r = b.rng;
  const m = () => b.mem(32, 10).replace(/^dword /, '');
  const push = (text: string) => { b.femit(text); b.fdepth++; };
  const kind = r.int(28);
  if (b.fdepth < 2 && kind >= 6 || b.fdepth === 0) {
    if (b.fdepth < 8) { loadOne(); return; }
  }
  if (b.fdepth === 8 && kind < 9) { b.femit(`fstp ${r.pick(['dword', 'qword', 'tword'])} ${m()}`); b.fdepth--; return; }
  function loadOne() {
    switch (r.int(4)) {
      case 0: push(r.pick(['fld1', 'fldz', 'fldpi', 'fldl2e', 'fldln2', 'fldl2t', 'fldlg2'])); break;
      case 1: push(`fild ${r.pick(['word', 'dword', 'qword'])} ${m()}`); break;
      default: push(`fld ${r.pick(['dword', 'qword', 'tword'])} ${m()}`);
    }
  }
  if (kind < 6) { loadOne(); return; }
  if (kind < 9) { push(`fld st${r.int(b.fdepth)}`); return; }
  const k = 1 + r.int(b.fdepth - 1);   // a register other than st0 that is in use
  if (kind < 16) {
    const op = r.pick(['fadd', 'fsub', 'fsubr', 'fmul', 'fdiv', 'fdivr']);
    switch (r.int(4)) {
      case 0: b.femit(`${op} st0, st${r.int(b.fdepth)}`); break;
      case 1: b.femit(`${op} st${k}, st0`); break;
      case 2: b.femit(`${op}p st${k}, st0`); b.fdepth--; break;
      default: b.femit(`${op} ${r.pick(['dword', 'qword'])} ${m()}`);
    }
    return;
  }
  if (kind < 19) { b.femit(r.pick(['fsqrt', 'fabs', 'fchs', 'frndint', `fxch st${k}`, 'fscale', 'fprem', 'fprem1'])); return; }
  if (kind < 21) {
    const op = r.pick(['fcom', 'fucom', 'fcomp', 'fucomp', 'ftst', 'fxam', 'fcomi', 'fucomi', 'fcompp']);
    if (op === 'fcomi' || op === 'fucomi') { b.flags(0, ALL6, 0); b.femit(`${op} st0, st${k}`); return; }
    if (op === 'fcompp') { b.femit('fcompp'); b.fdepth -= 2; return; }
    if (op === 'ftst' || op === 'fxam') { b.femit(op); return; }
    b.femit(`${op} st${k}`);
    if (op.endsWith('p')) b.fdepth--;
    return;
  }
  if (kind < 23) {
    const pop = r.chance(0.5);
    b.femit(`${pop ? 'fstp' : 'fst'} ${r.pick(['dword', 'qword'])} ${m()}`);
    if (pop) b.fdepth--;
    return;
  }
  if (kind < 25) {
    const pop = r.chance(0.5);
    b.femit(`${pop ? 'fistp' : 'fist'} ${r.pick(['word', 'dword'])} ${m()}`);
    if (pop) b.fdepth--;
    return;
  }
  if (kind < 26) { b.femit(`fstp tword ${m()}`); b.fdepth--; return; }
  if (kind < 27 && b.fdepth < 8) { b.femit('fxtract'); b.fdepth++; return; }
  // precision and rounding control (exceptions stay masked)
  b.femit(`mov word [${hex(DATA - 4)}], ${hex(0x037f & ~0xf00 | (r.int(4) << 8) | (r.int(4) << 10))}`);
  b.femit(`fldcw [${hex(DATA - 4)}]`);
}

function pickWeighted(rng: Rng, table: [number, Gen][]): Gen {
  let total = 0;
  for (const [w] of table) total += w;
  let x = rng.int(total);
  for (const [w, g] of table) { if ((x -= w) < 0) return g; }
  return table[0][1];
}

export interface BlockInfo { id: number; asm: string[] }

function generateBlock(rng: Rng, mode: Mode, id: number): { setup: string[]; body: string[]; mask: number } {
  const b = new BlockBuilder(rng, mode, id);
  const setup: string[] = [];
  setup.push(`mov eax, ${hex(rng.u32())}`, 'call fill_data');
  for (const r of R32) setup.push(`mov ${r}, ${hex(rng.value())}`);
  const fl = (rng.u32() & (ALL6 | DF)) | 2;
  setup.push(`push dword ${hex(fl)}`, mode === 'real16' ? 'popfd' : 'popfd');
  if (mode === 'fpu32') setup.push('fninit');
  const n = 6 + rng.int(9);
  for (let i = 0; i < n; i++) {
    if (mode === 'fpu32' && rng.chance(0.7)) fpuInstruction(b);
    else pickWeighted(rng, GENERATORS)(b);
  }
  if (mode === 'fpu32') {
    // the status word, and the top two stack registers stored into the hashed data area
    b.emit('fnstsw ax');
    if (b.fccUndef) {
      // the condition codes the last instructions left undefined (flags preserved around it)
      b.emit('pushfd');
      b.emit(`and ax, ${hex(0xffff & ~b.fccUndef)}`);
      b.emit('popfd');
    }
    if (b.fdepth > 0) b.emit(`fstp tword [${hex(DATA + DATA_SIZE - 32)}]`);
    if (b.fdepth > 1) b.emit(`fstp tword [${hex(DATA + DATA_SIZE - 16)}]`);
  }
  return { setup, body: b.lines, mask: (ALL6 & ~b.undef) | DF };
}

/**
 * Runtime part of every random ROM: data fill, hash and the dump record. The same source serves
 * real mode (assembled as 16-bit code: SS = DS = ES = 0, so 32-bit offsets below 64 KiB work)
 * and protected mode; only the stack frame of `dump` differs (near return address and pushed
 * block number are 2 bytes in real mode, 4 in protected mode).
 */
function runtime(mode: Mode): string {
  const r16 = mode === 'real16';
  const frame = r16 ? 'bp' : 'esp';
  const id = r16 ? 'movzx eax, word [bp + 34]' : 'mov eax, [esp + 36]';
  const flags = r16 ? 36 : 40;
  return `
bits ${r16 ? 16 : 32}
; eax = seed: fills the data area with xorshift32 values
fill_data:
  push edi
  push ecx
  push eax
  mov edi, ${hex(DATA)}
  mov ecx, ${DATA_SIZE / 4}
.l:
  push ecx
  mov ecx, eax
  shl ecx, 13
  xor eax, ecx
  mov ecx, eax
  shr ecx, 17
  xor eax, ecx
  mov ecx, eax
  shl ecx, 5
  xor eax, ecx
  pop ecx
  mov [edi], eax
  add edi, 4
  dec ecx
  jnz .l
  pop eax
  pop ecx
  pop edi
  ret
; record: block number and masked flags pushed by the caller, registers as the block left them
dump:
  pushad
  ${r16 ? 'mov bp, sp' : ''}
  ${id}
  call out4
  mov esi, 28
.r:
  mov eax, [${frame} + ${r16 ? 'si' : 'esi'}]
  call out4
  sub esi, 4
  jnc .r
  mov eax, [${frame} + ${flags}]
  call out4
  xor ebx, ebx
  mov esi, ${hex(DATA)}
.h:
  rol ebx, 5
  xor ebx, [esi]
  add ebx, 0x9e3779b9
  add esi, 4
  cmp esi, ${hex(DATA + DATA_SIZE)}
  jb .h
  mov eax, ebx
  call out4
  mov eax, [exc_count]
  call out4
  mov dword [exc_count], 0
  popad
  ret
out4:
  out 0xe9, al
  shr eax, 8
  out 0xe9, al
  shr eax, 8
  out 0xe9, al
  shr eax, 8
  out 0xe9, al
  ret
`;
}

export function generateRom(seed: number, mode: Mode, blocks: number, firstId: number): { source: string; blocks: BlockInfo[] } {
  const rng = new Rng(seed);
  const out: string[] = [];
  out.push(`; generated by tools/cpu-oracle/randgen.ts (seed ${seed}, mode ${mode}); do not edit`);
  out.push('%include "harness.inc"');
  out.push('main:');
  out.push('  mov dword [quiet], 1');
  if (mode === 'real16') out.push('  jmp blocks');
  else out.push('  ENTER_PM32 blocks');
  if (mode === 'fpu32') out.push('bits 32'); // (ENTER_PM32 jumps to 32-bit code)
  out.push(mode === 'real16' ? 'bits 16' : 'bits 32');
  out.push('blocks:');
  if (mode === 'fpu32') out.push('  mov eax, cr0', '  and eax, ~0xC', '  or eax, 0x22', '  mov cr0, eax  ; MP|NE, no EM/TS');
  const infos: BlockInfo[] = [];
  for (let i = 0; i < blocks; i++) {
    const id = firstId + i;
    const g = generateBlock(rng, mode, id);
    out.push(`; block ${id}`);
    for (const l of g.setup) out.push('  ' + l);
    out.push(`blk_${id}_start:`);
    for (const l of g.body) out.push(l.endsWith(':') ? l : '  ' + l);
    out.push(`blk_${id}_end:`);
    out.push(mode === 'real16' ? '  pushfd' : '  pushfd');
    out.push(`  and dword [${mode === 'real16' ? 'ss:' : ''}${mode === 'real16' ? 'esp' : 'esp'}], ${hex(g.mask)}`);
    out.push(`  push ${mode === 'real16' ? 'word' : 'dword'} ${id & 0xffff}`);
    out.push('  call dump');
    out.push(`  add ${mode === 'real16' ? 'sp, 6' : 'esp, 8'}`);
    infos.push({ id, asm: g.body });
  }
  out.push('  EXIT 0');
  out.push(runtime(mode));
  out.push('ROM_END');
  return { source: out.join('\n') + '\n', blocks: infos };
}

/** Parses a nasm listing into per-block lines "ADDR  BYTES  SOURCE" between blk_N_start and blk_N_end. */
export function listingByBlock(listing: string): { lines: Map<number, string[]>; ends: Map<number, number> } {
  const lines = new Map<number, string[]>();
  const ends = new Map<number, number>();
  let cur: string[] | null = null;
  let ending = -1;
  for (const line of listing.split('\n')) {
    const m = /^\s*\d+\s+([0-9A-F]{8})?\s*([0-9A-F()[\]]+-?)?\s*(.*)$/.exec(line);
    if (!m) continue;
    const src = m[3].trim();
    const addr = m[1] ? 0xf0000 + parseInt(m[1], 16) : -1;
    if (ending >= 0 && addr >= 0) { ends.set(ending, addr); ending = -1; }
    const s = /^blk_(\d+)_start:/.exec(src);
    if (s) { cur = []; lines.set(Number(s[1]), cur); continue; }
    const e = /^blk_(\d+)_end:/.exec(src);
    if (e) { cur = null; ending = Number(e[1]); continue; }
    if (cur && addr >= 0 && m[2]) cur.push(`${addr.toString(16).padStart(8, '0')}  ${m[2].padEnd(24)}  ${src}`);
  }
  return { lines, ends };
}

function main() {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const seed = Number(opt('--seed', '1'));
  const roms = Number(opt('--roms', '30'));
  const blocksPerRom = Number(opt('--blocks', '350'));
  const outDir = resolve(opt('--out', join(root, 'test/cpu/random')));
  const runQemu = !args.includes('--no-qemu');
  const show = args.includes('--show') ? Number(opt('--show', '0')) : -1;
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'randgen-'));
  const manifest: { name: string; mode: Mode; seed: number; romSeed: number; oracle: string; blocks: [number, number, number][] }[] = [];
  const oracles: Record<string, string> = {};
  let id = 0;
  for (let k = 0; k < roms; k++) {
    if (show >= 0 && (show < id || show >= id + blocksPerRom)) { id += blocksPerRom; continue; }
    // mostly 32-bit protected mode, every 6th ROM real mode, every 6th (offset 3) with x87 work
    const mode: Mode = k % 6 === 5 ? 'real16' : k % 6 === 2 ? 'fpu32' : 'pm32';
    const name = `rand-${String(seed)}-${String(k).padStart(3, '0')}-${mode}`;
    const romSeed = (Math.imul(seed, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0;
    const { source, blocks } = generateRom(romSeed, mode, blocksPerRom, id);
    id += blocksPerRom;
    const asm = join(tmp, `${name}.asm`), bin = join(tmp, `${name}.bin`), lst = join(tmp, `${name}.lst`);
    writeFileSync(asm, source);
    execFileSync('nasm', ['-f', 'bin', '-w-number-overflow', '-I', join(root, 'test/cpu/programs') + '/', '-l', lst, '-o', bin, asm], { stdio: 'inherit' });
    const rom = readFileSync(bin);
    const listing = listingByBlock(readFileSync(lst, 'latin1'));
    if (show >= 0) { console.log(`${name} block ${show}:\n${(listing.lines.get(show) ?? []).join('\n')}`); break; }
    const range = (id: number): [number, number] => {
      const l = listing.lines.get(id);
      return l?.length ? [parseInt(l[0], 16), listing.ends.get(id) ?? 0] : [0, 0];
    };
    manifest.push({ name, mode, seed, romSeed, oracle: mode === 'fpu32' ? 'bochs' : 'qemu', blocks: blocks.map((b) => [b.id, ...range(b.id)]) });
    writeFileSync(join(outDir, `${name}.bin.gz`), gzipSync(rom, { level: 9 }));
    if (runQemu) {
      // QEMU is the oracle, except for the x87 ROMs: QEMU 7.2 does not report the rounding
      // direction in C1 after an inexact result (SDM 8.1.3.3: C1 = 1 when rounded up), Bochs does.
      // The other emulator's run is a cross-check: blocks where they differ are listed.
      const oracle = mode === 'fpu32' ? 'bochs' : 'qemu';
      const runs: Record<string, Buffer> = {};
      for (const emu of oracle === 'bochs' || args.includes('--bochs') ? ['qemu', 'bochs'] : ['qemu']) {
        const out = join(tmp, `${name}.${emu}`);
        execFileSync(join(here, `run-${emu}.sh`), [bin, out, '300'], { stdio: 'inherit' });
        runs[emu] = readFileSync(out);
      }
      const result = runs[oracle];
      const tail = result.subarray(blocksPerRom * RECORD_BYTES).toString('latin1');
      if (result.length !== blocksPerRom * RECORD_BYTES + tail.length || tail !== '[exit=0]\n') {
        throw new Error(`${name}: ${oracle} run did not complete (${result.length} bytes, tail ${JSON.stringify(tail.slice(0, 80))})`);
      }
      writeFileSync(join(outDir, `${name}.out.gz`), gzipSync(result, { level: 9 }));
      if (runs.qemu && runs.bochs) {
        const differ: number[] = [];
        for (let i = 0; i < blocksPerRom; i++) {
          const a = runs.qemu.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES), o = runs.bochs.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
          if (!a.equals(o)) differ.push(blocks[i].id);
        }
        if (differ.length) process.stdout.write(`${name}: Bochs and QEMU differ in ${differ.length} blocks: ${differ.slice(0, 12).join(' ')}\n`);
      }
      oracles[name] = oracle;
    }
    process.stdout.write(`${name}: ${rom.length} bytes, ${blocksPerRom} blocks\n`);
  }
  if (show < 0) writeFileSync(join(outDir, 'manifest.json'), JSON.stringify({ generator: 'tools/cpu-oracle/randgen.ts', seed, roms, blocksPerRom, recordBytes: RECORD_BYTES, romsList: manifest }) + '\n');
  rmSync(tmp, { recursive: true, force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
