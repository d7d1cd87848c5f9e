/**
 * Golden vectors from a real x87. test/fpu/data/x87-golden.txt.gz is produced by
 * tools/fpu/x87gen.c (build and run: tools/fpu/gen.sh) on the host CPU — an AMD EPYC (x86_64) —
 * which executes each instruction on given 80-bit operands under a given control word and dumps
 * FNSAVE's image (status word, full tag word, ST0..ST2), memory operands and EFLAGS.
 *
 * Everything except the transcendental instructions must match bit for bit: arithmetic under all
 * rounding/precision controls, specials (±0, denormals, pseudo-denormals, unnormals, pseudo-NaN/∞,
 * QNaN/SNaN), masked and unmasked exceptions, comparisons, FCOMI EFLAGS, FCMOVcc, integer/BCD/real
 * loads and stores, FPREM/FPREM1, FSCALE, FXTRACT, FRNDINT, constants, the reserved precision
 * control, and stack faults (pushes onto a full stack, operations on empty registers).
 *
 * Transcendentals (F2XM1 FYL2X FYL2XP1 FPTAN FPATAN FSIN FCOS FSINCOS): soulvm rounds correctly
 * (after the hardware's 66-bit-π argument reduction); the oracle is not correctly rounded and
 * differs by 1 ulp (rarely 2) on a minority of arguments. There the test allows ±2 ulp and ignores
 * C1 (which follows the rounding direction), and requires everything else (flags, tags, the
 * stack) to match exactly. Arguments outside the documented domains (FYL2XP1 |x| ≥ 1-√2/2) are
 * undefined and skipped. The measured agreement is printed.
 *
 * soulvm follows the oracle where it is more specific than Intel's SDM text; the notable cases:
 * FLD m32/m64 of a denormal with DE unmasked still loads (as the SDM's FLD note says); FCOM-family/FTST/FCOMI set the
 * "unordered" condition codes / EFLAGS even when the invalid exception is unmasked; F2XM1 with
 * |x| > 1 (undefined) returns x; FPREM's partial step uses N = 32 + (D mod 32) quotient bits.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Fpu } from '../../src/cpu/fpu/fpu.ts';
import { TestHost, replay } from './harness.ts';

const lines = gunzipSync(readFileSync(new URL('./data/x87-golden.txt.gz', import.meta.url))).toString().trim().split('\n');
const TRANSCENDENTAL = /^d9 f[01239bef] /;

/** Position of an 80-bit value on the number line in ulps (normals and denormals of one sign). */
function ulpOrdinal(hex: string): bigint {
  const v = BigInt('0x' + hex), se = v >> 64n, m = v & 0xffffffffffffffffn;
  const mag = (se & 0x7fffn) === 0n ? m : (se & 0x7fffn) * (1n << 63n) + (m & ((1n << 63n) - 1n));
  return se & 0x8000n ? -mag : mag;
}

/** FYL2XP1 is defined for |x| < 1 - √2/2 only. */
function outsideDomain(line: string): boolean {
  if (!line.startsWith('d9 f9 ')) return false;
  const a = line.split(' ')[4], e = parseInt(a.slice(0, 4), 16) & 0x7fff;
  return e >= 0x3ffd && !(e === 0x3ffd && parseInt(a.slice(4, 8), 16) < 0x95f6);
}

describe('x87 golden vectors (real hardware)', () => {
  it(`matches the oracle bit for bit outside the transcendentals (${lines.length} vectors in the file)`, () => {
    const host = new TestHost(), fpu = new Fpu(host);
    const bad: string[] = [];
    let n = 0;
    for (const line of lines) {
      if (TRANSCENDENTAL.test(line)) continue;
      n++;
      const { got, expect: want } = replay(fpu, host, line);
      if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${line}\n   got: ${[got.sw, got.tw, ...got.st, got.mem, got.flags].join(' ')}`);
    }
    expect(n).toBeGreaterThan(40000);
    expect(bad.slice(0, 10).join('\n')).toBe('');
  });

  it('transcendentals agree within 2 ulp with identical flags and stack', () => {
    const host = new TestHost(), fpu = new Fpu(host);
    const bad: string[] = [];
    let n = 0, exact = 0, off1 = 0, off2 = 0, skipped = 0;
    for (const line of lines) {
      if (!TRANSCENDENTAL.test(line)) continue;
      if (outsideDomain(line)) { skipped++; continue; }
      n++;
      const { got, expect: want } = replay(fpu, host, line);
      if (JSON.stringify(got) === JSON.stringify(want)) { exact++; continue; }
      const noC1 = (sw: string) => parseInt(sw, 16) & ~0x200;
      let worst = 0n, ok = noC1(got.sw) === noC1(want.sw) && got.tw === want.tw && got.flags === want.flags;
      for (let i = 0; i < 3 && ok; i++) {
        if (got.st[i] === want.st[i]) continue;
        if (got.st[i] === 'empty' || want.st[i] === 'empty' || /^[7f]fff/.test(want.st[i])) { ok = false; break; }
        let d = ulpOrdinal(got.st[i]) - ulpOrdinal(want.st[i]);
        if (d < 0n) d = -d;
        if (d > worst) worst = d;
      }
      if (ok && worst <= 2n) { if (worst === 1n) off1++; else off2++; continue; }
      bad.push(`${line}\n   got: ${[got.sw, got.tw, ...got.st].join(' ')}`);
    }
    console.log(`transcendentals: ${n} compared, ${exact} bit-exact, ${off1} differ by 1 ulp, ${off2} by 2 ulp (C1 follows); ${skipped} outside the documented domain skipped`);
    expect(bad.slice(0, 10).join('\n')).toBe('');
    expect(exact / n).toBeGreaterThan(0.9);
  });
});
