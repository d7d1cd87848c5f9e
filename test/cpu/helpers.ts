// Shared by the CPU program tests: run a committed test ROM in soulvm and compare its console
// with the golden output produced by tools/cpu-oracle/build.sh (QEMU 7.2 / Bochs 2.7).
import { expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { runRom, type BareOptions } from '../../src/machine/bare.ts';

const bin = new URL('./bin/', import.meta.url);
const expected = new URL('./expected/', import.meta.url);

/**
 * The two ways the CPU runs code, both checked against the same goldens: the interpreter, and
 * the JIT with its compile threshold forced to 1 so that every block is compiled on first use.
 */
export const CPU_MODES: { name: string; options: BareOptions }[] = [
  { name: 'interpreter', options: { cpu: 'interp' } },
  { name: 'JIT, every block compiled', options: { cpu: 'jit', jitThreshold: 1 } },
];

/** The console plus a stop line in the format of tools/cpu-oracle/run-qemu.sh. */
export function runProgram(name: string, options: BareOptions = {}): string {
  const rom = new Uint8Array(readFileSync(new URL(`${name}.bin`, bin)));
  const r = runRom(rom, { memoryMiB: 32, maxInstructions: 50_000_000, ...options });
  const stop = r.stop === 'exit' ? `[exit=${r.exitCode}]` : r.stop === 'triple-fault' ? '[triple-fault]' : `[${r.stop}]`;
  return r.console + stop + '\n';
}

function firstDifference(g: string[], w: string[]): number {
  let i = 0;
  while (i < g.length && i < w.length && g[i] === w[i]) i++;
  return i;
}

/** RF (EFLAGS bit 16) in the "fl=" of exception frames, cleared: only for the diagnostic below. */
const withoutRf = (text: string) => text.replace(/fl=([0-9A-F]{3})([0-9A-F])([0-9A-F]{4})\b/g,
  (_m, a: string, d: string, b: string) => `fl=${a}${(parseInt(d, 16) & ~1).toString(16).toUpperCase()}${b}`);

/**
 * Compares line by line so that a failure names the first differing line. The message also says
 * where the first difference would be if RF in fault frames were ignored, so that one missing
 * flag does not hide everything after it (the test still fails on RF: the SDM defines it).
 */
export function expectSameOutput(name: string, got: string): void {
  const want = readFileSync(new URL(`${name}.txt`, expected), 'latin1');
  if (got === want) return;
  const g = got.split('\n'), w = want.split('\n');
  const i = firstDifference(g, w);
  const context = w.slice(Math.max(0, i - 3), i).map((l) => `    ${l}`).join('\n');
  let note = '';
  const gr = withoutRf(got).split('\n'), wr = withoutRf(want).split('\n');
  const j = firstDifference(gr, wr);
  if (j !== i) {
    note = j >= wr.length && j >= gr.length ? '\n  (the only differences are RF in exception frames)'
      : `\n  ignoring RF, first difference at line ${j + 1}:\n  expected: ${JSON.stringify(wr[j])}\n  soulvm:   ${JSON.stringify(gr[j])}`;
  }
  expect.fail(`${name}: first difference at line ${i + 1}\n  after:\n${context}\n  expected: ${JSON.stringify(w[i])}\n  soulvm:   ${JSON.stringify(g[i])}${note}`);
}

/** Names of the committed programs (test/cpu/bin/NAME.bin). */
export const programs = readdirSync(bin).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4)).sort();
