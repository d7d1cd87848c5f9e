// Saved states of a whole PC (src/state/vsv.ts): exact resumption in deterministic time, in this
// process and in another one, and bad files refused with the machine left as it was. The guest
// is test/bios/programs/pc.bin, a boot sector using the PIT, the RTC, the keyboard and COM1.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc.ts';
import { StateError } from '../../src/state/state.ts';
import { decodeVsv } from '../../src/state/vsv.ts';
import { MemDisk } from '../bios/helpers.ts';

const program = readFileSync(new URL('../bios/programs/pc.bin', import.meta.url));
const rtcStart = new Date('2026-03-04T12:34:56Z');
function machine(memoryMiB = 16): PcMachine {
  const img = new Uint8Array(1 << 20);
  img.set(program);
  return new PcMachine({ hardDisks: [new MemDisk(img)], memoryMiB, rtcStart, clock: 'deterministic' });
}
/** The machine's state without the header (which records when it was saved). */
function body(m: PcMachine): { devices: Uint8Array; ram: Uint8Array } {
  const v = decodeVsv(m.saveState(), m.mem.ramSize);
  return { devices: v.devices, ram: v.ram };
}
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'soulvm-state-'));
  return () => rmSync(dir, { recursive: true, force: true });
});

describe('saved state of a PC', () => {
  it('resumes exactly: N instructions, save, restore in a new machine, M more equals N + M straight', async () => {
    const a = machine();
    await a.run({ maxInstructions: 3_000_000 });          // POST done, the boot sector waiting on timer ticks
    const saved = a.saveState();
    a.platform.i8042.keyboard.typeText('k');             // input and output in flight after the save point
    await a.run({ maxInstructions: 40_000_000 });
    const b = machine();
    b.restoreState(saved);
    b.platform.i8042.keyboard.typeText('k');
    await b.run({ maxInstructions: 40_000_000 });
    expect(b.cpu.instructionCount).toBe(a.cpu.instructionCount);
    expect(b.clock.now()).toBe(a.clock.now());
    const [x, y] = [body(a), body(b)];
    expect(same(x.devices, y.devices)).toBe(true);
    expect(same(x.ram, y.ram)).toBe(true);
    expect(b.serialOutput).toBe(a.serialOutput.slice(a.serialOutput.length - b.serialOutput.length));
    expect(a.serialOutput).toBe('SE');
  });

  it('resumes exactly in another process', async () => {
    const a = machine();
    await a.run({ maxInstructions: 2_000_000 });
    const file = join(dir, 'mid.vsv');
    a.saveStateFile(file);
    await a.run({ maxInstructions: 5_000_000 });
    const out = join(dir, 'after.vsv');
    const script = `
      import { readFileSync } from 'node:fs';
      import { PcMachine } from ${JSON.stringify(new URL('../../src/machine/pc.ts', import.meta.url).pathname)};
      import { MemDisk } from ${JSON.stringify(new URL('../bios/helpers.ts', import.meta.url).pathname)};
      const img = new Uint8Array(1 << 20);
      img.set(readFileSync(${JSON.stringify(new URL('../bios/programs/pc.bin', import.meta.url).pathname)}));
      const m = new PcMachine({ hardDisks: [new MemDisk(img)], memoryMiB: 16, rtcStart: new Date(${JSON.stringify(rtcStart.toISOString())}), clock: 'deterministic' });
      m.restoreStateFile(${JSON.stringify(file)});
      await m.run({ maxInstructions: 5_000_000 });
      m.saveStateFile(${JSON.stringify(out)});
    `;
    writeFileSync(join(dir, 'resume.mts'), script);
    const r = spawnSync(process.execPath, ['--import', 'tsx/esm', join(dir, 'resume.mts')], { encoding: 'utf8', cwd: process.cwd() });
    expect(r.status, r.stderr).toBe(0);
    const theirs = decodeVsv(new Uint8Array(readFileSync(out)), a.mem.ramSize);
    const ours = body(a);
    expect(same(theirs.devices, ours.devices)).toBe(true);
    expect(same(theirs.ram, ours.ram)).toBe(true);
  });

  it('refuses a state for another configuration, saying what differs, and changes nothing', async () => {
    const a = machine();
    await a.run({ maxInstructions: 1_000_000 });
    const other = machine(32);
    await other.run({ maxInstructions: 500_000 });
    const before = body(other);
    expect(() => other.restoreState(a.saveState())).toThrow(/16 MiB of RAM; this machine has 32 MiB/);
    const noDisk = new PcMachine({ memoryMiB: 16, rtcStart, clock: 'deterministic' });
    expect(() => noDisk.restoreState(a.saveState())).toThrow(/another machine configuration \(.*disks/);
    const after = body(other);
    expect(same(before.devices, after.devices) && same(before.ram, after.ram)).toBe(true);
  });

  it('refuses every truncation and every single-bit flip of a state file, leaving the machine as it was', async () => {
    const a = machine();
    await a.run({ maxInstructions: 1_000_000 });
    const good = a.saveState();
    const b = machine();
    await b.run({ maxInstructions: 300_000 });
    const before = body(b);
    let refused = 0;
    for (let n = 0; n < good.length; n++) {
      try { b.restoreState(good.subarray(0, n)); } catch (e) { expect(e).toBeInstanceOf(StateError); refused++; }
    }
    expect(refused).toBe(good.length);
    expect(good.length).toBeLessThan(16384); // a 16 MiB machine, mostly zero pages
    const bad = good.slice();
    for (let at = 0; at < bad.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        bad[at] ^= 1 << bit;
        expect(() => b.restoreState(bad), `bit ${bit} of byte ${at} flipped`).toThrow(StateError);
        bad[at] ^= 1 << bit;
      }
    }
    const newer = good.slice();
    newer[8] = 2;
    expect(() => b.restoreState(newer)).toThrow(/format 2 is newer than this soulvm understands/);
    expect(() => b.restoreState(new TextEncoder().encode('hello, world'))).toThrow(/not a soulvm saved state/);
    const after = body(b);
    expect(same(before.devices, after.devices) && same(before.ram, after.ram)).toBe(true);
    b.restoreState(good); // and the good one still loads
  });

  it('leaves the old state or the new one when the saving process is killed at any moment', async () => {
    const file = join(dir, 'killed.vsv');
    const a = machine();
    await a.run({ maxInstructions: 1_000_000 });
    a.saveStateFile(file);
    const script = `
      import { readFileSync } from 'node:fs';
      import { PcMachine } from ${JSON.stringify(new URL('../../src/machine/pc.ts', import.meta.url).pathname)};
      import { MemDisk } from ${JSON.stringify(new URL('../bios/helpers.ts', import.meta.url).pathname)};
      const img = new Uint8Array(1 << 20);
      img.set(readFileSync(${JSON.stringify(new URL('../bios/programs/pc.bin', import.meta.url).pathname)}));
      const m = new PcMachine({ hardDisks: [new MemDisk(img)], memoryMiB: 16, rtcStart: new Date(${JSON.stringify(rtcStart.toISOString())}), clock: 'deterministic' });
      process.stdout.write('ready\\n');
      for (;;) { await m.run({ maxInstructions: 100_000 }); m.saveStateFile(${JSON.stringify(file)}); }
    `;
    writeFileSync(join(dir, 'saver.mts'), script);
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx/esm', join(dir, 'saver.mts')], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 50 + round * 37));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const m = machine();
      m.restoreState(new Uint8Array(readFileSync(file)));  // whole: the old state or a new one
    }
  }, 60_000);
});
