// `soulvm run --cpu jit|interp` and `--jit-threshold`: the same guest gives the same result on
// the JIT and on the reference interpreter; wrong values are refused in one line.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOULVM, tempDir } from '../disk/helpers.ts';

// A 4 KiB ROM (at F000:F000, the reset vector jumps there): a million rounds of
// eax = rol(eax + ecx, 3), the result's four bytes to the E9h console, exit through F4h.
function rom(): Uint8Array {
  const r = new Uint8Array(4096);
  r.set([
    0x66, 0x31, 0xc0,                         // xor eax, eax
    0x66, 0xb9, 0x40, 0x42, 0x0f, 0x00,       // mov ecx, 1000000
    0x66, 0x01, 0xc8,                         // loop: add eax, ecx
    0x66, 0xc1, 0xc0, 0x03,                   //   rol eax, 3
    0x66, 0x49,                               //   dec ecx
    0x75, 0xf5,                               //   jnz loop
    ...[0, 1, 2, 3].flatMap(() => [0xe6, 0xe9, 0x66, 0xc1, 0xe8, 0x08]), // out 0E9h, al; shr eax, 8
    0xe6, 0xf4,                               // out 0F4h, al (exit status 0)
  ], 0);
  r.set([0xea, 0x00, 0xf0, 0x00, 0xf0], 0xff0); // jmp far F000:F000
  return r;
}

function expected(): number[] {
  let a = 0;
  for (let c = 1_000_000; c > 0; c--) { a = (a + c) | 0; a = (a << 3) | (a >>> 29); }
  return [0, 1, 2, 3].map((i) => (a >>> (8 * i)) & 0xff);
}

describe('soulvm run --cpu', () => {
  const file = join(tempDir('cli-cpu'), 'loop.rom');
  writeFileSync(file, rom());
  const run = (...args: string[]) => spawnSync(process.execPath, [SOULVM, 'run', '--bios', file, ...args], { encoding: 'latin1' });

  it('runs the same program to the same result on the JIT (any threshold) and on the interpreter', () => {
    const want = String.fromCharCode(...expected());
    for (const args of [[], ['--cpu', 'jit'], ['--cpu', 'jit', '--jit-threshold', '1'], ['--cpu', 'interp']]) {
      const r = run(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).toBe(want);
    }
  });

  it('refuses a wrong mode or threshold in one line', () => {
    for (const [args, message] of [
      [['--cpu', 'fast'], /--cpu must be jit or interp, got 'fast'/],
      [['--cpu', 'interp', '--jit-threshold', '10'], /--jit-threshold goes with --cpu jit/],
      [['--jit-threshold', 'many'], /jit-threshold/],
    ] as const) {
      const r = run(...args);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
