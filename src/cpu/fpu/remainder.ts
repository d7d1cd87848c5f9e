/** FPREM/FPREM1 partial remainders and FSCALE on the softfloat core (BigInt: rare instructions). */
import { Float80, classify, sig64, DE, ZERO, DENORMAL, INF, QNAN, UNSUPPORTED, EXT_MIN, EXT_MAX, RC_NEAREST } from './float80.ts';

/** Results of remainder(): quotient bits (0..7) when complete, or one of these. */
export const REM_PARTIAL = -2, REM_SPECIAL = -1;

export class FpuRemainder {
  constructor(private readonly f: Float80) {}

  /** Common NaN/unsupported/denormal screening; true if the result is decided. */
  private screen(aSe: number, aHi: number, aLo: number, ca: number, bSe: number, bHi: number, bLo: number, cb: number): boolean {
    const f = this.f;
    if (ca === UNSUPPORTED || cb === UNSUPPORTED) { f.invalid(); return true; }
    if (ca >= QNAN || cb >= QNAN) { f.propagateNaN(aSe, aHi, aLo, ca, bSe, bHi, bLo, cb); return true; }
    return false;
  }

  /**
   * ST(0) rem ST(1). `ieee` = FPREM1 (quotient rounded to nearest) else FPREM (truncated).
   * When the exponents differ by 64 or more, one partial step reduces the exponent difference
   * (N = 32 + (D mod 32) quotient bits, as the hardware does) and C2 is set.
   */
  remainder(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, ieee: boolean): number {
    const f = this.f;
    const ca = classify(aSe, aHi, aLo), cb = classify(bSe, bHi, bLo);
    if (this.screen(aSe, aHi, aLo, ca, bSe, bHi, bLo, cb)) return REM_SPECIAL;
    if (ca === INF || cb === ZERO) { f.invalid(); return REM_SPECIAL; }
    if (ca === DENORMAL || cb === DENORMAL) { f.flags |= DE; if ((f.masks & DE) === 0) return REM_SPECIAL; }
    if (ca === ZERO) { f.setResult(aSe, aHi, aLo); return 0; }
    const sign = aSe & 0x8000;
    f.unpack(aSe, aHi, aLo);
    const ae = f.unpackedExp, A = sig64(f.unpackedHi, f.unpackedLo);
    if (cb === INF) { this.pack(sign, ae, A); return 0; }
    f.unpack(bSe, bHi, bLo);
    const be = f.unpackedExp, B = sig64(f.unpackedHi, f.unpackedLo);
    const d = ae - be;
    if (d >= 64) {
      const n = 32 + (d & 31);
      const r = (A << BigInt(n)) % B;
      this.pack(sign, ae - n, r);
      return REM_PARTIAL;
    }
    if (d < (ieee ? -1 : 0)) { this.pack(sign, ae, A); return 0; }
    const m = Math.min(ae, be);
    const a = A << BigInt(ae - m), b = B << BigInt(be - m);
    let q = a / b, r = a - q * b, s = sign;
    if (ieee && (2n * r > b || (2n * r === b && (q & 1n) === 1n))) { q++; r = b - r; s ^= 0x8000; }
    if (r === 0n) { f.setResult(s, 0, 0); f.up = false; }
    else this.pack(s, m, r);
    return Number(q & 7n);
  }

  /** Exact result r × 2^(exp-16383-63) (r < 2^64). */
  private pack(sign: number, exp: number, r: bigint): void {
    const f = this.f, rc = f.rc;
    f.rc = RC_NEAREST;
    f.roundPack(sign, exp, Number(r >> 32n), Number(r & 0xffffffffn), 0, 64, EXT_MIN, EXT_MAX, true);
    f.rc = rc;
  }

  /** FSCALE: ST(0) × 2^trunc(ST(1)). */
  scale(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number): void {
    const f = this.f;
    const ca = classify(aSe, aHi, aLo), cb = classify(bSe, bHi, bLo);
    f.up = false;
    if (this.screen(aSe, aHi, aLo, ca, bSe, bHi, bLo, cb)) return;
    if (ca === DENORMAL || cb === DENORMAL) { f.flags |= DE; if ((f.masks & DE) === 0) return; }
    const sign = aSe & 0x8000;
    if (cb === INF) {
      const neg = (bSe & 0x8000) !== 0;
      if (ca === ZERO) { if (neg) f.setResult(aSe, 0, 0); else f.invalid(); return; }
      if (ca === INF) { if (neg) f.invalid(); else f.setResult(aSe, aHi, aLo); return; }
      if (neg) f.setResult(sign, 0, 0); else f.setResult(sign | 0x7fff, 0x80000000, 0);
      return;
    }
    if (ca === ZERO || ca === INF) { f.setResult(aSe, aHi, aLo); return; }
    // trunc(ST(1)), clamped far beyond any exponent that can still produce a finite result.
    let n = 0;
    if (cb !== ZERO) {
      f.unpack(bSe, bHi, bLo);
      const e = f.unpackedExp - 16383;
      if (e >= 20) n = 1 << 20;
      else if (e >= 0) n = f.unpackedHi >>> (31 - e); // the integer part sits in the top word
      if (bSe & 0x8000) n = -n;
    }
    f.unpack(aSe, aHi, aLo);
    f.roundPack(sign, f.unpackedExp + n, f.unpackedHi, f.unpackedLo, 0, 64, EXT_MIN, EXT_MAX, true);
  }
}

