// Crash tests: a child process writes seeded random data into a disk, flushing every few
// writes, and is killed (SIGKILL) at a random moment. Then the file must open, pass `check`,
// and hold every write acknowledged by a completed flush; a sector touched by a write after the
// last acknowledged flush may hold its old content or any of the newer ones, nothing else.
// Each series reuses its file across kills, so later runs start from a crashed file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawDisk, check, createVhd, openDisk } from '../../src/disk/index.ts';
import { MAX_UNFLUSHED, crashOps } from './crash-ops.ts';
import { rng, tempDir } from './helpers.ts';

const dir = tempDir('crash');
const CHILD = path.resolve(import.meta.dirname, 'crash-child.ts');
/** How to start a child: bundled to plain JS when esbuild (tsx's own compiler) is at hand, as
 *  that starts ten times faster than compiling through tsx in every one of 200+ children. */
let childArgs = ['--import', 'tsx', CHILD];
/** Children still running, killed if the test fails half-way. */
const live = new Set<ChildProcess>();
afterAll(() => { for (const c of live) c.kill('SIGKILL'); });

beforeAll(async () => {
  try {
    const esbuild = await import('esbuild');
    const out = path.join(dir, 'crash-child.mjs');
    esbuild.buildSync({ entryPoints: [CHILD], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
    childArgs = [out];
  } catch { /* fall back to tsx */ }
});
const KILLS_PER_SERIES = 9;

interface Series { name: string; make: (file: string) => void; ext: string }

const series: Series[] = [
  { name: 'raw', ext: 'img', make: (f) => RawDisk.create(f, 8 << 20) },
  { name: 'fixed', ext: 'vhd', make: (f) => createVhd(f, { type: 'fixed', size: 8 << 20 }) },
  { name: 'dynamic 4K blocks', ext: 'vhd', make: (f) => createVhd(f, { type: 'dynamic', size: 16 << 20, blockSize: 4096 }) },
  { name: 'dynamic 64K blocks', ext: 'vhd', make: (f) => createVhd(f, { type: 'dynamic', size: 16 << 20, blockSize: 65536 }) },
  { name: 'dynamic 2M blocks', ext: 'vhd', make: (f) => createVhd(f, { type: 'dynamic', size: 32 << 20 }) },
  {
    name: 'differencing 16K blocks', ext: 'vhd', make: (f) => {
      const base = f + '.base.vhd';
      createVhd(base, { type: 'dynamic', size: 16 << 20, blockSize: 65536 });
      const d = openDisk(base);
      const r = rng(1);
      for (let i = 0; i < 200; i++) d.write(r.int(d.sectorCount - 8), r.bytes(8 * 512));
      d.close();
      createVhd(f, { type: 'differencing', parent: base, blockSize: 16384 });
    },
  },
];

/** Run the child until killed after `delayMs`; returns the last op index a completed flush covered. */
function runChild(file: string, seed: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childArgs, file, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '', err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out += s;
      if (!timer && out.startsWith('R\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (s: Buffer) => { err += s; });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      live.delete(child);
      if (signal !== 'SIGKILL') { reject(new Error(`child ended without being killed: ${err}`)); return; }
      const acked = [...out.matchAll(/^F (\d+)\n/gm)].map((m) => Number(m[1]));
      resolve(acked.length ? acked[acked.length - 1] : -1);
    });
  });
}

async function runSeries(s: Series, index: number): Promise<{ kills: number; acked: number }> {
  const file = path.join(dir, `crash-${index}.${s.ext}`);
  s.make(file);
  let d = openDisk(file, { readOnly: true });
  const state = new Uint8Array(d.sectorCount * 512);
  d.read(0, state);
  d.close();
  const r = rng(1000 + index);
  let kills = 0, ackedOps = 0;
  for (let k = 0; k < KILLS_PER_SERIES; k++) {
    const seed = index * 1000 + k;
    const lastAcked = await runChild(file, seed, r.int(60));
    kills++;
    ackedOps += lastAcked + 1;

    // What must be there, and what else each sector touched after the last flush may hold.
    const ops = crashOps(seed, state.length / 512);
    const acked = Buffer.from(state);
    const maybe = new Map<number, Uint8Array[]>();
    for (let i = 0; i <= lastAcked + MAX_UNFLUSHED + 1; i++) {
      const op = ops.next();
      if (i <= lastAcked) { acked.set(op.data, op.sector * 512); continue; }
      for (let j = 0; j < op.data.length / 512; j++) {
        const list = maybe.get(op.sector + j) ?? [];
        list.push(op.data.subarray(j * 512, (j + 1) * 512));
        maybe.set(op.sector + j, list);
      }
    }

    const report = check(file);
    if (!report.ok) expect.fail(`${s.name}, kill ${k}: check failed: ${JSON.stringify(report.problems)}`);
    d = openDisk(file, { readOnly: true }); // (the next child opens it read-write and goes on writing)
    const now = new Uint8Array(state.length);
    d.read(0, now);
    d.close();
    const CHUNK = 64 * 1024;
    for (let at = 0; at < state.length; at += CHUNK) {
      const len = Math.min(CHUNK, state.length - at);
      if (Buffer.from(now.buffer, at, len).equals(acked.subarray(at, at + len))) continue;
      for (let sec = at / 512; sec < (at + len) / 512; sec++) {
        const got = Buffer.from(now.buffer, sec * 512, 512);
        if (got.equals(acked.subarray(sec * 512, (sec + 1) * 512))) continue;
        const alternatives = maybe.get(sec) ?? [];
        if (!alternatives.some((a) => got.equals(a))) {
          expect.fail(`${s.name}, kill ${k} (last acknowledged op ${lastAcked}): sector ${sec} holds data never written there after the last flush`);
        }
      }
    }
    state.set(now);
  }
  return { kills, acked: ackedOps };
}

describe('crash safety under SIGKILL', () => {
  it(`every disk type survives ${series.length * 4 * KILLS_PER_SERIES} kills with flushed writes intact`, async () => {
    const jobs = series.flatMap((s, i) => [0, 1, 2, 3].map((rep) => ({ s, index: i * 4 + rep })));
    let kills = 0, acked = 0;
    const workers = Array.from({ length: 3 }, async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const r = await runSeries(job.s, job.index);
        kills += r.kills;
        acked += r.acked;
      }
    });
    await Promise.all(workers);
    expect(kills).toBeGreaterThanOrEqual(200);
    expect(acked).toBeGreaterThan(kills * 10); // the kills landed while real work was going on
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
