// Shared by the CPU program tests: run a committed test ROM in soulvm and compare its console
// with the golden output produced by tools/cpu-oracle/build.sh (QEMU 7.2 / Bochs 2.7).
import { expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { runRom } from '../../src/machine/bare.ts';

const bin = new URL('./bin/', import.meta.url);
const expected = new URL('./expected/', import.meta.url);

/** The console plus a stop line in the format of tools/cpu-oracle/run-qemu.sh. */
export function runProgram(name: string): string {
  const rom = new Uint8Array(readFileSync(new URL(`${name}.bin`, bin)));
  const r = runRom(rom, { memoryMiB: 32, maxInstructions: 50_000_000 });
  const stop = r.stop === 'exit' ? `[exit=${r.exitCode}]` : r.stop === 'triple-fault' ? '[triple-fault]' : `[${r.stop}]`;
  return r.console + stop + '\n';
}

/** Compares line by line so that a failure names the first differing line. */
export function expectSameOutput(name: string, got: string): void {
  const want = readFileSync(new URL(`${name}.txt`, expected), 'latin1');
  if (got === want) return;
  const g = got.split('\n'), w = want.split('\n');
  let i = 0;
  while (i < g.length && i < w.length && g[i] === w[i]) i++;
  const context = w.slice(Math.max(0, i - 3), i).map((l) => `    ${l}`).join('\n');
  expect.fail(`${name}: first difference at line ${i + 1}\n  after:\n${context}\n  expected: ${JSON.stringify(w[i])}\n  soulvm:   ${JSON.stringify(g[i])}`);
}

/** Names of the committed programs (test/cpu/bin/NAME.bin). */
export const programs = readdirSync(bin).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4)).sort();
