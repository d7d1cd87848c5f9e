// QEMU's device models as the oracle: oracle/probe.asm programs the PIC (priorities, poll,
// rotation, special mask, cascade, ELCR), 8042, PIT, RTC and two UARTs in ways whose results do
// not depend on timing, and prints what it reads on port 0xE9. oracle/regen.sh assembles it
// (nasm) and records QEMU 7.2's output (with -icount, so that it is repeatable) in
// oracle/probe.qemu.txt; here the same ROM runs on the real soulvm CPU with soulvm's devices.
// Where QEMU departs from the datasheets (no null-count or OUT bits in the PIT status, no IRR
// resampling on ELCR writes) the probe stays clear of it; the datasheet tests cover those.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildPc } from './pc.ts';

const dir = fileURLToPath(new URL('./oracle', import.meta.url));

describe('devices against QEMU', () => {
  it('reads the same values as QEMU for the probe ROM', () => {
    const pc = buildPc(new Uint8Array(fs.readFileSync(path.join(dir, 'probe.bin'))));
    pc.run(5e9);
    expect(pc.exitCode()).toBe(0);
    expect(pc.debug.text()).toBe(fs.readFileSync(path.join(dir, 'probe.qemu.txt'), 'latin1'));
  });
});
