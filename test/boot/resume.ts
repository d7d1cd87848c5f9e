// Exact resumption across processes for guest tests: save the running machine to a .vsv file,
// let another process restore it and run M instructions (typing the same input), run M here
// too, and compare the two machines byte for byte, COM1 output included.
import { expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PcMachine } from '../../src/machine/pc.ts';
import { decodeVsv } from '../../src/state/vsv.ts';
import { sectionsOf } from '../../src/state/state.ts';

/** Which device sections and RAM pages differ between two saved states. */
export function differences(devicesA: Uint8Array, devicesB: Uint8Array, ramA: Uint8Array, ramB: Uint8Array): string[] {
  const out: string[] = [];
  const a = sectionsOf(devicesA), b = sectionsOf(devicesB);
  for (const [name, bytes] of a) if (!b.has(name) || Buffer.compare(bytes, b.get(name)!) !== 0) out.push(`section ${name}`);
  for (let p = 0; p < ramA.length; p += 4096) {
    if (Buffer.compare(ramA.subarray(p, p + 4096), ramB.subarray(p, p + 4096)) !== 0) { out.push(`RAM page ${(p >>> 12).toString(16)}h`); if (out.length > 20) break; }
  }
  return out;
}

const here = (p: string) => JSON.stringify(new URL(p, import.meta.url).pathname);

/**
 * `machineCode` is a TypeScript expression building an identically configured PcMachine in the
 * other process (it may use PcMachine and defaultGuest).
 */
export async function expectExactResumeInAnotherProcess(m: PcMachine, machineCode: string, instructions: number, input = ''): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'soulvm-resume-'));
  try {
    const saved = join(dir, 'saved.vsv'), after = join(dir, 'after.vsv'), output = join(dir, 'com1.txt');
    m.saveStateFile(saved);
    const printedBefore = m.serialOutput.length;
    if (input) m.sendSerial(input);
    await m.run({ maxInstructions: instructions });
    writeFileSync(join(dir, 'resume.mts'), `
      import { writeFileSync } from 'node:fs';
      import { PcMachine } from ${here('../../src/machine/pc.ts')};
      import { defaultGuest } from ${here('./guest.ts')};
      const m = ${machineCode};
      m.restoreStateFile(${JSON.stringify(saved)});
      if (${JSON.stringify(input)}) m.sendSerial(${JSON.stringify(input)});
      await m.run({ maxInstructions: ${instructions} });
      m.saveStateFile(${JSON.stringify(after)});
      writeFileSync(${JSON.stringify(output)}, m.serialOutput, 'latin1');
    `);
    const r = spawnSync(process.execPath, ['--import', 'tsx/esm', join(dir, 'resume.mts')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const ours = decodeVsv(m.saveState(), m.mem.ramSize);
    const theirs = decodeVsv(new Uint8Array(readFileSync(after)), m.mem.ramSize);
    expect(differences(theirs.devices, ours.devices, theirs.ram, ours.ram), 'state after resuming elsewhere').toEqual([]);
    expect(readFileSync(output, 'latin1')).toBe(m.serialOutput.slice(printedBefore));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
