/** The softfloat core against independent BigInt references (in addition to the hardware vectors). */
import { describe, it, expect } from 'vitest';
import { Float80, isqrt, PE } from '../../src/cpu/fpu/float80.ts';

const MASK64 = (1n << 64n) - 1n;
/** Round a positive rational n/d (n/d in [1, 4)) to 64 significant bits, nearest-even: [significand, exponent offset, inexact]. */
function roundRef(n: bigint, d: bigint): [bigint, number, boolean] {
  const q = (n << 66n) / d, r = (n << 66n) % d; // q in [2^66, 2^68)
  const extra = q >= (1n << 67n) ? 4n : 3n, off = extra === 4n ? 1 : 0;
  let m = q >> extra;
  const rem = q & ((1n << extra) - 1n), half = 1n << (extra - 1n), sticky = r !== 0n;
  if (rem > half || (rem === half && (sticky || (m & 1n) === 1n))) m++;
  if (m === 1n << 64n) return [1n << 63n, off + 1, true];
  return [m, off, rem !== 0n || sticky];
}

describe('Float80 multiply and divide', () => {
  it('agree with exact rational arithmetic rounded to nearest-even (40k operand pairs each)', () => {
    const f = new Float80();
    let seed = 0x9e3779b97f4a7c15n, bad = 0;
    const rnd = () => { seed ^= (seed << 13n) & MASK64; seed ^= seed >> 7n; seed ^= (seed << 17n) & MASK64; return seed; };
    for (let i = 0; i < 40000; i++) {
      let a = rnd() | (1n << 63n), b = rnd() | (1n << 63n);
      if (i % 5 === 1) b = a;
      if (i % 5 === 2) b = MASK64 - (rnd() & 0xffn);
      if (i % 5 === 3) a = (1n << 63n) + (rnd() & 0xffffn);
      const hiA = Number(a >> 32n), loA = Number(a & 0xffffffffn), hiB = Number(b >> 32n), loB = Number(b & 0xffffffffn);
      // a × b with both in [1, 2): n/d = a·b / 2^126
      f.flags = 0; f.mul(0x3fff, hiA, loA, 0x3fff, hiB, loB, 64);
      let [m, off, inexact] = roundRef(a * b, 1n << 126n);
      if ((BigInt(f.rhi) << 32n | BigInt(f.rlo)) !== m || (f.rse & 0x7fff) !== 0x3fff + off || ((f.flags & PE) !== 0) !== inexact) bad++;
      // a / b with the dividend scaled into [1, 4): n/d = 2a/b
      f.flags = 0; f.div(0x4000, hiA, loA, 0x3fff, hiB, loB, 64);
      [m, off, inexact] = roundRef(2n * a, b);
      if ((BigInt(f.rhi) << 32n | BigInt(f.rlo)) !== m || (f.rse & 0x7fff) !== 0x3fff + off || ((f.flags & PE) !== 0) !== inexact) bad++;
    }
    expect(bad).toBe(0);
  });
});

describe('Float80 square root', () => {
  it('the limb-based integer root equals ⌊√n⌋ with the right sticky bit (60k significands)', () => {
    const f = new Float80() as unknown as { isqrtSignificand(h: number, l: number, odd: number): number; sqR: Float64Array };
    let seed = 88172645463325252n, bad = 0;
    const mask = (1n << 64n) - 1n;
    for (let i = 0; i < 60000; i++) {
      seed ^= (seed << 13n) & mask; seed ^= seed >> 7n; seed ^= (seed << 17n) & mask;
      let m = seed | (1n << 63n);
      if (i % 4 === 1) m = mask - BigInt(i % 1000);            // near the top
      if (i % 4 === 2) m = (1n << 63n) + BigInt(i % 1000);     // near the bottom
      if (i % 8 === 3) { const r = (seed >> 32n) | (1n << 31n); m = r * r; if (m < (1n << 63n)) m <<= 1n; } // squares
      const odd = i & 1, n = m << BigInt(67 + odd), ref = isqrt(n);
      const sticky = f.isqrtSignificand(Number(m >> 32n), Number(m & 0xffffffffn), odd);
      let r = 0n;
      for (let k = 4; k >= 0; k--) r = (r << 16n) + BigInt(f.sqR[k]);
      if (r !== ref || sticky !== (ref * ref !== n ? 1 : 0)) bad++;
    }
    expect(bad).toBe(0);
  });
  it('squares of integers give exact roots without PE', () => {
    const f = new Float80();
    for (let k = 1; k < 3000; k += 7) {
      const sq = BigInt(k * 1234567 + 1) ** 2n, bits = sq.toString(2).length;
      const m = sq << BigInt(64 - bits);
      f.flags = 0;
      f.sqrt(16383 + bits - 1, Number(m >> 32n), Number(m & 0xffffffffn), 64);
      const root = BigInt(k * 1234567 + 1), rb = root.toString(2).length;
      expect([f.rse, (BigInt(f.rhi) << 32n) | BigInt(f.rlo), f.flags & PE]).toEqual([16383 + rb - 1, root << BigInt(64 - rb), 0]);
    }
  });
});
