// Shared test helpers for src/disk: temporary directories, a seeded PRNG, an in-memory model disk.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll } from 'vitest';

/** A fresh temporary directory, removed after the test file finishes. */
export function tempDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `soulvm-${tag}-`));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): { next: () => number; int: (n: number) => number; bytes: (n: number) => Uint8Array } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const bytes = (n: number): Uint8Array => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const x = (next() * 4294967296) >>> 0;
      b[i] = x; b[i + 1] = x >>> 8; b[i + 2] = x >>> 16; b[i + 3] = x >>> 24;
    }
    return b;
  };
  return { next, int, bytes };
}

/** The reference: a disk is right when it reads what this byte array holds. */
export class ModelDisk {
  readonly bytes: Uint8Array;
  constructor(size: number, from?: Uint8Array) {
    this.bytes = new Uint8Array(size);
    if (from) this.bytes.set(from.subarray(0, Math.min(size, from.length)));
  }
  write(sector: number, data: Uint8Array): void { this.bytes.set(data, sector * 512); }
  read(sector: number, count: number): Uint8Array { return this.bytes.subarray(sector * 512, (sector + count) * 512); }
}

export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const SOULVM = path.resolve(import.meta.dirname, '../../bin/soulvm.mjs');

export function soulvm(args: string[], cwd?: string): { status: number; stdout: string; stderr: string } {
  return run(process.execPath, [SOULVM, ...args], { cwd });
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}
