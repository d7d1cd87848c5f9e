/**
 * Software floatx80 arithmetic, bit-exact with the x87.
 *
 * A value is three numbers: `se` (sign << 15 | 15-bit biased exponent) and the 64-bit significand
 * as two uint32 halves `hi`/`lo` (bit 31 of `hi` is the explicit integer bit J). Working results
 * carry a third word `ext` of guard bits whose lowest bit is sticky. The arithmetic never
 * allocates: results land in the fields `rse`/`rhi`/`rlo`, exception flags accumulate in `flags`,
 * and `up` tells whether the last rounding went up in magnitude (the x87's C1).
 * BigInt appears only in the rare operations (FPREM, BCD) and in transcendental.ts.
 */

export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;

/** Operand classes. Unsupported = unnormal, pseudo-NaN, pseudo-infinity (invalid on the 387+). */
export const ZERO = 0, NORMAL = 1, DENORMAL = 2, INF = 3, QNAN = 4, SNAN = 5, UNSUPPORTED = 6;

export function classify(se: number, hi: number, lo: number): number {
  const e = se & 0x7fff;
  if (e === 0) return (hi | lo) === 0 ? ZERO : DENORMAL; // pseudo-denormals (J=1) count as denormals
  if ((hi & 0x80000000) === 0) return UNSUPPORTED;
  if (e === 0x7fff) {
    if ((hi & 0x7fffffff) === 0 && lo === 0) return INF;
    return hi & 0x40000000 ? QNAN : SNAN;
  }
  return NORMAL;
}

/** Exponent bounds (in the extended biased domain) of the formats results are rounded to. */
export const EXT_MIN = 1, EXT_MAX = 0x7ffe;
export const F64_MIN = 16383 - 1022, F64_MAX = 16383 + 1023;
export const F32_MIN = 16383 - 126, F32_MAX = 16383 + 127;

/** Bias adjustment applied to a register result on unmasked overflow/underflow. */
const BIAS_ADJUST = 24576;

export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

export class Float80 {
  /** Rounding control (RC_*). */
  rc = RC_NEAREST;
  /** Exception masks (control word bits 0..5). */
  masks = 0x3f;
  /** Exception flags raised since the caller last cleared them. */
  flags = 0;
  /** The last rounding incremented the magnitude. */
  up = false;
  /** Result. */
  rse = 0; rhi = 0; rlo = 0;

  // Unpacked, normalized operands (exponent may go below 1 for denormals).
  private ae = 0; private ahi = 0; private alo = 0;
  private be = 0; private bhi = 0; private blo = 0;
  // Scratch of the long division (16-bit digits).
  private readonly divU = new Int32Array(10);
  private readonly divV = new Int32Array(4);
  // Scratch of shiftRightJam.
  private sh = 0; private sl = 0; private sx = 0;

  setResult(se: number, hi: number, lo: number): void { this.rse = se; this.rhi = hi >>> 0; this.rlo = lo >>> 0; }
  setIndefinite(): void { this.setResult(0xffff, 0xc0000000, 0); }

  /** Raise IE and return the real indefinite. */
  invalid(): void { this.flags |= IE; this.setIndefinite(); }

  /** Result = the quieted NaN operand, or the x87's choice between two NaN operands. */
  propagateNaN(aSe: number, aHi: number, aLo: number, ca: number, bSe: number, bHi: number, bLo: number, cb: number): void {
    if (ca === SNAN || cb === SNAN) this.flags |= IE;
    const aNaN = ca === QNAN || ca === SNAN, bNaN = cb === QNAN || cb === SNAN;
    let pickA: boolean;
    if (aNaN && bNaN) {
      if (ca !== cb) pickA = ca === QNAN;
      else {
        const ah = aHi & 0x7fffffff, bh = bHi & 0x7fffffff;
        pickA = ah > bh || (ah === bh && ((aLo >>> 0) > (bLo >>> 0) || ((aLo >>> 0) === (bLo >>> 0) && (aSe & 0x8000) === 0)));
      }
    } else pickA = aNaN;
    if (pickA) this.setResult(aSe, aHi | 0x40000000, aLo);
    else this.setResult(bSe, bHi | 0x40000000, bLo);
  }

  /** Unpack a finite, non-zero operand into ue/uhi/ulo, normalized so that J=1. */
  private ue = 0; private uhi = 0; private ulo = 0;
  private unpackU(se: number, hi: number, lo: number): void {
    let e = se & 0x7fff; hi >>>= 0; lo >>>= 0;
    if (e === 0) {
      e = 1;
      if (hi === 0) { hi = lo; lo = 0; e -= 32; }
      const n = Math.clz32(hi);
      if (n) { hi = ((hi << n) | (lo >>> (32 - n))) >>> 0; lo = (lo << n) >>> 0; e -= n; }
    }
    this.ue = e; this.uhi = hi; this.ulo = lo;
  }
  private unpackA(se: number, hi: number, lo: number): void {
    this.unpackU(se, hi, lo);
    this.ae = this.ue; this.ahi = this.uhi; this.alo = this.ulo;
  }
  private unpackB(se: number, hi: number, lo: number): void {
    this.unpackU(se, hi, lo);
    this.be = this.ue; this.bhi = this.uhi; this.blo = this.ulo;
  }

  /** sh:sl:sx = (hi:lo:0) >> n with the bits shifted out ORed into bit 0 of sx. */
  private shiftRightJam(hi: number, lo: number, n: number): void {
    if (n === 0) { this.sh = hi; this.sl = lo; this.sx = 0; }
    else if (n < 32) { this.sh = hi >>> n; this.sl = ((hi << (32 - n)) | (lo >>> n)) >>> 0; this.sx = (lo << (32 - n)) >>> 0; }
    else if (n === 32) { this.sh = 0; this.sl = hi; this.sx = lo; }
    else if (n < 64) {
      const m = n - 32;
      this.sh = 0; this.sl = hi >>> m;
      this.sx = (((hi << (32 - m)) | (lo >>> m)) | ((lo << (32 - m)) !== 0 ? 1 : 0)) >>> 0;
    } else if (n === 64) { this.sh = 0; this.sl = 0; this.sx = (hi | (lo !== 0 ? 1 : 0)) >>> 0; }
    else if (n < 96) {
      const m = n - 64;
      this.sh = 0; this.sl = 0;
      this.sx = ((hi >>> m) | ((hi << (32 - m)) !== 0 || lo !== 0 ? 1 : 0)) >>> 0;
    } else { this.sh = 0; this.sl = 0; this.sx = (hi | lo) !== 0 ? 1 : 0; }
  }

  /**
   * Round and pack sign/exp/hi:lo:ext (value = hi:lo:ext × 2^(exp-16383-95), not necessarily
   * normalized) to `prec` significand bits (24, 53 or 64) and the exponent range [minExp, maxExp].
   * The result's exponent is minExp-1 for denormals/zero and maxExp+1 for infinity, so the memory
   * format packers can rebias it. `register` selects the x87 register-destination response to
   * unmasked overflow/underflow (rebias by 24576); for memory destinations the caller stores
   * nothing when those are unmasked.
   */
  roundPack(sign: number, exp: number, hi: number, lo: number, ext: number, prec: number, minExp: number, maxExp: number, register: boolean): void {
    hi >>>= 0; lo >>>= 0; ext >>>= 0;
    this.up = false;
    if (hi === 0) {
      if (lo === 0 && ext === 0) { this.rse = sign ? 0x8000 : 0; this.rhi = 0; this.rlo = 0; this.rse |= minExp - 1; return; }
      if (lo === 0) { hi = ext; ext = 0; exp -= 64; } else { hi = lo; lo = ext; ext = 0; exp -= 32; }
    }
    const n = Math.clz32(hi);
    if (n) {
      hi = ((hi << n) | (lo >>> (32 - n))) >>> 0;
      lo = ((lo << n) | (ext >>> (32 - n))) >>> 0;
      ext = (ext << n) >>> 0;
      exp -= n;
    }
    let denormal = false;
    // Tiny: the x87 detects tininess after rounding (a value that rounds up to the smallest normal is not tiny).
    if (exp < minExp && !(exp === minExp - 1 && this.carriesOut(sign, hi, lo, ext, prec))) {
      if ((this.masks & UE) === 0 && (!register || exp + BIAS_ADJUST >= minExp)) {
        this.flags |= UE;
        if (!register) return;
        exp += BIAS_ADJUST;
      } else if ((this.masks & UE) === 0) { // unmasked but too tiny even when rebiased: ±0
        this.flags |= UE | PE; this.up = false;
        this.rse = sign ? 0x8000 : 0; this.rhi = 0; this.rlo = 0;
        return;
      } else { // masked: denormalize
        const shift = minExp - exp;
        const sticky = ext !== 0 ? 1 : 0;
        this.shiftRightJam(hi, lo, shift > 96 ? 96 : shift);
        hi = this.sh; lo = this.sl; ext = (this.sx | sticky) >>> 0;
        exp = minExp - 1;
        denormal = true;
      }
    }
    // Rounding bits below the kept precision: rem vs half, plus sticky.
    let rem: number, half: number, sticky: boolean, lsb: number;
    if (prec === 64) { rem = ext; half = 0x80000000; sticky = false; lsb = lo & 1; }
    else if (prec === 53) { rem = lo & 0x7ff; half = 0x400; sticky = ext !== 0; lsb = (lo >>> 11) & 1; }
    else { rem = hi & 0xff; half = 0x80; sticky = (lo | ext) !== 0; lsb = (hi >>> 8) & 1; }
    const inexact = rem !== 0 || sticky;
    let incr = false;
    if (inexact) {
      const rc = this.rc;
      if (rc === RC_NEAREST) incr = rem > half || (rem === half && (sticky || lsb !== 0));
      else if (rc === RC_DOWN) incr = sign !== 0;
      else if (rc === RC_UP) incr = sign === 0;
      if (denormal) this.flags |= UE;
      this.flags |= PE;
    }
    if (prec === 64) {
      if (incr) { lo = (lo + 1) >>> 0; if (lo === 0) hi = (hi + 1) >>> 0; }
    } else if (prec === 53) {
      lo = (lo & ~0x7ff) >>> 0;
      if (incr) { lo += 0x800; if (lo >= 0x100000000) { lo -= 0x100000000; hi = (hi + 1) >>> 0; } }
    } else {
      lo = 0; hi = (hi & ~0xff) >>> 0;
      if (incr) hi = (hi + 0x100) >>> 0;
    }
    if (incr && hi === 0 && !denormal) { hi = 0x80000000; exp++; } // carried out of the significand
    if (denormal && hi >= 0x80000000) exp = minExp; // rounded up to the smallest normal
    this.up = incr;
    if (exp > maxExp) {
      if ((this.masks & OE) === 0 && (!register || exp - BIAS_ADJUST <= maxExp)) {
        if (!register) { this.flags = (this.flags & ~PE) | OE; this.up = false; return; }
        this.flags |= OE;
        exp -= BIAS_ADJUST;
      } else if ((this.masks & OE) === 0) { // unmasked but too huge even when rebiased: ±∞
        this.flags |= OE | PE; this.up = true;
        this.rse = (sign ? 0x8000 : 0) | (maxExp + 1); this.rhi = 0x80000000; this.rlo = 0;
        return;
      } else { // masked
        this.flags |= OE | PE;
        const rc = this.rc;
        const toInf = rc === RC_NEAREST || (rc === RC_DOWN ? sign !== 0 : rc === RC_UP ? sign === 0 : false);
        if (toInf) { exp = maxExp + 1; hi = 0x80000000; lo = 0; this.up = true; }
        else {
          exp = maxExp; this.up = false;
          hi = prec === 24 ? 0xffffff00 : 0xffffffff;
          lo = prec === 64 ? 0xffffffff : prec === 53 ? 0xfffff800 : 0;
        }
      }
    }
    this.rse = (sign ? 0x8000 : 0) | exp;
    this.rhi = hi; this.rlo = lo;
  }

  /** Would rounding the normalized hi:lo:ext to `prec` bits carry out of the significand? */
  private carriesOut(sign: number, hi: number, lo: number, ext: number, prec: number): boolean {
    let allOnes: boolean, rem: number, half: number, sticky: boolean;
    if (prec === 64) { allOnes = hi === 0xffffffff && lo === 0xffffffff; rem = ext; half = 0x80000000; sticky = false; }
    else if (prec === 53) { allOnes = hi === 0xffffffff && (lo >>> 11) === 0x1fffff; rem = lo & 0x7ff; half = 0x400; sticky = ext !== 0; }
    else { allOnes = (hi >>> 8) === 0xffffff; rem = hi & 0xff; half = 0x80; sticky = (lo | ext) !== 0; }
    if (!allOnes || (rem === 0 && !sticky)) return false;
    const rc = this.rc;
    if (rc === RC_NEAREST) return rem >= half; // the kept lsb is 1, so a tie rounds up too
    return rc === RC_DOWN ? sign !== 0 : rc === RC_UP ? sign === 0 : false;
  }

  /** Round an extended value to `prec` bits in the extended range (used by FLD-type moves that PC affects). */
  roundExt(se: number, hi: number, lo: number, prec: number): void {
    this.unpackA(se, hi, lo);
    this.roundPack(se & 0x8000, this.ae, this.ahi, this.alo, 0, prec, EXT_MIN, EXT_MAX, true);
  }

  /**
   * The checks every two-operand arithmetic op starts with: unsupported/NaN operands and the
   * denormal-operand exception. Returns true if the result is already decided (NaN, indefinite,
   * or an unmasked DE that stops the operation).
   */
  private binarySpecials(aSe: number, aHi: number, aLo: number, ca: number, bSe: number, bHi: number, bLo: number, cb: number, divide = false): boolean {
    if (ca === UNSUPPORTED || cb === UNSUPPORTED) { this.invalid(); return true; }
    if (ca >= QNAN || cb >= QNAN) { this.propagateNaN(aSe, aHi, aLo, ca, bSe, bHi, bLo, cb); return true; }
    if (divide && cb === ZERO) return false; // division by zero outranks the denormal operand
    if (ca === DENORMAL || cb === DENORMAL) {
      this.flags |= DE;
      if ((this.masks & DE) === 0) return true;
    }
    return false;
  }

  /** a + b (negB: a - b). */
  add(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, negB: boolean, prec: number): void {
    const ca = classify(aSe, aHi, aLo), cb = classify(bSe, bHi, bLo);
    if (this.binarySpecials(aSe, aHi, aLo, ca, bSe, bHi, bLo, cb)) return;
    const sa = aSe & 0x8000;
    const sb = (bSe & 0x8000) ^ (negB ? 0x8000 : 0);
    this.up = false;
    if (ca === INF || cb === INF) {
      if (ca === INF && cb === INF && sa !== sb) { this.invalid(); return; }
      if (ca === INF) this.setResult(sa | 0x7fff, 0x80000000, 0);
      else this.setResult(sb | 0x7fff, 0x80000000, 0);
      return;
    }
    if (cb === ZERO) {
      if (ca === ZERO) { this.setResult(sa === sb ? sa : this.rc === RC_DOWN ? 0x8000 : 0, 0, 0); return; }
      this.unpackA(aSe, aHi, aLo);
      this.roundPack(sa, this.ae, this.ahi, this.alo, 0, prec, EXT_MIN, EXT_MAX, true);
      return;
    }
    if (ca === ZERO) {
      this.unpackB(bSe, bHi, bLo);
      this.roundPack(sb, this.be, this.bhi, this.blo, 0, prec, EXT_MIN, EXT_MAX, true);
      return;
    }
    this.unpackA(aSe, aHi, aLo); this.unpackB(bSe, bHi, bLo);
    this.addUnpacked(sa, sb, prec);
  }

  /** Adds the unpacked operands A (sign sa) and B (sign sb). */
  private addUnpacked(sa: number, sb: number, prec: number): void {
    let xe = this.ae, xh = this.ahi, xl = this.alo, ye = this.be, yh = this.bhi, yl = this.blo;
    let sign = sa;
    // Make x the larger magnitude.
    if (xe < ye || (xe === ye && (xh < yh || (xh === yh && xl < yl)))) {
      let t = xe; xe = ye; ye = t; t = xh; xh = yh; yh = t; t = xl; xl = yl; yl = t;
      sign = sb;
    }
    this.shiftRightJam(yh, yl, Math.min(xe - ye, 96));
    const bh = this.sh, bl = this.sl, bx = this.sx;
    if (sa === sb) {
      let l = xl + bl, h = xh + bh, x = bx;
      if (l >= 0x100000000) { l -= 0x100000000; h++; }
      if (h >= 0x100000000) { // carry out: shift right one, keeping the sticky bit
        h -= 0x100000000;
        x = ((x >>> 1) | ((l & 1) << 31) | (x & 1)) >>> 0;
        l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
        h = ((h >>> 1) | 0x80000000) >>> 0;
        xe++;
      }
      this.roundPack(sign, xe, h, l, x, prec, EXT_MIN, EXT_MAX, true);
    } else {
      if (xe === ye && xh === yh && xl === yl) { this.setResult(this.rc === RC_DOWN ? 0x8000 : 0, 0, 0); this.up = false; return; }
      let x = -bx, l = xl - bl, h = xh - bh;
      if (x < 0) { x += 0x100000000; l--; }
      if (l < 0) { l += 0x100000000; h--; }
      this.roundPack(sign, xe, h, l, x, prec, EXT_MIN, EXT_MAX, true);
    }
  }

  mul(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, prec: number): void {
    const ca = classify(aSe, aHi, aLo), cb = classify(bSe, bHi, bLo);
    if (this.binarySpecials(aSe, aHi, aLo, ca, bSe, bHi, bLo, cb)) return;
    const sign = (aSe ^ bSe) & 0x8000;
    this.up = false;
    if (ca === INF || cb === INF) {
      if (ca === ZERO || cb === ZERO) { this.invalid(); return; }
      this.setResult(sign | 0x7fff, 0x80000000, 0); return;
    }
    if (ca === ZERO || cb === ZERO) { this.setResult(sign, 0, 0); return; }
    this.unpackA(aSe, aHi, aLo); this.unpackB(bSe, bHi, bLo);
    // 64×64 → 128-bit product in 16-bit limbs (each partial product < 2^32, column sums < 2^35,
    // so doubles are exact; `& 0xffff` takes the low limb because ToInt32 works modulo 2^32).
    const a0 = this.alo & 0xffff, a1 = this.alo >>> 16, a2 = this.ahi & 0xffff, a3 = this.ahi >>> 16;
    const b0 = this.blo & 0xffff, b1 = this.blo >>> 16, b2 = this.bhi & 0xffff, b3 = this.bhi >>> 16;
    let c = a0 * b0;
    const p0 = c & 0xffff; c = (c - p0) / 65536;
    c += a0 * b1 + a1 * b0;
    const p1 = c & 0xffff; c = (c - p1) / 65536;
    c += a0 * b2 + a1 * b1 + a2 * b0;
    const p2 = c & 0xffff; c = (c - p2) / 65536;
    c += a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
    const p3 = c & 0xffff; c = (c - p3) / 65536;
    c += a1 * b3 + a2 * b2 + a3 * b1;
    const p4 = c & 0xffff; c = (c - p4) / 65536;
    c += a2 * b3 + a3 * b2;
    const p5 = c & 0xffff; c = (c - p5) / 65536;
    c += a3 * b3;
    const p6 = c & 0xffff; c = (c - p6) / 65536;
    const hi = c * 65536 + p6, lo = p5 * 65536 + p4, ext = p3 * 65536 + p2, sticky = (p1 | p0) !== 0 ? 1 : 0;
    this.roundPack(sign, this.ae + this.be - 16382, hi, lo, ext | sticky, prec, EXT_MIN, EXT_MAX, true);
  }

  div(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, prec: number): void {
    const ca = classify(aSe, aHi, aLo), cb = classify(bSe, bHi, bLo);
    if (this.binarySpecials(aSe, aHi, aLo, ca, bSe, bHi, bLo, cb, true)) return;
    const sign = (aSe ^ bSe) & 0x8000;
    this.up = false;
    if (ca === INF) {
      if (cb === INF) { this.invalid(); return; }
      this.setResult(sign | 0x7fff, 0x80000000, 0); return;
    }
    if (cb === INF) { this.setResult(sign, 0, 0); return; }
    if (cb === ZERO) {
      if (ca === ZERO) { this.invalid(); return; }
      this.flags |= ZE;
      this.setResult(sign | 0x7fff, 0x80000000, 0); return;
    }
    if (ca === ZERO) { this.setResult(sign, 0, 0); return; }
    this.unpackA(aSe, aHi, aLo); this.unpackB(bSe, bHi, bLo);
    // Long division in base 2^16 (Knuth D): Q = ⌊A·2^80 / B⌋ (81 bits), remainder → sticky.
    const u = this.divU, v = this.divV;
    v[3] = this.bhi >>> 16; v[2] = this.bhi & 0xffff; v[1] = this.blo >>> 16; v[0] = this.blo & 0xffff;
    u.fill(0);
    u[8] = this.ahi >>> 16; u[7] = this.ahi & 0xffff; u[6] = this.alo >>> 16; u[5] = this.alo & 0xffff;
    const den = v[3] * 65536 + v[2];
    let q5 = 0, q4 = 0, q3 = 0, q2 = 0, q1 = 0, q0 = 0;
    for (let j = 5; j >= 0; j--) {
      let qhat = Math.floor((u[j + 4] * 4294967296 + u[j + 3] * 65536 + u[j + 2]) / den);
      if (qhat > 0xffff) qhat = 0xffff;
      // u[j..j+4] -= qhat·v
      let carry = 0, borrow = 0;
      for (let i = 0; i < 4; i++) {
        const p = qhat * v[i] + carry; // < 2^32
        carry = p >>> 16;
        const t = u[i + j] - (p & 0xffff) - borrow;
        borrow = t >>> 31;
        u[i + j] = t & 0xffff;
      }
      let top = u[j + 4] - carry - borrow;
      while (top < 0) { // estimate was too large: add the divisor back
        qhat--;
        let c = 0;
        for (let i = 0; i < 4; i++) {
          const t = u[i + j] + v[i] + c;
          c = t >>> 16;
          u[i + j] = t & 0xffff;
        }
        top += c;
      }
      u[j + 4] = top;
      switch (j) { case 5: q5 = qhat; break; case 4: q4 = qhat; break; case 3: q3 = qhat; break; case 2: q2 = qhat; break; case 1: q1 = qhat; break; default: q0 = qhat; }
    }
    const sticky = (u[0] + u[1] + u[2] + u[3]) !== 0 ? 1 : 0;
    const w2 = q5 * 65536 + q4, w1 = q3 * 65536 + q2, w0 = q1 * 65536 + q0;
    const hi = ((w2 << 15) | (w1 >>> 17)) >>> 0, lo = ((w1 << 15) | (w0 >>> 17)) >>> 0, ext = ((w0 << 15) | sticky) >>> 0;
    this.roundPack(sign, this.ae - this.be + 16383, hi, lo, ext, prec, EXT_MIN, EXT_MAX, true);
  }

  sqrt(se: number, hi: number, lo: number, prec: number): void {
    const c = classify(se, hi, lo);
    this.up = false;
    if (c === UNSUPPORTED) { this.invalid(); return; }
    if (c >= QNAN) { this.propagateNaN(se, hi, lo, c, se, hi, lo, c); return; }
    if (c === ZERO) { this.setResult(se, 0, 0); return; }
    if (se & 0x8000) { this.invalid(); return; }
    if (c === INF) { this.setResult(se, hi, lo); return; }
    if (c === DENORMAL) { this.flags |= DE; if ((this.masks & DE) === 0) return; }
    this.unpackA(se, hi, lo);
    // √(M × 2^(E-63)) with E made even: R = ⌊√(M' × 2^67)⌋ has 66 bits.
    const odd = (this.ae - 16383) & 1;
    const sticky = this.isqrtSignificand(this.ahi, this.alo, odd);
    const R = this.sqR, w0 = R[1] * 65536 + R[0], w1 = R[3] * 65536 + R[2], w2 = R[4];
    const rhi = ((w2 << 30) | (w1 >>> 2)) >>> 0, rlo = ((w1 << 30) | (w0 >>> 2)) >>> 0, rext = (((w0 & 3) << 30) | sticky) >>> 0;
    const e2 = this.ae - 16383 - odd; // even
    this.roundPack(0, 16383 + e2 / 2, rhi, rlo, rext, prec, EXT_MIN, EXT_MAX, true);
  }

  // Square root scratch: 16-bit limbs, least significant first.
  private readonly sqN = new Float64Array(10);
  private readonly sqR = new Float64Array(5);
  private readonly sqD = new Float64Array(10);

  /**
   * R = ⌊√(M·2^(67+odd))⌋ (66 bits) into the limbs sqR; returns 1 if inexact. A double gives R to
   * within 2^15; one Newton correction computed from the exact remainder N - R0² lands within one
   * or two units below R, and exact remainder checks finish the job. No BigInt.
   */
  private isqrtSignificand(mhi: number, mlo: number, odd: number): number {
    const N = this.sqN, R = this.sqR, D = this.sqD, s = 3 + odd;
    // N = (M·2^s)·2^64 (limbs 0..3 and 9 stay zero).
    const m0 = mlo & 0xffff, m1 = mlo >>> 16, m2 = mhi & 0xffff, m3 = mhi >>> 16;
    N[4] = (m0 << s) & 0xffff;
    N[5] = ((m1 << s) | (m0 >>> (16 - s))) & 0xffff;
    N[6] = ((m2 << s) | (m1 >>> (16 - s))) & 0xffff;
    N[7] = ((m3 << s) | (m2 >>> (16 - s))) & 0xffff;
    N[8] = m3 >>> (16 - s);
    // R0 = estimate - 2^17 < R (an exact integer: the estimate is a multiple of 2^13).
    const r0 = Math.sqrt((mhi * 4294967296 + mlo) * 2 ** (67 + odd)) - 131072;
    let v = r0;
    for (let k = 0; k < 5; k++) { const q = Math.floor(v / 65536); R[k] = v - q * 65536; v = q; }
    this.sqrtResidual();
    let dd = 0;
    for (let k = 9; k >= 0; k--) dd = dd * 65536 + D[k];
    // Newton: R ≈ R0 + D/(2·R0), off by at most one; the exact remainder settles it.
    this.sqrtAdd(Math.floor(dd / (2 * r0)));
    if (!this.sqrtResidual()) { this.sqrtAdd(-1); this.sqrtResidual(); }
    else if (this.sqrtResidualExceeds()) { this.sqrtAdd(1); this.sqrtResidual(); }
    return (D[0] + D[1] + D[2] + D[3] + D[4] + D[5] + D[6] + D[7] + D[8] + D[9]) !== 0 ? 1 : 0;
  }
  /** D = N - R²; false if negative. */
  private sqrtResidual(): boolean {
    const N = this.sqN, R = this.sqR, D = this.sqD;
    const r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4];
    D[0] = r0 * r0; D[1] = 2 * r0 * r1; D[2] = 2 * r0 * r2 + r1 * r1; D[3] = 2 * (r0 * r3 + r1 * r2);
    D[4] = 2 * (r0 * r4 + r1 * r3) + r2 * r2; D[5] = 2 * (r1 * r4 + r2 * r3); D[6] = 2 * r2 * r4 + r3 * r3;
    D[7] = 2 * r3 * r4; D[8] = r4 * r4; D[9] = 0;
    let carry = 0, borrow = 0;
    for (let k = 0; k < 10; k++) {
      const t = D[k] + carry;
      carry = Math.floor(t / 65536);
      let x = N[k] - (t - carry * 65536) - borrow;
      borrow = x < 0 ? 1 : 0;
      if (borrow) x += 65536;
      D[k] = x;
    }
    return borrow === 0 && carry === 0;
  }
  /** D ≥ 2R + 1, i.e. R + 1 still squares to at most N. */
  private sqrtResidualExceeds(): boolean {
    const R = this.sqR, D = this.sqD;
    // Compare D with 2R+1 from the top limb down (2R+1 has at most 6 limbs).
    for (let k = 9; k >= 6; k--) if (D[k] !== 0) return true;
    // D and 2R+1 as numbers of up to 6 limbs, compared in two exact 48-bit halves.
    const dHi = (D[5] * 65536 + D[4]) * 65536 + D[3], dLo = (D[2] * 65536 + D[1]) * 65536 + D[0];
    const rLo = 2 * ((R[2] * 65536 + R[1]) * 65536 + R[0]) + 1; // < 2^49
    const rHi = 2 * (R[4] * 65536 + R[3]) + Math.floor(rLo / 281474976710656);
    const rLoM = rLo % 281474976710656;
    return dHi !== rHi ? dHi > rHi : dLo >= rLoM;
  }
  /** R += d (|d| < 2^20). */
  private sqrtAdd(d: number): void {
    const R = this.sqR;
    let c = d;
    for (let k = 0; k < 5 && c !== 0; k++) {
      const x = R[k] + c;
      c = Math.floor(x / 65536);
      R[k] = x - c * 65536;
    }
  }

  /**
   * Compare: 0 = equal, 1 = a < b, 2 = a > b, 3 = unordered. Raises IE for SNaN and
   * unsupported operands, and for QNaN unless `quiet`; DE for denormal operands.
   */
  compare(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, quiet: boolean): number {
    const ca = classify(aSe, aHi, aLo), cb = classify(bSe, bHi, bLo);
    if (ca === UNSUPPORTED || cb === UNSUPPORTED || ca === SNAN || cb === SNAN) { this.flags |= IE; return 3; }
    if (ca === QNAN || cb === QNAN) { if (!quiet) this.flags |= IE; return 3; }
    if (ca === DENORMAL || cb === DENORMAL) this.flags |= DE;
    const sa = aSe & 0x8000, sb = bSe & 0x8000;
    if (ca === ZERO && cb === ZERO) return 0;
    if (ca === ZERO) return sb ? 2 : 1;
    if (cb === ZERO) return sa ? 1 : 2;
    if (sa !== sb) return sa ? 1 : 2;
    // Same sign: compare magnitudes (pseudo-denormals compare by value, exponent 1).
    let ea = aSe & 0x7fff, eb = bSe & 0x7fff;
    if (ea === 0) ea = 1;
    if (eb === 0) eb = 1;
    const ah = aHi >>> 0, bh = bHi >>> 0, al = aLo >>> 0, bl = bLo >>> 0;
    let cmp: number;
    if (ca === INF || cb === INF) cmp = ca === cb ? 0 : ca === INF ? 1 : -1;
    else {
      this.unpackA(aSe, ah, al); this.unpackB(bSe, bh, bl);
      cmp = this.ae !== this.be ? (this.ae > this.be ? 1 : -1)
        : this.ahi !== this.bhi ? (this.ahi > this.bhi ? 1 : -1)
        : this.alo !== this.blo ? (this.alo > this.blo ? 1 : -1) : 0;
    }
    void ea; void eb;
    if (cmp === 0) return 0;
    return (cmp > 0) !== (sa !== 0) ? 2 : 1;
  }

  /**
   * Round a finite value to an integer under RC. Leaves the magnitude in rhi:rlo (as an integer,
   * saturated at 2^64-1 with `intOverflow` set when it does not fit in 64 bits) and the sign in rse.
   */
  intOverflow = false;
  roundToInt(se: number, hi: number, lo: number): void {
    const c = classify(se, hi, lo);
    const sign = se & 0x8000;
    this.up = false; this.intOverflow = false;
    if (c === ZERO) { this.setResult(sign, 0, 0); return; }
    this.unpackA(se, hi, lo);
    const shift = 16383 + 63 - this.ae;
    if (shift <= 0) {
      this.intOverflow = shift < 0;
      this.setResult(sign, this.ahi, this.alo); return;
    }
    this.shiftRightJam(this.ahi, this.alo, shift > 96 ? 96 : shift);
    let ih = this.sh, il = this.sl;
    const rem = this.sx;
    if (rem !== 0) {
      this.flags |= PE;
      const rc = this.rc;
      const incr = rc === RC_NEAREST ? rem > 0x80000000 || (rem === 0x80000000 && (il & 1) !== 0)
        : rc === RC_DOWN ? sign !== 0 : rc === RC_UP ? sign === 0 : false;
      if (incr) {
        this.up = true;
        il = (il + 1) >>> 0;
        if (il === 0) { ih = (ih + 1) >>> 0; if (ih === 0) this.intOverflow = true; }
      }
    }
    this.setResult(sign, ih, il);
  }

  /** Build an extended value from sign and a 64-bit integer magnitude hi:lo (exact). */
  fromInt(sign: number, hi: number, lo: number): void {
    this.up = false;
    if ((hi | lo) === 0) { this.setResult(sign, 0, 0); return; }
    this.roundPack(sign, 16383 + 63, hi, lo, 0, 64, EXT_MIN, EXT_MAX, true);
  }

  /** Unpack to fields for external helpers (FPREM, FSCALE, transcendentals). */
  unpack(se: number, hi: number, lo: number): void { this.unpackA(se, hi, lo); }
  get unpackedExp(): number { return this.ae; }
  get unpackedHi(): number { return this.ahi; }
  get unpackedLo(): number { return this.alo; }
}

/** ⌊√n⌋ for 0 ≤ n < 2^1000: one Newton step from the double estimate, then an exact correction. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  x = (x + n / x) >> 1n; // the estimate's relative error 2^-52 squares away
  let r = n - x * x;
  while (r < 0n) { x--; r += 2n * x + 1n; }
  while (r > 2n * x) { r -= 2n * x + 1n; x++; }
  return x;
}

/** 64-bit significand of a packed value as a bigint. */
export function sig64(hi: number, lo: number): bigint { return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0); }
