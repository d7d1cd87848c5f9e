// Disk throughput: sequential (64 KiB transfers, an IDE controller's largest) and random 4 KiB
// reads and writes through the block-device interface, for a raw file, a fixed VHD and a
// dynamic VHD on the same file system. Writes end with a flush, which is counted.
// Prints one line per backend:
//   disk-bench: <backend> seq-write=… seq-read=… rand-write=… rand-read=… MB/s (rand-… kIOPS)
// Each figure is the median of three passes on fresh disks. Run: npx tsx bench/disk.ts [size-MiB]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type BlockDevice, RawDisk, VhdDisk, createVhd } from '../src/disk/index.ts';

const SIZE = Number(process.argv[2] ?? 128) * 1024 * 1024;
const SEQ = 64 * 1024;
const RAND = 4096;
const RAND_OPS = 20000;

function time(run: () => void): number {
  const t0 = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

type Figures = { seqWrite: number; seqRead: number; randWrite: number; randRead: number };

/** One pass over a fresh disk: seconds per phase. */
function pass(disk: BlockDevice): Figures {
  const sectors = Math.floor(SIZE / 512);
  const buf = new Uint8Array(SEQ);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 0xff;
  const seqWrite = time(() => {
    for (let s = 0; s + SEQ / 512 <= sectors; s += SEQ / 512) disk.write(s, buf);
    disk.flush();
  });
  const seqRead = time(() => {
    for (let s = 0; s + SEQ / 512 <= sectors; s += SEQ / 512) disk.read(s, buf);
  });
  // The same pseudo-random 4 KiB-aligned offsets for every backend.
  let x = 12345;
  const offsets = new Float64Array(RAND_OPS);
  for (let i = 0; i < RAND_OPS; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    offsets[i] = (x % (sectors / 8)) * 8;
  }
  const small = buf.subarray(0, RAND);
  const randWrite = time(() => {
    for (let i = 0; i < RAND_OPS; i++) disk.write(offsets[i], small);
    disk.flush();
  });
  const randRead = time(() => {
    for (let i = 0; i < RAND_OPS; i++) disk.read(offsets[i], small);
  });
  disk.close();
  return { seqWrite, seqRead, randWrite, randRead };
}

/** Median of three passes, each on a newly created disk. */
function bench(name: string, create: (file: string) => void, open: (file: string) => BlockDevice): string {
  const runs: Figures[] = [];
  for (let i = 0; i < 3; i++) {
    const file = path.join(dir, `${name}-${i}`);
    create(file);
    runs.push(pass(open(file)));
    fs.unlinkSync(file);
  }
  const median = (k: keyof Figures): number => runs.map((r) => r[k]).sort((a, b) => a - b)[1];
  const [seqWrite, seqRead, randWrite, randRead] = (['seqWrite', 'seqRead', 'randWrite', 'randRead'] as const).map(median);
  const bytes = Math.floor(SIZE / SEQ) * SEQ;
  const mbs = (n: number, s: number): string => (n / s / 1e6).toFixed(0);
  return `disk-bench: ${name.padEnd(11)} seq-write=${mbs(bytes, seqWrite)} seq-read=${mbs(bytes, seqRead)} ` +
    `rand-write=${mbs(RAND_OPS * RAND, randWrite)} rand-read=${mbs(RAND_OPS * RAND, randRead)} MB/s ` +
    `(rand-write=${(RAND_OPS / randWrite / 1000).toFixed(1)} rand-read=${(RAND_OPS / randRead / 1000).toFixed(1)} kIOPS)`;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soulvm-bench-'));
try {
  console.log(bench('raw', (f) => RawDisk.create(f, SIZE), (f) => RawDisk.open(f)));
  console.log(bench('vhd-fixed', (f) => createVhd(f, { type: 'fixed', size: SIZE }), (f) => VhdDisk.open(f)));
  console.log(bench('vhd-dynamic', (f) => createVhd(f, { type: 'dynamic', size: SIZE }), (f) => VhdDisk.open(f)));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
