/**
 * The x87 FPU: register stack, control/status/tag words, exceptions, every D8..DF instruction,
 * FSAVE/FSTENV formats and FXSAVE/FXRSTOR. Arithmetic is delegated to the bit-exact softfloat
 * core in float80.ts; transcendental functions live in transcendental.ts.
 *
 * Internally the tag word is kept abridged (one "non-empty" bit per physical register), as the
 * P6 does; the full two-bit tags of FSTENV/FSAVE are computed from the register contents.
 */
import {
  Float80, classify, IE, DE, ZE, OE, UE, PE, ZERO, NORMAL, DENORMAL, INF, QNAN, SNAN, UNSUPPORTED,
  EXT_MIN, EXT_MAX, F32_MIN, F32_MAX, F64_MIN, F64_MAX,
} from './float80.ts';
import { Transcendental } from './transcendental.ts';
import { FpuRemainder, REM_PARTIAL } from './remainder.ts';

export interface FpuHost {
  /** Memory access at segment register index (0=ES,1=CS,2=SS,3=DS,4=FS,5=GS) + offset; may throw the CPU's fault. */
  read8(seg: number, offset: number): number;
  read16(seg: number, offset: number): number;
  /** Returns int32. */
  read32(seg: number, offset: number): number;
  write8(seg: number, offset: number, v: number): void;
  write16(seg: number, offset: number, v: number): void;
  write32(seg: number, offset: number, v: number): void;
  /** For FCMOVcc. */
  getEflags(): number;
  /** FCOMI family; clears OF/SF/AF as the hardware does. */
  setEflagsZPC(zf: boolean, pf: boolean, cf: boolean): void;
  /** FNSTSW AX. */
  setAX(v: number): void;
  /** Selects the FSTENV/FSAVE layout (v86 counts as real format). */
  protectedMode(): boolean;
  /** #MF (vector 16): the CPU throws its fault; called when CR0.NE=1. */
  raiseMathFault(): never;
  /** FERR# level (→ IRQ13 when CR0.NE=0; the host decides). */
  setFerr(asserted: boolean): void;
  /** CR0.NE. */
  numericErrorNative(): boolean;
  /** #GP(0): FXRSTOR with reserved MXCSR bits, FXSAVE/FXRSTOR on a misaligned operand. */
  raiseGeneralProtection(): never;
  /** #UD: reserved x87 encodings, FISTTP (SSE3, not claimed by CPUID). */
  raiseInvalidOpcode(): never;
}

const SW_ES = 0x80, SW_SF = 0x40, SW_C0 = 0x100, SW_C1 = 0x200, SW_C2 = 0x400, SW_C3 = 0x4000, SW_B = 0x8000;
const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
/** Bits of MXCSR that FXRSTOR accepts (no DAZ on this CPU class). */
export const MXCSR_MASK = 0xffbf;

/** Rounding of the load-constant instructions: 96-bit values of the hardware's internal constants. */
const CONSTANTS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0x3fff, 0x80000000, 0x00000000, 0], // FLD1
  [0x4000, 0xd49a784b, 0xcd1b8afe, 0x492bf6ff], // FLDL2T
  [0x3fff, 0xb8aa3b29, 0x5c17f0bb, 0xbe87fed0], // FLDL2E
  [0x4000, 0xc90fdaa2, 0x2168c234, 0xc4c6628b], // FLDPI
  [0x3ffd, 0x9a209a84, 0xfbcff798, 0x8f8959ac], // FLDLG2
  [0x3ffe, 0xb17217f7, 0xd1cf79ab, 0xc9e3b398], // FLDLN2
  [0, 0, 0, 0], // FLDZ
];

/**
 * Undefined x87 encodings, indexed by (opcode & 7) << 8 | modrm. They raise #UD before any
 * pending-exception check (SDM vol. 3 §19.18.6.6). FISTTP (SSE3) is among them: CPUID does not
 * claim SSE3. The P6's undocumented aliases (FXCH4/7, FSTP1/8/9, FCOM2, FCOMP3/5, FFREEP) are defined.
 */
const UNDEFINED = (() => {
  const t = new Uint8Array(2048);
  for (let op = 0; op < 8; op++) for (let modrm = 0; modrm < 256; modrm++) {
    const reg = (modrm >> 3) & 7, rm = modrm & 7, mem = modrm < 0xc0;
    let undef: boolean;
    if (mem) undef = (op === 1 && reg === 1) || (op === 3 && (reg === 1 || reg === 4 || reg === 6)) || (op === 5 && (reg === 1 || reg === 5)) || (op === 7 && reg === 1);
    else switch (op) {
      case 1: undef = (reg === 2 && rm !== 0) || (reg === 4 && (rm === 2 || rm === 3 || rm >= 6)) || (reg === 5 && rm === 7); break;
      case 2: undef = reg >= 4 && modrm !== 0xe9; break;
      case 3: undef = (reg === 4 && rm > 4) || reg === 7; break;
      case 5: undef = reg >= 6; break;
      case 6: undef = reg === 3 && rm !== 1; break;
      case 7: undef = (reg === 4 && rm !== 0) || reg === 7; break;
      default: undef = false;
    }
    t[(op << 8) | modrm] = undef ? 1 : 0;
  }
  return t;
})();

/** Saved-state layout: every field listed once; save and restore both walk this list. */
export const FPU_STATE_VERSION = 1;
const STATE_SCALARS = ['cw', 'swBits', 'top', 'tagValid', 'fip', 'fcs', 'fdp', 'fds', 'fop', 'mxcsr', 'ferr'] as const;
const STATE_ARRAYS = ['regSe', 'regHi', 'regLo'] as const;
export const FPU_STATE_DESCRIPTION = { version: FPU_STATE_VERSION, scalars: STATE_SCALARS, arrays8: STATE_ARRAYS } as const;
export interface FpuState {
  version: number;
  cw: number; swBits: number; top: number; tagValid: number;
  fip: number; fcs: number; fdp: number; fds: number; fop: number; mxcsr: number; ferr: number;
  regSe: number[]; regHi: number[]; regLo: number[];
}
export class FpuStateError extends Error {}

export class Fpu {
  /** Control word. */
  cw = 0x0040;
  /** Status word without TOP (bits 11..13 are kept in `top`). */
  swBits = 0;
  top = 0;
  /** Abridged tag: bit i set = physical register i is not empty. */
  tagValid = 0;
  readonly regSe = new Uint16Array(8);
  readonly regHi = new Uint32Array(8);
  readonly regLo = new Uint32Array(8);
  fip = 0; fcs = 0; fdp = 0; fds = 0; fop = 0;
  mxcsr = 0x1f80;
  /** FERR# level last reported to the host (0/1); it follows ES. */
  ferr = 0;

  private readonly f = new Float80();
  private readonly trans = new Transcendental(this.f);
  private readonly rem = new FpuRemainder(this.f);
  // Decoded source operand (memory or register).
  private srcSe = 0; private srcHi = 0; private srcLo = 0;

  constructor(private readonly host: FpuHost) { this.reset(); }

  /**
   * Power-on/RESET state per SDM vol. 3 table 9-1 (P6): CW 0040h, SW 0, TW 5555h (every register
   * holds +0.0, tagged zero), pointers and opcode 0, MXCSR 1F80h. FNINIT differs (037Fh, all empty).
   */
  reset(): void {
    this.cw = 0x0040; this.swBits = 0; this.top = 0; this.tagValid = 0xff;
    this.regSe.fill(0); this.regHi.fill(0); this.regLo.fill(0);
    this.fip = this.fcs = this.fdp = this.fds = this.fop = 0;
    this.mxcsr = 0x1f80;
    if (this.ferr) { this.ferr = 0; this.host.setFerr(false); }
  }

  get statusWord(): number { return ((this.swBits & ~0x3800) | (this.top << 11)) & 0xffff; }
  get controlWord(): number { return this.cw; }
  /** Full two-bit tag word (as FSTENV stores it). */
  get tagWord(): number {
    let tw = 0;
    for (let i = 0; i < 8; i++) tw |= this.fullTag(i) << (2 * i);
    return tw;
  }
  /** ST(i) as 10 little-endian bytes. */
  stBytes(i: number): Uint8Array {
    const p = (this.top + i) & 7, b = new Uint8Array(10);
    const v = new DataView(b.buffer);
    v.setUint32(0, this.regLo[p], true); v.setUint32(4, this.regHi[p], true); v.setUint16(8, this.regSe[p], true);
    return b;
  }
  /** ST(i) as an 80-bit bigint (se << 64 | significand). */
  stBigInt(i: number): bigint {
    const p = (this.top + i) & 7;
    return (BigInt(this.regSe[p]) << 64n) | (BigInt(this.regHi[p]) << 32n) | BigInt(this.regLo[p]);
  }
  isEmpty(i: number): boolean { return (this.tagValid & (1 << ((this.top + i) & 7))) === 0; }

  saveState(): FpuState {
    const s: Record<string, unknown> = { version: FPU_STATE_VERSION };
    for (const k of STATE_SCALARS) s[k] = this[k];
    for (const k of STATE_ARRAYS) s[k] = Array.from(this[k]);
    return s as unknown as FpuState;
  }
  loadState(s: FpuState): void {
    if (!s || s.version !== FPU_STATE_VERSION) throw new FpuStateError(`unsupported FPU state version ${s?.version}`);
    for (const k of STATE_SCALARS) if (!Number.isInteger(s[k])) throw new FpuStateError(`FPU state: bad ${k}`);
    for (const k of STATE_ARRAYS) {
      const a = s[k];
      if (!Array.isArray(a) || a.length !== 8 || !a.every(Number.isInteger)) throw new FpuStateError(`FPU state: bad ${k}`);
    }
    for (const k of STATE_SCALARS) this[k] = s[k] >>> 0;
    this.top &= 7; this.tagValid &= 0xff; this.cw &= 0xffff; this.swBits &= 0xffff;
    for (const k of STATE_ARRAYS) this[k].set(s[k]);
  }

  // ---------------------------------------------------------------- exceptions and waiting

  /**
   * FWAIT, and the check before every waiting x87 instruction: deliver a pending unmasked
   * exception as #MF when CR0.NE=1. With CR0.NE=0 the error was already signalled on FERR#
   * (the host's IRQ13); execution goes on as on a PC whose IGNNE# logic lets it.
   */
  wait(): void {
    if ((this.swBits & SW_ES) === 0) return;
    if (this.host.numericErrorNative()) this.host.raiseMathFault();
    this.syncFerr();
  }

  /**
   * FERR# follows ES: the P6 asserts it on completion of the instruction that raised an
   * unmasked exception (SDM vol. 3 §19.18.6.7) and drops it when the flags are cleared.
   */
  private syncFerr(): void {
    const level = (this.swBits & SW_ES) !== 0 ? 1 : 0;
    if (level !== this.ferr) { this.ferr = level; this.host.setFerr(level === 1); }
  }

  /** Recompute ES/B from the flags and masks (FLDCW, FLDENV, FNCLEX, ...). */
  private updateSummary(): void {
    if (this.swBits & ~this.cw & 0x3f) this.swBits |= SW_ES | SW_B;
    else this.swBits &= ~(SW_ES | SW_B);
    this.syncFerr();
  }

  /** Record exception flags of the current instruction. Returns true if none of them is unmasked. */
  private raise(flags: number): boolean {
    if (flags === 0) return true;
    this.swBits |= flags & 0x7f; // exception flags and SF
    if (flags & ~this.cw & 0x3f) { this.swBits |= SW_ES | SW_B; this.syncFerr(); return false; }
    return true;
  }

  private setC1(on: boolean): void { if (on) this.swBits |= SW_C1; else this.swBits &= ~SW_C1; }
  private setCC(c3: number, c2: number, c1: number, c0: number): void {
    this.swBits = (this.swBits & ~SW_CC) | (c3 ? SW_C3 : 0) | (c2 ? SW_C2 : 0) | (c1 ? SW_C1 : 0) | (c0 ? SW_C0 : 0);
  }

  /** Stack underflow (reading an empty register): IE+SF, C1=0. True if masked. */
  private stackUnderflow(): boolean { this.setC1(false); return this.raise(IE | SW_SF); }
  /** Stack overflow (pushing onto a full register): IE+SF, C1=1. True if masked. */
  private stackOverflow(): boolean { this.setC1(true); return this.raise(IE | SW_SF); }

  /** Prepare the softfloat core for one operation. */
  private begin(): Float80 {
    const f = this.f;
    f.flags = 0; f.up = false;
    f.rc = (this.cw >>> 10) & 3;
    f.masks = this.cw & 0x3f;
    return f;
  }
  private get prec(): number { const pc = (this.cw >>> 8) & 3; return pc === 0 ? 24 : pc === 2 ? 53 : 64; }

  // ---------------------------------------------------------------- registers

  private phys(i: number): number { return (this.top + i) & 7; }
  private empty(p: number): boolean { return (this.tagValid & (1 << p)) === 0; }
  private setReg(p: number, se: number, hi: number, lo: number): void {
    this.regSe[p] = se; this.regHi[p] = hi; this.regLo[p] = lo; this.tagValid |= 1 << p;
  }
  private setIndefinite(p: number): void { this.setReg(p, 0xffff, 0xc0000000, 0); }
  private setResult(p: number): void { const f = this.f; this.setReg(p, f.rse, f.rhi, f.rlo); }
  private pop(): void { this.tagValid &= ~(1 << this.top); this.top = (this.top + 1) & 7; }
  /** Make room for a push. Returns false (nothing to push) on an unmasked stack overflow. */
  private pushSlot(): number {
    const p = (this.top - 1) & 7;
    if (!this.empty(p)) {
      if (!this.stackOverflow()) return -1;
      this.top = p; this.setIndefinite(p); return -1;
    }
    return p;
  }
  private push(se: number, hi: number, lo: number): void {
    const p = this.pushSlot();
    if (p < 0) return;
    this.top = p; this.setReg(p, se, hi, lo);
  }

  /** FLD/FILD/FBLD: C1 is cleared unless the push overflows the stack (which sets it). */
  private pushLoaded(se: number, hi: number, lo: number): void {
    this.setC1(false);
    this.push(se, hi, lo);
  }

  private fullTag(p: number): number {
    if (this.empty(p)) return 3;
    const c = classify(this.regSe[p], this.regHi[p], this.regLo[p]);
    return c === ZERO ? 1 : c === NORMAL ? 0 : 2;
  }

  // ---------------------------------------------------------------- memory operands

  private read80(seg: number, off: number): void {
    this.srcLo = this.host.read32(seg, off) >>> 0;
    this.srcHi = this.host.read32(seg, off + 4) >>> 0;
    this.srcSe = this.host.read16(seg, off + 8) & 0xffff;
  }
  private write80(seg: number, off: number, se: number, hi: number, lo: number): void {
    this.host.write32(seg, off, lo | 0); this.host.write32(seg, off + 4, hi | 0); this.host.write16(seg, off + 8, se);
  }

  /** Load a float32/float64 (given as hi:lo words, float32 in lo) into src; true if it is denormal. */
  private loadReal(seg: number, off: number, double: boolean): boolean {
    let sign: number, exp: number, hi: number, lo: number, bias: number, maxe: number;
    if (double) {
      const l = this.host.read32(seg, off) >>> 0, h = this.host.read32(seg, off + 4) >>> 0;
      sign = h >>> 31; exp = (h >>> 20) & 0x7ff; bias = 1023; maxe = 0x7ff;
      hi = ((h & 0xfffff) << 11 | l >>> 21) >>> 0; lo = (l << 11) >>> 0;
    } else {
      const v = this.host.read32(seg, off) >>> 0;
      sign = v >>> 31; exp = (v >>> 23) & 0xff; bias = 127; maxe = 0xff;
      hi = ((v & 0x7fffff) << 8) >>> 0; lo = 0;
    }
    const s = sign << 15;
    if (exp === maxe) { this.srcSe = s | 0x7fff; this.srcHi = (hi | 0x80000000) >>> 0; this.srcLo = lo; return false; }
    if (exp !== 0) { this.srcSe = s | (exp - bias + 16383); this.srcHi = (hi | 0x80000000) >>> 0; this.srcLo = lo; return false; }
    if ((hi | lo) === 0) { this.srcSe = s; this.srcHi = 0; this.srcLo = 0; return false; }
    // Denormal: normalize into the extended range (always representable there).
    const f = this.f;
    f.roundPack(s, 16383 - bias + 1, hi, lo, 0, 64, EXT_MIN, EXT_MAX, true);
    this.srcSe = f.rse; this.srcHi = f.rhi; this.srcLo = f.rlo;
    return true;
  }

  /** Integer memory operand (16/32/64 bits) into src (exact). */
  private loadInt(seg: number, off: number, bytes: number): void {
    let hi = 0, lo: number, neg: boolean;
    if (bytes === 2) { lo = (this.host.read16(seg, off) << 16) >> 16; neg = lo < 0; lo = Math.abs(lo); }
    else if (bytes === 4) { lo = this.host.read32(seg, off) | 0; neg = lo < 0; lo = Math.abs(lo); }
    else {
      lo = this.host.read32(seg, off) >>> 0; hi = this.host.read32(seg, off + 4) >>> 0;
      neg = hi >= 0x80000000;
      if (neg) { lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
    }
    const f = this.f;
    f.fromInt(neg ? 0x8000 : 0, hi, lo);
    this.srcSe = f.rse; this.srcHi = f.rhi; this.srcLo = f.rlo;
  }

  // ---------------------------------------------------------------- instruction execution

  /**
   * Execute one x87 instruction (opcode D8..DF). For memory forms (mod ≠ 3) seg/offset is the
   * effective address; o32 selects the 32-bit FSTENV/FSAVE/FLDENV/FRSTOR layout; ip/csSelector
   * become FIP/FCS and dsSelector FDS. The CPU has already done its #NM checks. Waiting
   * instructions first deliver a pending unmasked exception themselves (#MF or FERR#); the CPU
   * calls wait() only for FWAIT (9B).
   */
  execute(opcode: number, modrm: number, seg: number, offset: number, o32: boolean, ip: number, csSelector: number, dsSelector: number): void {
    const mod = modrm >>> 6, reg = (modrm >>> 3) & 7, rm = modrm & 7;
    if (UNDEFINED[((opcode & 7) << 8) | modrm] || (opcode & 0xf8) !== 0xd8) return this.host.raiseInvalidOpcode();
    if (mod !== 3) {
      // Non-waiting and control instructions with memory operands.
      if (opcode === 0xd9 && reg >= 4) {
        if (reg < 6) this.wait(); // FNSTENV and FNSTCW do not wait
        switch (reg) {
          case 4: this.fldenv(seg, offset, o32); return;
          case 5: this.cw = (this.host.read16(seg, offset) & 0x1f3f) | 0x40; this.updateSummary(); return;
          case 6: this.fstenv(seg, offset, o32); this.cw |= 0x3f; this.updateSummary(); return;
          case 7: this.host.write16(seg, offset, this.cw); return;
        }
      }
      if (opcode === 0xdd && reg >= 4) {
        switch (reg) {
          case 4: this.wait(); return this.frstor(seg, offset, o32);
          case 5: return this.host.raiseInvalidOpcode();
          case 6: return this.fsave(seg, offset, o32);
          case 7: this.host.write16(seg, offset, this.statusWord); return;
        }
      }
      this.wait();
      this.fip = ip; this.fcs = csSelector; this.fop = ((opcode & 7) << 8) | modrm;
      this.fdp = offset; this.fds = dsSelector;
      this.executeMemory(opcode, reg, seg, offset);
      return;
    }
    if (opcode === 0xdb && (modrm & 0xf8) === 0xe0) { // FNENI FNDISI FNCLEX FNINIT FNSETPM: non-waiting
      if (rm === 2) { this.swBits &= ~0x80ff; this.updateSummary(); }
      else if (rm === 3) this.finit();
      else if (rm > 4) this.host.raiseInvalidOpcode();
      return;
    }
    if (opcode === 0xdf && modrm === 0xe0) { this.host.setAX(this.statusWord); return; }
    this.wait();
    this.fip = ip; this.fcs = csSelector; this.fop = ((opcode & 7) << 8) | modrm;
    this.executeRegister(opcode, reg, rm);
  }

  private finit(): void {
    this.cw = 0x037f; this.swBits = 0; this.top = 0; this.tagValid = 0;
    this.fip = this.fcs = this.fdp = this.fds = this.fop = 0;
    this.updateSummary();
  }

  private executeMemory(opcode: number, reg: number, seg: number, off: number): void {
    switch (opcode) {
      case 0xd8: return this.arithMem(reg, this.loadReal(seg, off, false));
      case 0xdc: return this.arithMem(reg, this.loadReal(seg, off, true));
      case 0xda: this.loadInt(seg, off, 4); return this.arithMem(reg, false);
      case 0xde: this.loadInt(seg, off, 2); return this.arithMem(reg, false);
      case 0xd9:
        switch (reg) {
          case 0: return this.fldReal(this.loadReal(seg, off, false));
          case 2: return this.fstReal(seg, off, false, false);
          case 3: return this.fstReal(seg, off, false, true);
        }
        return this.host.raiseInvalidOpcode();
      case 0xdd:
        switch (reg) {
          case 0: return this.fldReal(this.loadReal(seg, off, true));
          case 2: return this.fstReal(seg, off, true, false);
          case 3: return this.fstReal(seg, off, true, true);
        }
        return this.host.raiseInvalidOpcode();
      case 0xdb:
        switch (reg) {
          case 0: this.loadInt(seg, off, 4); return this.pushLoaded(this.srcSe, this.srcHi, this.srcLo);
          case 2: return this.fist(seg, off, 4, false);
          case 3: return this.fist(seg, off, 4, true);
          case 5: this.read80(seg, off); return this.pushLoaded(this.srcSe, this.srcHi, this.srcLo);
          case 7: return this.fstp80(seg, off);
        }
        return this.host.raiseInvalidOpcode();
      case 0xdf:
        switch (reg) {
          case 0: this.loadInt(seg, off, 2); return this.pushLoaded(this.srcSe, this.srcHi, this.srcLo);
          case 2: return this.fist(seg, off, 2, false);
          case 3: return this.fist(seg, off, 2, true);
          case 4: return this.fbld(seg, off);
          case 5: this.loadInt(seg, off, 8); return this.pushLoaded(this.srcSe, this.srcHi, this.srcLo);
          case 6: return this.fbstp(seg, off);
          case 7: return this.fist(seg, off, 8, true);
        }
        return this.host.raiseInvalidOpcode();
    }
    this.host.raiseInvalidOpcode();
  }

  private executeRegister(opcode: number, reg: number, rm: number): void {
    switch (opcode) {
      case 0xd8: return this.arithReg(reg, rm, false, false);
      case 0xdc: return this.arithReg(reg, rm, true, false);
      case 0xde:
        if (reg === 3) { if (rm === 1) return this.fcom(1, false, 2); return this.host.raiseInvalidOpcode(); } // FCOMPP
        return this.arithReg(reg, rm, true, true);
      case 0xd9: return this.executeD9(reg, rm);
      case 0xda:
        if (reg < 4) return this.fcmov(reg, rm, false);
        if (reg === 5 && rm === 1) return this.fcom(1, true, 2); // FUCOMPP
        return this.host.raiseInvalidOpcode();
      case 0xdb:
        if (reg < 4) return this.fcmov(reg, rm, true);
        if (reg === 5) return this.fcomi(rm, true, false);
        if (reg === 6) return this.fcomi(rm, false, false);
        return this.host.raiseInvalidOpcode();
      case 0xdd:
        switch (reg) {
          case 0: this.tagValid &= ~(1 << this.phys(rm)); return; // FFREE
          case 1: return this.fxch(rm);                          // FXCH4 alias
          case 2: return this.fstReg(rm, false);
          case 3: return this.fstReg(rm, true);
          case 4: return this.fcom(rm, true, 0);                 // FUCOM
          case 5: return this.fcom(rm, true, 1);                 // FUCOMP
        }
        return this.host.raiseInvalidOpcode();
      case 0xdf:
        switch (reg) {
          case 0: this.tagValid &= ~(1 << this.phys(rm)); this.pop(); return; // FFREEP
          case 1: return this.fxch(rm);                                        // FXCH7 alias
          case 2: case 3: return this.fstReg(rm, true);                        // FSTP8/FSTP9 aliases
          case 5: return this.fcomi(rm, true, true);
          case 6: return this.fcomi(rm, false, true);
        }
        return this.host.raiseInvalidOpcode();
    }
    this.host.raiseInvalidOpcode();
  }

  private executeD9(reg: number, rm: number): void {
    switch (reg) {
      case 0: { // FLD ST(i)
        const p = this.phys(rm);
        if (this.empty(p)) {
          const slot = this.pushSlot();
          if (slot < 0) return;
          if (this.stackUnderflow()) { this.top = slot; this.setIndefinite(slot); }
          return;
        }
        this.setC1(false);
        return this.pushLoaded(this.regSe[p], this.regHi[p], this.regLo[p]);
      }
      case 1: return this.fxch(rm);
      case 2: if (rm === 0) return; break; // FNOP
      case 3: return this.fstReg(rm, true); // FSTP1 alias
      case 4:
        switch (rm) {
          case 0: return this.unarySign(0x8000, true);  // FCHS
          case 1: return this.unarySign(0x8000, false); // FABS
          case 4: return this.ftst();
          case 5: return this.fxam();
        }
        break;
      case 5: if (rm < 7) return this.fldConst(rm); break;
      case 6:
        switch (rm) {
          case 0: return this.trans.f2xm1Op(this);
          case 1: return this.trans.fyl2xOp(this, false);
          case 2: return this.trans.fsincosOp(this, 3);
          case 3: return this.trans.fpatanOp(this);
          case 4: return this.fxtract();
          case 5: return this.fprem(true);
          case 6: this.top = (this.top - 1) & 7; this.setC1(false); return; // FDECSTP
          case 7: this.top = (this.top + 1) & 7; this.setC1(false); return; // FINCSTP
        }
        break;
      case 7:
        switch (rm) {
          case 0: return this.fprem(false);
          case 1: return this.trans.fyl2xOp(this, true);
          case 2: return this.fsqrt();
          case 3: return this.trans.fsincosOp(this, 2);
          case 4: return this.frndint();
          case 5: return this.fscale();
          case 6: return this.trans.fsincosOp(this, 0);
          case 7: return this.trans.fsincosOp(this, 1);
        }
    }
    this.host.raiseInvalidOpcode();
  }

  // ---------------------------------------------------------------- arithmetic

  /** op: 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr (x87 reg field); x op y into the core. */
  private compute(op: number, xSe: number, xHi: number, xLo: number, ySe: number, yHi: number, yLo: number): void {
    const f = this.f, prec = this.prec;
    switch (op) {
      case 0: return f.add(xSe, xHi, xLo, ySe, yHi, yLo, false, prec);
      case 1: return f.mul(xSe, xHi, xLo, ySe, yHi, yLo, prec);
      case 4: return f.add(xSe, xHi, xLo, ySe, yHi, yLo, true, prec);
      case 5: return f.add(ySe, yHi, yLo, xSe, xHi, xLo, true, prec);
      case 6: return f.div(xSe, xHi, xLo, ySe, yHi, yLo, prec);
      case 7: return f.div(ySe, yHi, yLo, xSe, xHi, xLo, prec);
    }
  }

  /** Store the core's result into physical register p per the exception response; true if stored. */
  private commit(p: number): boolean {
    const f = this.f;
    this.setC1(f.up);
    if (!this.raise(f.flags) && (f.flags & ~this.cw & (IE | DE | ZE))) return false;
    this.setResult(p);
    return true;
  }

  /** ST(0) op memory operand (already in src). */
  private arithMem(reg: number, srcDenormal: boolean): void {
    const p = this.top;
    if (reg === 2 || reg === 3) return this.compareSrc(p, reg === 3, false, srcDenormal);
    if (this.empty(p)) { if (this.stackUnderflow()) this.setIndefinite(p); return; }
    const f = this.begin();
    if (srcDenormal) {
      const c = classify(this.regSe[p], this.regHi[p], this.regLo[p]);
      const divByZero = reg === 7 && c === ZERO; // division by zero outranks the denormal operand
      if (c !== SNAN && c !== UNSUPPORTED && c !== QNAN && !divByZero) {
        f.flags |= DE;
        if ((this.cw & DE) === 0) { this.raise(DE); return; }
      }
    }
    this.compute(reg, this.regSe[p], this.regHi[p], this.regLo[p], this.srcSe, this.srcHi, this.srcLo);
    this.commit(p);
  }

  /** D8/DC/DE register forms. `toSti`: destination ST(i) (DC/DE), else ST(0). */
  private arithReg(reg: number, rm: number, toSti: boolean, pop: boolean): void {
    const p0 = this.top, pi = this.phys(rm);
    if (reg === 2 || reg === 3) return this.fcom(rm, false, reg === 3 || pop ? 1 : 0); // FCOM/FCOMP, aliases FCOM2 FCOMP3 FCOMP5
    const dst = toSti ? pi : p0;
    if (this.empty(p0) || this.empty(pi)) {
      if (!this.stackUnderflow()) return;
      this.setIndefinite(dst);
      if (pop) this.pop();
      return;
    }
    this.begin();
    // Register forms with destination ST(i) swap the roles of SUB/SUBR and DIV/DIVR.
    const op = toSti && reg >= 4 ? reg ^ 1 : reg;
    this.compute(op, this.regSe[dst], this.regHi[dst], this.regLo[dst],
      this.regSe[toSti ? p0 : pi], this.regHi[toSti ? p0 : pi], this.regLo[toSti ? p0 : pi]);
    if (this.commit(dst) && pop) this.pop();
  }

  private fsqrt(): void {
    const p = this.top;
    if (this.empty(p)) { if (this.stackUnderflow()) this.setIndefinite(p); return; }
    this.begin().sqrt(this.regSe[p], this.regHi[p], this.regLo[p], this.prec);
    this.commit(p);
  }

  private unarySign(bit: number, flip: boolean): void {
    const p = this.top;
    if (this.empty(p)) { if (this.stackUnderflow()) this.setIndefinite(p); return; }
    this.setC1(false);
    this.regSe[p] = flip ? this.regSe[p] ^ bit : this.regSe[p] & ~bit;
  }

  private fldConst(k: number): void {
    const [se, hi, lo, ext] = CONSTANTS[k];
    const f = this.begin();
    f.roundPack(0, se, hi, lo, ext, 64, EXT_MIN, EXT_MAX, true);
    this.setC1(false);
    this.push(f.rse, f.rhi, f.rlo);
  }

  private frndint(): void {
    const p = this.top;
    if (this.empty(p)) { if (this.stackUnderflow()) this.setIndefinite(p); return; }
    const f = this.begin(), se = this.regSe[p], hi = this.regHi[p], lo = this.regLo[p];
    const c = classify(se, hi, lo);
    if (c === UNSUPPORTED) f.invalid();
    else if (c >= QNAN) f.propagateNaN(se, hi, lo, c, se, hi, lo, c);
    else if (c === INF || c === ZERO) f.setResult(se, hi, lo);
    else {
      if (c === DENORMAL) { f.flags |= DE; if ((this.cw & DE) === 0) { this.raise(DE); return; } }
      f.roundToInt(se, hi, lo);
      if (f.intOverflow) f.setResult(se, hi, lo); // already an integer
      else { const up = f.up; f.fromInt(se & 0x8000, f.rhi, f.rlo); f.up = up; }
    }
    this.commit(p);
  }

  private fxtract(): void {
    const p = this.top;
    if (this.empty(p)) {
      if (!this.stackUnderflow()) return;
      this.setIndefinite(p);
      const q = this.pushSlot(); if (q >= 0) { this.top = q; this.setIndefinite(q); }
      return;
    }
    if (!this.canPush()) return this.overflowPush();
    const f = this.begin(), se = this.regSe[p], hi = this.regHi[p], lo = this.regLo[p];
    const c = classify(se, hi, lo);
    let expSe: number, expHi: number, expLo: number;
    if (c === UNSUPPORTED || c >= QNAN) {
      if (c === UNSUPPORTED) f.invalid(); else f.propagateNaN(se, hi, lo, c, se, hi, lo, c);
      expSe = f.rse; expHi = f.rhi; expLo = f.rlo;
    } else if (c === ZERO) {
      f.flags |= ZE;
      expSe = 0xffff; expHi = 0x80000000; expLo = 0;
      f.setResult(se, hi, lo);
    } else if (c === INF) {
      expSe = 0x7fff; expHi = 0x80000000; expLo = 0;
      f.setResult(se, hi, lo);
    } else {
      if (c === DENORMAL) f.flags |= DE;
      f.unpack(se, hi, lo);
      const e = f.unpackedExp - 16383;
      const sigHi = f.unpackedHi, sigLo = f.unpackedLo;
      f.fromInt(e < 0 ? 0x8000 : 0, 0, Math.abs(e));
      expSe = f.rse; expHi = f.rhi; expLo = f.rlo;
      f.setResult((se & 0x8000) | 0x3fff, sigHi, sigLo);
    }
    this.setC1(false);
    if (!this.raise(f.flags) && (f.flags & ~this.cw & (IE | DE | ZE))) return;
    const q = (this.top - 1) & 7;
    this.setReg(p, expSe, expHi, expLo);
    this.top = q;
    this.setResult(q);
  }

  private fscale(): void {
    const p0 = this.top, p1 = this.phys(1);
    if (this.empty(p0) || this.empty(p1)) { if (this.stackUnderflow()) this.setIndefinite(p0); return; }
    this.begin();
    this.rem.scale(this.regSe[p0], this.regHi[p0], this.regLo[p0], this.regSe[p1], this.regHi[p1], this.regLo[p1]);
    this.commit(p0);
  }

  private fprem(ieee: boolean): void {
    const p0 = this.top, p1 = this.phys(1);
    if (this.empty(p0) || this.empty(p1)) { if (this.stackUnderflow()) this.setIndefinite(p0); return; }
    const f = this.begin();
    const q = this.rem.remainder(this.regSe[p0], this.regHi[p0], this.regLo[p0], this.regSe[p1], this.regHi[p1], this.regLo[p1], ieee);
    if (!this.accept(f.flags)) return;
    if (q >= 0) this.setCC(q & 2, 0, q & 1, q & 4); // C0=Q2 C3=Q1 C1=Q0
    else if (q === REM_PARTIAL) this.swBits |= SW_C2;
    else this.swBits &= ~(SW_C2 | SW_C1); // special operands: no quotient bits (C1 cleared, as Bochs models Intel parts)
    this.setResult(p0);
  }

  // ---------------------------------------------------------------- comparisons

  /** Condition codes of a compare result (0 =, 1 <, 2 >, 3 unordered). */
  private setCompareCC(r: number): void {
    this.setCC(r === 0 || r === 3 ? 1 : 0, r === 3 ? 1 : 0, 0, r === 1 || r === 3 ? 1 : 0);
  }

  /** FCOM/FUCOM ST(0), ST(rm), then pop `pops` times. */
  private fcom(rm: number, quiet: boolean, pops: number): void {
    const p0 = this.top, pi = this.phys(rm);
    if (this.empty(p0) || this.empty(pi)) {
      const masked = this.stackUnderflow();
      this.setCC(1, 1, 0, 1); // unordered, even when unmasked
      if (masked) for (let i = 0; i < pops; i++) this.pop();
      return;
    }
    const f = this.begin();
    const r = f.compare(this.regSe[p0], this.regHi[p0], this.regLo[p0], this.regSe[pi], this.regHi[pi], this.regLo[pi], quiet);
    const ok = this.raise(f.flags) || (f.flags & ~this.cw & (IE | DE)) === 0;
    this.setCompareCC(r); // set even when the exception is unmasked
    if (!ok) return;
    for (let i = 0; i < pops; i++) this.pop();
  }

  /** FCOM/FCOMP/FICOM/FICOMP with the memory operand in src. */
  private compareSrc(p: number, pop: boolean, quiet: boolean, srcDenormal: boolean): void {
    if (this.empty(p)) {
      const masked = this.stackUnderflow();
      this.setCC(1, 1, 0, 1);
      if (masked && pop) this.pop();
      return;
    }
    const f = this.begin();
    const r = f.compare(this.regSe[p], this.regHi[p], this.regLo[p], this.srcSe, this.srcHi, this.srcLo, quiet);
    if (srcDenormal && (f.flags & IE) === 0) f.flags |= DE;
    const ok = this.raise(f.flags) || (f.flags & ~this.cw & (IE | DE)) === 0;
    this.setCompareCC(r);
    if (!ok) return;
    if (pop) this.pop();
  }

  private ftst(): void {
    const p = this.top;
    if (this.empty(p)) { this.stackUnderflow(); this.setCC(1, 1, 0, 1); return; }
    const f = this.begin();
    const r = f.compare(this.regSe[p], this.regHi[p], this.regLo[p], 0, 0, 0, false);
    this.raise(f.flags);
    this.setCompareCC(r);
  }

  /** FCOMI/FUCOMI(P): result in EFLAGS ZF/PF/CF. */
  private fcomi(rm: number, quiet: boolean, pop: boolean): void {
    const p0 = this.top, pi = this.phys(rm);
    this.setC1(false);
    if (this.empty(p0) || this.empty(pi)) {
      const masked = this.stackUnderflow();
      this.host.setEflagsZPC(true, true, true);
      if (masked && pop) this.pop();
      return;
    }
    const f = this.begin();
    const r = f.compare(this.regSe[p0], this.regHi[p0], this.regLo[p0], this.regSe[pi], this.regHi[pi], this.regLo[pi], quiet);
    this.host.setEflagsZPC(r === 0 || r === 3, r === 3, r === 1 || r === 3); // set even when the exception is unmasked
    if (!this.raise(f.flags) && (f.flags & ~this.cw & (IE | DE))) return;
    if (pop) this.pop();
  }

  private fxam(): void {
    const p = this.top;
    const se = this.regSe[p], sign = se >>> 15;
    if (this.empty(p)) { this.setCC(1, 0, sign, 1); return; }
    const c = classify(se, this.regHi[p], this.regLo[p]);
    // C3 C2 C0: unsupported 000, NaN 001, normal 010, infinity 011, zero 100, empty 101, denormal 110.
    switch (c) {
      case UNSUPPORTED: return this.setCC(0, 0, sign, 0);
      case QNAN: case SNAN: return this.setCC(0, 0, sign, 1);
      case NORMAL: return this.setCC(0, 1, sign, 0);
      case INF: return this.setCC(0, 1, sign, 1);
      case ZERO: return this.setCC(1, 0, sign, 0);
      default: return this.setCC(1, 1, sign, 0);
    }
  }

  // ---------------------------------------------------------------- moves

  private fxch(rm: number): void {
    const p0 = this.top, pi = this.phys(rm);
    if (this.empty(p0) || this.empty(pi)) {
      if (!this.stackUnderflow()) return;
      if (this.empty(p0)) this.setIndefinite(p0);
      if (this.empty(pi)) this.setIndefinite(pi);
    } else this.setC1(false);
    const se = this.regSe[p0], hi = this.regHi[p0], lo = this.regLo[p0];
    this.setReg(p0, this.regSe[pi], this.regHi[pi], this.regLo[pi]);
    this.setReg(pi, se, hi, lo);
  }

  private fstReg(rm: number, pop: boolean): void {
    const p0 = this.top, pi = this.phys(rm);
    if (this.empty(p0)) {
      if (!this.stackUnderflow()) return;
      this.setIndefinite(pi);
    } else {
      this.setC1(false);
      this.setReg(pi, this.regSe[p0], this.regHi[p0], this.regLo[p0]);
    }
    if (pop) this.pop();
  }

  private fcmov(cond: number, rm: number, negate: boolean): void {
    const p0 = this.top, pi = this.phys(rm);
    if (this.empty(p0) || this.empty(pi)) {
      if (this.stackUnderflow()) this.setIndefinite(p0);
      return;
    }
    this.setC1(false);
    const fl = this.host.getEflags();
    const cf = fl & 1, pf = (fl >>> 2) & 1, zf = (fl >>> 6) & 1;
    let t = cond === 0 ? cf : cond === 1 ? zf : cond === 2 ? cf | zf : pf;
    if (negate) t ^= 1;
    if (t) this.setReg(p0, this.regSe[pi], this.regHi[pi], this.regLo[pi]);
  }

  /** FLD m32/m64. */
  private fldReal(denormal: boolean): void {
    const slot = this.pushSlot();
    if (slot < 0) return;
    const c = classify(this.srcSe, this.srcHi, this.srcLo);
    let flags = 0;
    if (c === SNAN) { flags = IE; this.srcHi |= 0x40000000; }
    else if (denormal) flags = DE;
    this.setC1(false);
    // An unmasked IE leaves the stack alone; an unmasked DE still loads (SDM FLD note; also the oracle).
    if (!this.raise(flags) && (flags & IE)) return;
    this.top = slot;
    this.setReg(slot, this.srcSe, this.srcHi >>> 0, this.srcLo);
  }

  /** FST/FSTP m32/m64. */
  private fstReal(seg: number, off: number, double: boolean, pop: boolean): void {
    const p = this.top;
    const f = this.begin();
    let store: boolean;
    let se = 0xffff, hi = 0xc0000000, lo = 0, c = QNAN;
    if (this.empty(p)) {
      store = this.stackUnderflow();
      f.setIndefinite(); f.up = false;
    } else {
      se = this.regSe[p]; hi = this.regHi[p]; lo = this.regLo[p];
      c = classify(se, hi, lo);
      if (c === UNSUPPORTED) { f.invalid(); se = f.rse; hi = f.rhi; lo = f.rlo; c = QNAN; }
      else if (c === SNAN) { f.flags |= IE; hi |= 0x40000000; c = QNAN; }
      if (c === ZERO || c === INF || c === QNAN) f.setResult(se, hi, lo);
      else {
        f.unpack(se, hi, lo);
        const e = f.unpackedExp, h = f.unpackedHi, l = f.unpackedLo;
        f.roundPack(se & 0x8000, e, h, l, 0, double ? 53 : 24, double ? F64_MIN : F32_MIN, double ? F64_MAX : F32_MAX, false);
      }
      store = (f.flags & ~this.cw & (IE | OE | UE)) === 0;
      // Flags are recorded after the store: a faulting write must leave the FPU as it was.
      if (!store) { this.setC1(f.up); this.raise(f.flags); return; }
    }
    if (!store) return;
    const flags = f.flags, up = f.up;
    // Pack sign/exp/significand into the memory format.
    const sign = f.rse & 0x8000, e = f.rse & 0x7fff;
    hi = f.rhi; lo = f.rlo;
    const special = e === 0x7fff; // inf/NaN from the register
    if (double) {
      const be = special ? 0x7ff : e === 0 ? 0 : e - F64_MIN + 1;
      const frac = (hi & 0x7fffffff);
      const wh = (sign << 16) | (be << 20) | (frac >>> 11), wl = ((frac << 21) | (lo >>> 11)) >>> 0;
      this.host.write32(seg, off, wl | 0); this.host.write32(seg, off + 4, wh | 0);
    } else {
      const be = special ? 0xff : e === 0 ? 0 : e - F32_MIN + 1;
      this.host.write32(seg, off, ((sign << 16) | (be << 23) | ((hi & 0x7fffffff) >>> 8)) | 0);
    }
    if (!this.empty(p)) { this.setC1(up); this.raise(flags); }
    if (pop) this.pop();
  }

  private fstp80(seg: number, off: number): void {
    const p = this.top;
    if (this.empty(p)) {
      if (!this.stackUnderflow()) return;
      this.write80(seg, off, 0xffff, 0xc0000000, 0);
    } else {
      this.setC1(false);
      this.write80(seg, off, this.regSe[p], this.regHi[p], this.regLo[p]);
    }
    this.pop();
  }

  /** FIST/FISTP m16/m32/m64. */
  private fist(seg: number, off: number, bytes: number, pop: boolean): void {
    const p = this.top;
    const f = this.begin();
    let hi = 0, lo = 0, ok = false;
    if (this.empty(p)) {
      if (!this.stackUnderflow()) return;
    } else {
      const se = this.regSe[p], c = classify(se, this.regHi[p], this.regLo[p]);
      if (c === ZERO || c === NORMAL || c === DENORMAL) {
        f.roundToInt(se, this.regHi[p], this.regLo[p]);
        const neg = (se & 0x8000) !== 0;
        hi = f.rhi; lo = f.rlo;
        // Range check on the magnitude: limit is 2^(n-1) for negatives, 2^(n-1)-1 otherwise.
        const bits = bytes * 8;
        if (!f.intOverflow) {
          if (bits === 64) ok = hi < 0x80000000 || (neg && hi === 0x80000000 && lo === 0);
          else ok = hi === 0 && (lo < 2 ** (bits - 1) || (neg && lo === 2 ** (bits - 1)));
        }
        if (ok && neg) { lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
      }
      if (!ok) { f.flags = (f.flags & ~PE) | IE; f.up = false; }
      if (f.flags & ~this.cw & IE) { this.setC1(false); this.raise(f.flags); return; }
    }
    if (!ok) { hi = bytes === 8 ? 0x80000000 : 0; lo = bytes === 8 ? 0 : bytes === 4 ? 0x80000000 : 0x8000; }
    if (bytes === 2) this.host.write16(seg, off, lo & 0xffff);
    else { this.host.write32(seg, off, lo | 0); if (bytes === 8) this.host.write32(seg, off + 4, hi | 0); }
    if (!this.empty(p)) { this.setC1(f.up); this.raise(f.flags); } // after the store: a faulting write changes nothing
    if (pop) this.pop();
  }

  private fbld(seg: number, off: number): void {
    let v = 0n;
    for (let i = 8; i >= 0; i--) {
      const b = this.host.read8(seg, off + i);
      v = v * 100n + BigInt((b >>> 4) * 10 + (b & 15));
    }
    const sign = this.host.read8(seg, off + 9) & 0x80 ? 0x8000 : 0;
    const f = this.f;
    f.fromInt(sign, Number(v >> 32n), Number(v & 0xffffffffn));
    this.pushLoaded(f.rse, f.rhi, f.rlo);
  }

  private fbstp(seg: number, off: number): void {
    const p = this.top;
    const f = this.begin();
    let v = -1n, sign = 0;
    if (this.empty(p)) {
      if (!this.stackUnderflow()) return;
    } else {
      const se = this.regSe[p], c = classify(se, this.regHi[p], this.regLo[p]);
      sign = se & 0x8000;
      if (c === ZERO || c === NORMAL || c === DENORMAL) {
        f.roundToInt(se, this.regHi[p], this.regLo[p]);
        const m = (BigInt(f.rhi) << 32n) | BigInt(f.rlo);
        if (!f.intOverflow && m < 10n ** 18n) v = m;
      }
      if (v < 0n) { f.flags = IE; f.up = false; }
      if (f.flags & ~this.cw & IE) { this.setC1(false); this.raise(f.flags); return; }
    }
    if (v < 0n) { // packed BCD indefinite
      for (let i = 0; i < 7; i++) this.host.write8(seg, off + i, 0);
      this.host.write8(seg, off + 7, 0xc0); this.host.write8(seg, off + 8, 0xff); this.host.write8(seg, off + 9, 0xff);
    } else {
      for (let i = 0; i < 9; i++) {
        const d = Number(v % 100n); v /= 100n;
        this.host.write8(seg, off + i, ((d / 10) | 0) << 4 | (d % 10));
      }
      this.host.write8(seg, off + 9, sign ? 0x80 : 0);
    }
    if (!this.empty(p)) { this.setC1(f.up); this.raise(f.flags); } // after the store: a faulting write changes nothing
    this.pop();
  }

  // ---------------------------------------------------------------- helpers for transcendental.ts / remainder.ts

  /** @internal */ get core(): Float80 { return this.f; }
  /**
   * @internal Begin an operation on ST(0) (and ST(1) when `two`). Returns 1 to proceed, 0 after a
   * masked stack underflow (indefinite written to ST(dest)), -1 after an unmasked one.
   */
  operands(two: boolean, dest: number): number {
    if (this.empty(this.top) || (two && this.empty(this.phys(1)))) {
      if (!this.stackUnderflow()) return -1;
      this.setIndefinite(this.phys(dest));
      return 0;
    }
    this.begin();
    return 1;
  }
  /** @internal */ pushIndefinite(): void { this.push(0xffff, 0xc0000000, 0); }
  /** @internal */ writeReg(i: number, se: number, hi: number, lo: number): void { this.setReg(this.phys(i), se, hi, lo); }
  /**
   * @internal Stack overflow of an instruction that replaces ST(0) and pushes (FXTRACT, FPTAN,
   * FSINCOS): masked, both the old ST(0) and the new one become the indefinite.
   */
  overflowPush(): void {
    const p = this.top;
    if (this.pushSlot() < 0 && this.top !== p) this.setIndefinite(p);
  }
  /** @internal */ regOf(i: number): number { return this.phys(i); }
  /** @internal */ commitTo(i: number): boolean { return this.commit(this.phys(i)); }
  /** @internal */ popStack(): void { this.pop(); }
  /** @internal */ setC2(on: boolean): void { if (on) this.swBits |= SW_C2; else this.swBits &= ~SW_C2; }
  /** @internal Record flags; true if the result may be written. */
  accept(flags: number): boolean { return this.raise(flags) || (flags & ~this.cw & (IE | DE | ZE)) === 0; }
  /** @internal */ setC1Flag(on: boolean): void { this.setC1(on); }
  /** @internal Push the core's result (after a successful pushSlot check). */
  pushResult(): boolean { const q = this.pushSlot(); if (q < 0) return false; this.top = q; this.setResult(q); return true; }
  /** @internal */ canPush(): boolean { return this.empty((this.top - 1) & 7); }

  // ---------------------------------------------------------------- environment and state images

  /** Linear address a real-mode/v86 FSTENV stores: segment*16 + offset. */
  private realPointer(selector: number, offset: number): number { return ((selector << 4) + offset) >>> 0; }

  /** FNSTENV: the 14/28-byte environment in the current mode's format. Returns its size. */
  private fstenv(seg: number, off: number, o32: boolean): number {
    const h = this.host, prot = h.protectedMode();
    const fip = prot ? this.fip : this.realPointer(this.fcs, this.fip);
    const fdp = prot ? this.fdp : this.realPointer(this.fds, this.fdp);
    if (o32) {
      h.write32(seg, off, this.cw | 0xffff0000);
      h.write32(seg, off + 4, this.statusWord | 0xffff0000);
      h.write32(seg, off + 8, this.tagWord | 0xffff0000);
      if (prot) {
        h.write32(seg, off + 12, fip | 0);
        h.write32(seg, off + 16, (this.fcs & 0xffff) | (this.fop << 16));
        h.write32(seg, off + 20, fdp | 0);
        h.write32(seg, off + 24, (this.fds & 0xffff) | 0xffff0000);
      } else {
        h.write32(seg, off + 12, (fip & 0xffff) | 0xffff0000);
        h.write32(seg, off + 16, ((fip >>> 16) << 12) | this.fop);
        h.write32(seg, off + 20, (fdp & 0xffff) | 0xffff0000);
        h.write32(seg, off + 24, (fdp >>> 16) << 12);
      }
      return 28;
    }
    h.write16(seg, off, this.cw);
    h.write16(seg, off + 2, this.statusWord);
    h.write16(seg, off + 4, this.tagWord);
    if (prot) {
      h.write16(seg, off + 6, fip & 0xffff); h.write16(seg, off + 8, this.fcs);
      h.write16(seg, off + 10, fdp & 0xffff); h.write16(seg, off + 12, this.fds);
    } else {
      h.write16(seg, off + 6, fip & 0xffff); h.write16(seg, off + 8, ((fip >>> 16) & 0xf) << 12 | this.fop);
      h.write16(seg, off + 10, fdp & 0xffff); h.write16(seg, off + 12, ((fdp >>> 16) & 0xf) << 12);
    }
    return 14;
  }

  /** FLDENV (reads everything before changing anything, so a fault leaves the state intact). */
  private fldenv(seg: number, off: number, o32: boolean): number {
    const h = this.host, prot = h.protectedMode();
    let cw: number, sw: number, tw: number, fip: number, fcs = 0, fop: number, fdp: number, fds = 0, size: number;
    if (o32) {
      cw = h.read16(seg, off); sw = h.read16(seg, off + 4); tw = h.read16(seg, off + 8);
      const d3 = h.read32(seg, off + 12) >>> 0, d4 = h.read32(seg, off + 16) >>> 0;
      const d5 = h.read32(seg, off + 20) >>> 0, d6 = h.read32(seg, off + 24) >>> 0;
      if (prot) { fip = d3; fcs = d4 & 0xffff; fop = (d4 >>> 16) & 0x7ff; fdp = d5; fds = d6 & 0xffff; }
      else { fip = (d3 & 0xffff) | (((d4 >>> 12) & 0xffff) << 16); fop = d4 & 0x7ff; fdp = (d5 & 0xffff) | (((d6 >>> 12) & 0xffff) << 16); }
      size = 28;
    } else {
      cw = h.read16(seg, off); sw = h.read16(seg, off + 2); tw = h.read16(seg, off + 4);
      const w3 = h.read16(seg, off + 6), w4 = h.read16(seg, off + 8), w5 = h.read16(seg, off + 10), w6 = h.read16(seg, off + 12);
      if (prot) { fip = w3; fcs = w4; fop = this.fop; fdp = w5; fds = w6; }
      else { fip = w3 | ((w4 >>> 12) << 16); fop = w4 & 0x7ff; fdp = w5 | ((w6 >>> 12) << 16); }
      size = 14;
    }
    this.cw = (cw & 0x1f3f) | 0x40;
    this.swBits = sw & 0xffff; this.top = (sw >>> 11) & 7;
    let valid = 0;
    for (let i = 0; i < 8; i++) if (((tw >>> (2 * i)) & 3) !== 3) valid |= 1 << i;
    this.tagValid = valid;
    this.fip = fip >>> 0; this.fcs = fcs; this.fop = fop; this.fdp = fdp >>> 0; this.fds = fds;
    this.updateSummary();
    return size;
  }

  private fsave(seg: number, off: number, o32: boolean): void {
    const size = this.fstenv(seg, off, o32);
    for (let i = 0; i < 8; i++) {
      const p = this.phys(i);
      this.write80(seg, off + size + 10 * i, this.regSe[p], this.regHi[p], this.regLo[p]);
    }
    this.finit();
  }

  private frstor(seg: number, off: number, o32: boolean): void {
    const size = o32 ? 28 : 14;
    // Read the registers first: a fault part-way must leave the FPU unchanged.
    const se = new Uint16Array(8), hi = new Uint32Array(8), lo = new Uint32Array(8);
    for (let i = 0; i < 8; i++) {
      this.read80(seg, off + size + 10 * i);
      se[i] = this.srcSe; hi[i] = this.srcHi; lo[i] = this.srcLo;
    }
    this.fldenv(seg, off, o32);
    for (let i = 0; i < 8; i++) {
      const p = this.phys(i);
      this.regSe[p] = se[i]; this.regHi[p] = hi[i]; this.regLo[p] = lo[i];
    }
  }

  /** FXSAVE (0F AE /0): the 512-byte legacy area (32-bit layout; XMM registers are zero until SSE exists). */
  fxsave(seg: number, offset: number): void {
    if (offset & 15) this.host.raiseGeneralProtection();
    const h = this.host;
    h.write16(seg, offset, this.cw);
    h.write16(seg, offset + 2, this.statusWord);
    h.write8(seg, offset + 4, this.tagValid);
    h.write8(seg, offset + 5, 0);
    h.write16(seg, offset + 6, this.fop);
    h.write32(seg, offset + 8, this.fip | 0);
    h.write32(seg, offset + 12, this.fcs & 0xffff);
    h.write32(seg, offset + 16, this.fdp | 0);
    h.write32(seg, offset + 20, this.fds & 0xffff);
    h.write32(seg, offset + 24, this.mxcsr | 0);
    h.write32(seg, offset + 28, MXCSR_MASK);
    for (let i = 0; i < 8; i++) {
      const p = this.phys(i), a = offset + 32 + 16 * i;
      this.write80(seg, a, this.regSe[p], this.regHi[p], this.regLo[p]);
      h.write16(seg, a + 10, 0); h.write32(seg, a + 12, 0);
    }
    for (let a = 160; a < 288; a += 4) h.write32(seg, offset + a, 0);
  }

  /** FXRSTOR (0F AE /1). */
  fxrstor(seg: number, offset: number): void {
    if (offset & 15) this.host.raiseGeneralProtection();
    const h = this.host;
    const mxcsr = h.read32(seg, offset + 24) >>> 0;
    if (mxcsr & ~MXCSR_MASK) this.host.raiseGeneralProtection();
    const se = new Uint16Array(8), hi = new Uint32Array(8), lo = new Uint32Array(8);
    for (let i = 0; i < 8; i++) {
      this.read80(seg, offset + 32 + 16 * i);
      se[i] = this.srcSe; hi[i] = this.srcHi; lo[i] = this.srcLo;
    }
    const cw = h.read16(seg, offset), sw = h.read16(seg, offset + 2), tag = h.read8(seg, offset + 4);
    const fop = h.read16(seg, offset + 6), fip = h.read32(seg, offset + 8) >>> 0, fcs = h.read16(seg, offset + 12);
    const fdp = h.read32(seg, offset + 16) >>> 0, fds = h.read16(seg, offset + 20);
    this.cw = (cw & 0x1f3f) | 0x40; this.swBits = sw; this.top = (sw >>> 11) & 7; this.tagValid = tag & 0xff;
    this.fop = fop & 0x7ff; this.fip = fip; this.fcs = fcs; this.fdp = fdp; this.fds = fds;
    this.mxcsr = mxcsr;
    for (let i = 0; i < 8; i++) {
      const p = this.phys(i);
      this.regSe[p] = se[i]; this.regHi[p] = hi[i]; this.regLo[p] = lo[i];
    }
    this.updateSummary();
  }
}

