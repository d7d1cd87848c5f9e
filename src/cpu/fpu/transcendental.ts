/**
 * x87 transcendental instructions: FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1.
 *
 * Results are computed in BigInt arithmetic (136-bit floating point, series in 192-bit fixed
 * point) and rounded once (under RC, not PC), so they are correctly rounded in practice. Real
 * x87s promise only "within 1 ulp" and differ between vendors in the last bit for some arguments;
 * test/fpu/golden.test.ts measures how often. FSIN/FCOS/FPTAN/FSINCOS arguments are reduced by
 * the hardware's own 66-bit π, exactly (so sin(π) is the familiar -2^-64-ish value of a real x87);
 * for |x| ≥ 2^63, C2=1 and ST(0) is left alone, as the hardware does.
 */
import { Float80, classify, sig64, DE, ZE, PE, UE, ZERO, NORMAL, DENORMAL, INF, QNAN, UNSUPPORTED, EXT_MIN, EXT_MAX } from './float80.ts';
import type { Fpu } from './fpu.ts';

const P = 136; // working precision in bits

/** value = m × 2^e (m signed, |m| has P bits unless zero). */
class BF {
  constructor(readonly m: bigint, readonly e: number) {}
}

/** Bit length of x > 0 (x < 2^1000 here): estimated through a double, then corrected. */
function bitLength(x: bigint): number {
  let b = Math.floor(Math.log2(Number(x))) + 1;
  if (x >> BigInt(b) !== 0n) b++;
  else if (x >> BigInt(b - 1) === 0n) b--;
  return b;
}

function norm(m: bigint, e: number): BF {
  if (m === 0n) return new BF(0n, 0);
  const neg = m < 0n;
  let a = neg ? -m : m;
  if (a >> BigInt(P - 1) === 1n) return neg ? new BF(m, e) : new BF(a, e); // already P bits
  const shift = bitLength(a) - P;
  if (shift > 0) {
    // Jam the discarded bits into bit 0 so a value that is not exact never looks exact.
    const dropped = (a & ((1n << BigInt(shift)) - 1n)) !== 0n;
    a = (a >> BigInt(shift)) | (dropped ? 1n : 0n);
  } else if (shift < 0) a <<= BigInt(-shift);
  return new BF(neg ? -a : a, e + shift);
}
const mul = (a: BF, b: BF): BF => norm(a.m * b.m, a.e + b.e);
function div(a: BF, b: BF): BF {
  const n = a.m << BigInt(P + 4), q = n / b.m;
  return norm(n % b.m === 0n ? q : q | 1n, a.e - b.e - P - 4); // jam the remainder (q ≠ 0 here)
}
function add(a: BF, b: BF): BF {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  if (a.e < b.e) { const t = a; a = b; b = t; }
  const d = a.e - b.e;
  if (d > P + 2) return norm((a.m << BigInt(P + 2)) + (b.m < 0n ? -1n : 1n), a.e - P - 2); // b only nudges
  return norm((a.m << BigInt(d)) + b.m, b.e);
}
const neg = (a: BF): BF => new BF(-a.m, a.e);
const int = (k: number | bigint): BF => norm(BigInt(k), 0);
const isNeg = (a: BF): boolean => a.m < 0n;
const abs = (a: BF): BF => (a.m < 0n ? neg(a) : a);
/** |a| > |b| for normalized values. */
const magGreater = (a: BF, b: BF): boolean => a.e > b.e || (a.e === b.e && (a.m < 0n ? -a.m : a.m) > (b.m < 0n ? -b.m : b.m));

function sqrtBF(a: BF): BF {
  const odd = a.e & 1;
  const m = a.m << BigInt(P + odd);
  let x = 1n << BigInt(Math.ceil((bitLength(m) + 1) / 2));
  for (;;) { const y = (x + m / x) >> 1n; if (y >= x) break; x = y; }
  return norm(x, (a.e - P - odd) / 2);
}

// Power series run in fixed point (FB fraction bits) on an argument |w| < 1; the result is then
// scaled by the leading factor in floating point, so tiny arguments keep their relative precision.
const FB = 192n;
const FONE = 1n << FB;
/** v (|v| < 2) in fixed point, truncated; a tiny non-zero v becomes ±1 ulp so its sign still counts. */
function toFixed(v: BF): bigint {
  const sh = BigInt(v.e) + FB;
  if (sh >= 0n) return v.m << sh;
  const r = v.m < 0n ? -((-v.m) >> -sh) : v.m >> -sh;
  return r === 0n && v.m !== 0n ? (v.m < 0n ? -1n : 1n) : r;
}
const fromFixed = (x: bigint): BF => norm(x, -Number(FB));
/** A series whose terms all vanished in fixed point is still not exactly 1: move it by one unit the way its first term points. */
const nudge = (w: bigint, alt: boolean): bigint => ((w > 0n) !== alt ? FONE + 1n : FONE - 1n);
/** 1 + Σ_{k≥1} t_k with t_k = t_{k-1}·w / d(k) (alternating signs if `alt`). */
function ratioSeries(w: bigint, d: (k: number) => number, alt: boolean): bigint {
  let term = FONE, sum = FONE;
  for (let k = 1; k < 500; k++) {
    term = ((term * w) >> FB) / BigInt(d(k));
    if (term === 0n) break;
    sum += alt && (k & 1) ? -term : term;
  }
  return sum === FONE && w !== 0n ? nudge(w, alt) : sum;
}
/** Σ_{k≥0} (±w)^k / (2k+1): z·this is atan z (alt) or atanh z, with w = z². */
function oddSum(w: bigint, alt: boolean): bigint {
  let pow = FONE, sum = FONE;
  for (let k = 1; k < 2000; k++) {
    pow = (pow * w) >> FB;
    if (pow === 0n) break;
    const t = pow / BigInt(2 * k + 1);
    sum += alt && (k & 1) ? -t : t;
  }
  return sum === FONE && w !== 0n ? nudge(w, alt) : sum;
}
function oddSeries(z: BF, alt: boolean): BF { return mul(z, fromFixed(oddSum(toFixed(mul(z, z)), alt))); }

const ONE = int(1);
const LN2 = mul(int(2), oddSeries(div(ONE, int(3)), false));
/** π with 600 fractional bits (Machin), for argument reduction. */
const PI_FIX_BITS = 600n;
const PI_FIX = (() => {
  const F = PI_FIX_BITS + 10n;
  const atanInv = (n: bigint): bigint => {
    let sum = 0n, pow = (1n << F) / n, k = 0n;
    const n2 = n * n;
    while (pow !== 0n) { const t = pow / (2n * k + 1n); sum += k & 1n ? -t : t; pow /= n2; k++; }
    return sum;
  };
  return (16n * atanInv(5n) - 4n * atanInv(239n)) >> 10n;
})();
const PI = norm(PI_FIX, -Number(PI_FIX_BITS));
/** The x87 reduces FSIN/FCOS/FPTAN arguments by its internal 66-bit π (observed on the oracle, documented by Intel): π/2 with 66 fraction bits. */
const PIO2_66 = 0x3243f6a8885a308d3n << 1n;
const PIO2 = new BF(PI.m, PI.e - 1);

function atanBF(z: BF): BF {
  if (z.m === 0n) return z;
  const negz = isNeg(z);
  z = abs(z);
  let invert = false;
  if (magGreater(z, ONE)) { z = div(ONE, z); invert = true; }
  let scale = 0;
  while (z.e + P > -3) { z = div(z, add(ONE, sqrtBF(add(ONE, mul(z, z))))); scale++; } // halve the angle
  let r = oddSeries(z, true);
  r = new BF(r.m, r.e + scale);
  if (invert) r = add(PIO2, neg(r));
  return negz ? neg(r) : r;
}

/** ln(m) for m > 0 given as BF. */
function lnBF(x: BF): BF {
  // x = m·2^k with m in [1/√2, √2): ln x = k·ln2 + 2·atanh((m-1)/(m+1)).
  let k = x.e + P - 1; // x in [2^k, 2^(k+1))
  let m = new BF(x.m, -(P - 1));
  if (m.m > (BigInt(Math.SQRT2 * 2 ** 52) << BigInt(P - 53))) { m = new BF(m.m, m.e - 1); k++; }
  const t = div(add(m, neg(ONE)), add(m, ONE));
  return add(mul(int(k), LN2), mul(int(2), oddSeries(t, false)));
}

/** e^y - 1 for |y| < 1: y · Σ y^k/(k+1)!. */
function expm1BF(y: BF): BF { return mul(y, fromFixed(ratioSeries(toFixed(y), (k) => k + 1, false))); }

/** sin r = r · Σ (-r²)^k/(2k+1)!, cos r = Σ (-r²)^k/(2k)!, for |r| ≤ π/4. */
function sinCosSeries(r: BF, cos: boolean): BF {
  const w = toFixed(mul(r, r));
  if (cos) return fromFixed(ratioSeries(w, (k) => (2 * k - 1) * 2 * k, true));
  return mul(r, fromFixed(ratioSeries(w, (k) => 2 * k * (2 * k + 1), true)));
}

export class Transcendental {
  constructor(private readonly f: Float80) {}

  private toBF(se: number, hi: number, lo: number): BF {
    this.f.unpack(se, hi, lo);
    const m = sig64(this.f.unpackedHi, this.f.unpackedLo);
    return norm(se & 0x8000 ? -m : m, this.f.unpackedExp - 16383 - 63);
  }

  /** Round a BF into the core's result (64-bit precision, current RC). */
  private round(x: BF): void {
    const f = this.f;
    if (x.m === 0n) { f.setResult(0, 0, 0); return; }
    const sign = x.m < 0n ? 0x8000 : 0;
    const a = x.m < 0n ? -x.m : x.m; // exactly P bits
    const top = a >> BigInt(P - 96), sticky = (a & ((1n << BigInt(P - 96)) - 1n)) !== 0n ? 1 : 0;
    const hi = Number(top >> 64n), lo = Number((top >> 32n) & 0xffffffffn), ext = Number(top & 0xffffffffn) | sticky;
    f.roundPack(sign, x.e + P - 1 + 16383, hi, lo, ext >>> 0, 64, EXT_MIN, EXT_MAX, true);
    // The hardware reports every transcendental result as inexact, so a tiny one also underflows.
    f.flags |= PE;
    if ((f.rse & 0x7fff) === 0) f.flags |= UE;
  }

  /** NaN/unsupported/denormal screening of one operand; true if the result is decided. */
  private screen1(se: number, hi: number, lo: number, c: number): boolean {
    const f = this.f;
    if (c === UNSUPPORTED) { f.invalid(); return true; }
    if (c >= QNAN) { f.propagateNaN(se, hi, lo, c, se, hi, lo, c); return true; }
    if (c === DENORMAL) { f.flags |= DE; if ((f.masks & DE) === 0) return true; }
    return false;
  }
  private screen2(aSe: number, aHi: number, aLo: number, ca: number, bSe: number, bHi: number, bLo: number, cb: number): boolean {
    const f = this.f;
    if (ca === UNSUPPORTED || cb === UNSUPPORTED) { f.invalid(); return true; }
    if (ca >= QNAN || cb >= QNAN) { f.propagateNaN(aSe, aHi, aLo, ca, bSe, bHi, bLo, cb); return true; }
    if (ca === DENORMAL || cb === DENORMAL) { f.flags |= DE; if ((f.masks & DE) === 0) return true; }
    return false;
  }

  f2xm1Op(fpu: Fpu): void {
    if (fpu.operands(false, 0) <= 0) return;
    const p = fpu.regOf(0), se = fpu.regSe[p], hi = fpu.regHi[p], lo = fpu.regLo[p], c = classify(se, hi, lo), f = this.f;
    if (!this.screen1(se, hi, lo, c)) {
      if (c === ZERO) f.setResult(se, 0, 0);
      else if (c === INF) { if (se & 0x8000) f.setResult(0xbfff, 0x80000000, 0); else f.setResult(se, hi, lo); }
      else if ((se & 0x7fff) > 0x3fff || ((se & 0x7fff) === 0x3fff && (hi !== 0x80000000 || lo !== 0))) {
        f.setResult(se, hi, lo); f.flags |= PE; // |x| > 1 is undefined; the oracle returns x
      } else if ((se & 0x7fff) === 0x3fff) {
        // ±1: the oracle returns exactly -0.5 for -1, and rounds +1 as if its internal result were just below 1.
        if (se & 0x8000) { f.setResult(0xbffe, 0x80000000, 0); f.flags |= PE; } else this.round(norm((1n << BigInt(P)) - 1n, -P));
      }
      else this.round(expm1BF(mul(this.toBF(se, hi, lo), LN2)));
    }
    fpu.commitTo(0);
  }

  /** FYL2X (ST1 × log2 ST0) or FYL2XP1 (ST1 × log2(ST0 + 1)); pops. */
  fyl2xOp(fpu: Fpu, plus1: boolean): void {
    const r = fpu.operands(true, 1);
    if (r < 0) return;
    if (r === 0) { fpu.popStack(); return; }
    const px = fpu.regOf(0), py = fpu.regOf(1), f = this.f;
    const xSe = fpu.regSe[px], xHi = fpu.regHi[px], xLo = fpu.regLo[px], ySe = fpu.regSe[py], yHi = fpu.regHi[py], yLo = fpu.regLo[py];
    const cx = classify(xSe, xHi, xLo), cy = classify(ySe, yHi, yLo);
    const nan = cx >= QNAN || cy >= QNAN || cx === UNSUPPORTED || cy === UNSUPPORTED;
    if (!plus1 && !nan && (xSe & 0x8000) && cx !== ZERO) f.invalid(); // log2 of a negative: IE outranks DE
    else if (!plus1 && cx === ZERO && (cy === NORMAL || cy === DENORMAL)) { // log2(0): ZE outranks DE
      f.flags |= ZE;
      f.setResult(((ySe & 0x8000) ^ 0x8000) | 0x7fff, 0x80000000, 0);
    } else if (!this.screen2(xSe, xHi, xLo, cx, ySe, yHi, yLo, cy)) this.ylog(xSe, xHi, xLo, cx, ySe, yHi, yLo, cy, plus1);
    if (fpu.commitTo(1)) fpu.popStack();
  }

  private ylog(xSe: number, xHi: number, xLo: number, cx: number, ySe: number, yHi: number, yLo: number, cy: number, plus1: boolean): void {
    const f = this.f;
    const xneg = (xSe & 0x8000) !== 0, ys = ySe & 0x8000;
    if (plus1) {
      if (cx === ZERO) { if (cy === INF) f.invalid(); else f.setResult((xSe ^ ySe) & 0x8000, 0, 0); return; }
      if (cx === INF) { if (xneg || cy === ZERO) f.invalid(); else f.setResult(ySe, 0x80000000, 0); return; }
      const x = this.toBF(xSe, xHi, xLo);
      const u = add(x, ONE);
      if (u.m <= 0n) { f.invalid(); return; }
      // log2(1+x) sign = sign of x.
      if (cy === INF) { f.setResult((xSe ^ ySe) & 0x8000 | 0x7fff, 0x80000000, 0); return; }
      if (cy === ZERO) { f.setResult((xSe ^ ySe) & 0x8000, 0, 0); return; }
      const l = abs(x).e + P < -20 ? mul(int(2), oddSeries(div(x, add(x, int(2))), false)) : lnBF(u);
      this.round(mul(this.toBF(ySe, yHi, yLo), div(l, LN2)));
      return;
    }
    if (cx === ZERO) {
      if (cy === ZERO) { f.invalid(); return; }
      if (cy !== INF) f.flags |= ZE;
      f.setResult((ys ^ 0x8000) | 0x7fff, 0x80000000, 0); return;
    }
    if (xneg) { f.invalid(); return; }
    if (cx === INF) { if (cy === ZERO) f.invalid(); else f.setResult(ys | 0x7fff, 0x80000000, 0); return; }
    const l = lnBF(this.toBF(xSe, xHi, xLo)); // sign of log2 x
    if (l.m === 0n) { if (cy === INF) f.invalid(); else f.setResult(ys, 0, 0); return; }
    const ls = isNeg(l) ? 0x8000 : 0;
    if (cy === INF) { f.setResult((ys ^ ls) | 0x7fff, 0x80000000, 0); return; }
    if (cy === ZERO) { f.setResult(ys ^ ls, 0, 0); return; }
    // Exact when x is a power of two: log2 x = k.
    const exactK = xHi === 0x80000000 && xLo === 0 && cx !== DENORMAL ? (xSe & 0x7fff) - 16383 : null;
    const lg = exactK !== null ? int(exactK) : div(l, LN2);
    this.round(mul(this.toBF(ySe, yHi, yLo), lg));
  }

  /** FPATAN: ST1 = atan2(ST1, ST0), pop. */
  fpatanOp(fpu: Fpu): void {
    const r = fpu.operands(true, 1);
    if (r < 0) return;
    if (r === 0) { fpu.popStack(); return; }
    const px = fpu.regOf(0), py = fpu.regOf(1), f = this.f;
    const xSe = fpu.regSe[px], xHi = fpu.regHi[px], xLo = fpu.regLo[px], ySe = fpu.regSe[py], yHi = fpu.regHi[py], yLo = fpu.regLo[py];
    const cx = classify(xSe, xHi, xLo), cy = classify(ySe, yHi, yLo);
    if (!this.screen2(ySe, yHi, yLo, cy, xSe, xHi, xLo, cx)) {
      const ys = ySe & 0x8000, xneg = (xSe & 0x8000) !== 0;
      let v: BF;
      if (cy === ZERO || (cx === INF && cy !== INF)) v = xneg ? PI : int(0);
      else if (cx === ZERO || (cy === INF && cx !== INF)) v = PIO2;
      else if (cx === INF) v = xneg ? mul(PI, div(int(3), int(4))) : new BF(PI.m, PI.e - 2);
      else {
        const y = abs(this.toBF(ySe, yHi, yLo)), x = this.toBF(xSe, xHi, xLo);
        v = atanBF(div(y, abs(x)));
        if (xneg) v = add(PI, neg(v));
      }
      if (v.m === 0n) f.setResult(ys, 0, 0);
      else this.round(ys ? neg(v) : v);
    }
    if (fpu.commitTo(1)) fpu.popStack();
  }

  /** Reduce x (|x| < 2^63) by π/2: returns [r, k mod 4]. */
  private reduce(x: BF, se: number, hi: number, lo: number): [BF, number] {
    const e = (se & 0x7fff) - 16383;
    if (e < -1) return [x, 0]; // |x| < 1/2 < π/4
    // In fixed point with 66 fraction bits both x (|x| ≥ 1/2, 64-bit significand) and the
    // 66-bit π/2 are exact, so r = x - k·π66/2 is exact too.
    const sig = sig64(hi, lo), X = se & 0x8000 ? -(sig << BigInt(e + 3)) : sig << BigInt(e + 3);
    const k = (X >= 0n ? X + (PIO2_66 >> 1n) : X - (PIO2_66 >> 1n)) / PIO2_66;
    return [norm(X - k * PIO2_66, -66), Number(k & 3n)];
  }

  /** which: 0 FSIN, 1 FCOS, 2 FSINCOS, 3 FPTAN. */
  fsincosOp(fpu: Fpu, which: number): void {
    const pushes = which >= 2;
    const r = fpu.operands(false, 0);
    if (r === 0 && pushes) fpu.pushIndefinite(); // masked underflow: both results are the indefinite
    if (r <= 0) return;
    if (pushes && !fpu.canPush()) { fpu.overflowPush(); return; }
    const p = fpu.regOf(0), se = fpu.regSe[p], hi = fpu.regHi[p], lo = fpu.regLo[p], c = classify(se, hi, lo), f = this.f;
    let second: [number, number, number] | null = null; // value pushed (cos for FSINCOS, 1.0 for FPTAN)
    if (this.screen1(se, hi, lo, c)) {
      second = [f.rse, f.rhi, f.rlo];
    } else if (c === INF) {
      f.invalid(); second = [f.rse, f.rhi, f.rlo];
    } else if ((se & 0x7fff) >= 16383 + 63) {
      fpu.setC2(true); return; // out of range: operand unchanged
    } else if (c === ZERO) {
      if (which === 1) f.setResult(0x3fff, 0x80000000, 0);
      else f.setResult(se, 0, 0);
      second = [0x3fff, 0x80000000, 0]; // cos 0 = 1 (FSINCOS), and FPTAN's 1.0
    } else {
      const x = this.toBF(se, hi, lo);
      let sinx: BF, cosx: BF, tanx: BF | null = null;
      if ((se & 0x7fff) < 16383 - 40) {
        // Tiny x: sin x = x(1 - x²/6), tan x = x(1 + x²/3), cos x = 1 - x²/2, each below P-bit
        // resolution, so state the direction of the correction explicitly.
        const nudge = (v: BF, dir: bigint): BF => norm((v.m << 150n) + dir * v.m, v.e - 150);
        sinx = nudge(x, -1n); tanx = nudge(x, 1n); cosx = nudge(ONE, -1n);
      } else {
        const [r, k] = this.reduce(x, se, hi, lo);
        // Only the series the instruction needs: FSIN/FCOS use one of them depending on the quadrant.
        const needSin = which >= 2 || (which === 0) === ((k & 1) === 0);
        const s = needSin ? sinCosSeries(r, false) : ONE, co = which >= 2 || !needSin ? sinCosSeries(r, true) : ONE;
        sinx = [s, co, neg(s), neg(co)][k]; cosx = [co, neg(s), neg(co), s][k];
      }
      if (which === 2) {
        this.round(cosx);
        second = [f.rse, f.rhi, f.rlo];
        this.round(sinx);
      } else if (which === 3) {
        this.round(tanx ?? div(sinx, cosx));
        second = [0x3fff, 0x80000000, 0];
      } else this.round(which === 0 ? sinx : cosx);
    }
    fpu.setC2(false);
    if (!pushes) { fpu.commitTo(0); return; }
    // FSINCOS: ST(1) = sin, ST(0) = cos. FPTAN: ST(1) = tan, ST(0) = 1.0.
    if (!fpu.accept(f.flags)) return;
    fpu.setC1Flag(f.up);
    fpu.writeReg(0, f.rse, f.rhi, f.rlo);
    const sec = second!;
    f.setResult(sec[0], sec[1], sec[2]);
    fpu.pushResult();
  }
}

