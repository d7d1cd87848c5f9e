// Decoding edge cases, as ROM programs with QEMU/Bochs goldens (see test/cpu/programs.test.ts and
// tools/cpu-oracle/build.sh): every 16-bit ModRM and 32-bit ModRM/SIB form (decode-modrm), the
// 15-byte limit, repeated prefixes, LOCK and undefined opcodes (decode-prefix), and real-mode
// segment limits and wrap-around (decode-limits, Bochs as the oracle: QEMU does not check them).
import { describe, it, expect } from 'vitest';
import { runProgram, expectSameOutput, programs, CPU_MODES } from './helpers.ts';

describe('CPU decoding edge cases', () => {
  const decode = programs.filter((n) => n.startsWith('decode'));
  it('has the decode programs', () => {
    expect(decode).toEqual(['decode-limits', 'decode-modrm', 'decode-prefix']);
  });
  for (const mode of CPU_MODES) {
    for (const name of decode) {
      it(`${name} (${mode.name})`, () => expectSameOutput(name, runProgram(name, mode.options)));
    }
  }
});
