// QEMU-checked CPU test programs: test/cpu/programs/NAME.asm, assembled into test/cpu/bin/NAME.bin
// and run in QEMU 7.2 and Bochs 2.7 by tools/cpu-oracle/build.sh, which stores the expected
// console output in test/cpu/expected/NAME.txt (both emulators agree, or the program names the
// one that follows the Intel SDM in an "; oracle:" line and says why). soulvm must print the same.
// The decode-* programs run in decoder.test.ts.
import { describe, it } from 'vitest';
import { runProgram, expectSameOutput, programs, CPU_MODES } from './helpers.ts';

for (const mode of CPU_MODES) {
  describe(`CPU test programs (QEMU/Bochs goldens), ${mode.name}`, () => {
    for (const name of programs.filter((n) => !n.startsWith('decode'))) {
      it(name, () => expectSameOutput(name, runProgram(name, mode.options)));
    }
  });
}
