/** The softfloat core's square root against an independent BigInt reference. */
import { describe, it, expect } from 'vitest';
import { Float80, isqrt, PE } from '../../src/cpu/fpu/float80.ts';

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
