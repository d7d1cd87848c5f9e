// Property tests: random write/read sequences on every disk type, checked against an in-memory
// model, with reopening, merges, compactions and resizes of differencing chains in between.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type BlockDevice, RawDisk, VhdDisk, check, commitUndo, compact, convert, createVhd, discardUndo, merge,
  openDisk, openWithUndo, resize,
} from '../../src/disk/index.ts';
import { ModelDisk, rng, sameBytes, tempDir } from './helpers.ts';

const dir = tempDir('model');
const BLOCK_SIZES = [512, 4096, 16384, 65536, 2 * 1024 * 1024];

type Rng = ReturnType<typeof rng>;

/** Reads the whole device and compares it with the model, naming the first differing sector. */
function expectMatches(disk: BlockDevice, model: ModelDisk): void {
  expect(disk.sectorCount * 512).toBe(model.bytes.length);
  const all = new Uint8Array(model.bytes.length);
  disk.read(0, all);
  if (!sameBytes(all, model.bytes)) {
    let i = 0;
    while (all[i] === model.bytes[i]) i++;
    expect.fail(`first difference in sector ${Math.floor(i / 512)} (byte ${i})`);
  }
}

/** Random writes (often across block boundaries, some all-zero) and reads, checked as they go. */
function exercise(r: Rng, box: { disk: BlockDevice }, model: ModelDisk, ops: number, reopen: () => BlockDevice, blockSize: number): void {
  const spb = Math.max(1, blockSize / 512);
  const sectors = model.bytes.length / 512;
  for (let op = 0; op < ops; op++) {
    const choice = r.next();
    const near = r.next() < 0.5;
    let sector = near ? Math.max(0, (r.int(Math.ceil(sectors / spb)) * spb) + r.int(7) - 3) : r.int(sectors);
    sector = Math.min(sector, sectors - 1);
    const count = 1 + r.int(Math.min(64, sectors - sector));
    if (choice < 0.55) {
      const data = r.next() < 0.1 ? new Uint8Array(count * 512) : r.bytes(count * 512);
      box.disk.write(sector, data);
      model.write(sector, data);
    } else if (choice < 0.9) {
      const buf = new Uint8Array(count * 512);
      box.disk.read(sector, buf);
      if (!sameBytes(buf, model.read(sector, count))) expect.fail(`op ${op}: read of ${count} at ${sector} differs`);
    } else if (choice < 0.95) {
      box.disk.flush();
    } else {
      box.disk.close();
      box.disk = reopen();
    }
  }
  expectMatches(box.disk, model);
}

function newVhd(name: string, type: 'fixed' | 'dynamic', r: Rng): { file: string; blockSize: number } {
  const file = path.join(dir, name);
  const blockSize = BLOCK_SIZES[r.int(BLOCK_SIZES.length)];
  createVhd(file, { type, size: (1 << 20) + r.int(3 << 20), blockSize });
  return { file, blockSize };
}

describe('single disks against the model', () => {
  for (const kind of ['raw', 'fixed', 'dynamic'] as const) {
    for (const seed of [1, 2, 3, 4]) {
      it(`${kind}, seed ${seed}`, () => {
        const r = rng(seed * 7919 + kind.length);
        let file: string, blockSize = 4096;
        if (kind === 'raw') {
          file = path.join(dir, `m-${kind}-${seed}.img`);
          RawDisk.create(file, (1 << 20) + r.int(1 << 20) * 512 / 512);
        } else ({ file, blockSize } = newVhd(`m-${kind}-${seed}.vhd`, kind, r));
        const box = { disk: openDisk(file) };
        const model = new ModelDisk(box.disk.sectorCount * 512);
        exercise(r, box, model, 400, () => openDisk(file), blockSize);
        box.disk.close();
        expect(check(file).ok).toBe(true);
        if (kind === 'dynamic') {
          compact(file);
          const d = openDisk(file, { readOnly: true });
          expectMatches(d, model);
          d.close();
        }
      });
    }
  }
});

describe('differencing chains against the model', () => {
  for (const seed of [11, 12, 13]) {
    it(`depth 4 with merges, compactions and a resize, seed ${seed}`, () => {
      const r = rng(seed);
      const { file: base, blockSize } = newVhd(`c${seed}-0.vhd`, r.next() < 0.5 ? 'dynamic' : 'fixed', r);
      const files = [base];
      const models: ModelDisk[] = [];
      const open = (i: number): VhdDisk => VhdDisk.open(files[i]);
      let box = { disk: open(0) as BlockDevice };
      models.push(new ModelDisk(box.disk.sectorCount * 512));
      exercise(r, box, models[0], 150, () => open(0), blockSize);
      box.disk.close();
      for (let level = 1; level <= 3; level++) {
        const file = path.join(dir, `c${seed}-${level}.vhd`);
        const bs = BLOCK_SIZES[r.int(BLOCK_SIZES.length)];
        createVhd(file, { type: 'differencing', parent: files[level - 1], blockSize: bs });
        files.push(file);
        models.push(new ModelDisk(models[level - 1].bytes.length, models[level - 1].bytes));
        box = { disk: open(level) };
        exercise(r, box, models[level], 150, () => open(level), bs);
        box.disk.close();
        if (level === 2) { // compaction keeps the identity and time stamp the child relies on
          compact(files[1]);
          const d = open(1);
          expectMatches(d, models[1]);
          d.close();
        }
      }
      // Every level still reads as it did: writes went only to the top of each chain.
      for (let i = 0; i < 4; i++) {
        const d = open(i);
        expectMatches(d, models[i]);
        d.close();
      }

      merge(files[3]); // level 2 takes level 3's data; level 3 is left empty over it
      let d = open(2);
      expectMatches(d, models[3]);
      d.close();
      d = open(3);
      expect(d.allocatedBlocks()).toBe(0);
      expectMatches(d, models[3]);
      d.close();

      compact(files[2]);
      merge(files[2], { deleteChild: false }); // level 1 now holds it all
      for (const i of [1, 2, 3]) {
        d = open(i);
        expectMatches(d, models[3]);
        d.close();
      }
      const d0 = open(0);
      expectMatches(d0, models[0]); // the base never changed
      d0.close();

      // Grow the top: the new tail reads as zeros and takes writes.
      const grown = models[3].bytes.length + (1 << 20) + 512 * r.int(100);
      resize(files[3], grown);
      box = { disk: open(3) };
      const big = new ModelDisk(box.disk.sectorCount * 512, models[3].bytes);
      expect(big.bytes.length).toBeGreaterThanOrEqual(grown);
      exercise(r, box, big, 150, () => open(3), 4096);
      box.disk.close();

      const flat = path.join(dir, `c${seed}-flat.img`);
      convert(files[3], flat);
      expect(sameBytes(fs.readFileSync(flat), big.bytes)).toBe(true);
      for (const f of files) expect(check(f).ok).toBe(true);
    });
  }
});

describe('ISO images', () => {
  it('read in 2048-byte sectors, refuse writes, convert to raw', () => {
    const iso = path.join(dir, 'cd.iso');
    const data = rng(7).bytes(2048 * 37);
    fs.writeFileSync(iso, data);
    const d = openDisk(iso);
    expect([d.sectorSize, d.sectorCount, d.readOnly]).toEqual([2048, 37, true]);
    const buf = new Uint8Array(2048 * 3);
    d.read(10, buf);
    expect(sameBytes(buf, data.subarray(2048 * 10, 2048 * 13))).toBe(true);
    expect(() => d.write(0, buf)).toThrow(/read-only/);
    expect(() => d.read(36, buf)).toThrow(/outside the disk/);
    d.close();
    const raw = path.join(dir, 'cd.img');
    convert(iso, raw);
    expect(sameBytes(fs.readFileSync(raw), data)).toBe(true);
  });
});

describe('undo disks', () => {
  it('discard leaves the base untouched; commit merges and removes the undo disk', () => {
    const r = rng(99);
    const base = path.join(dir, 'lab.vhd');
    createVhd(base, { type: 'dynamic', size: 2 << 20, blockSize: 65536 });
    let d: BlockDevice = VhdDisk.open(base);
    const model = new ModelDisk(d.sectorCount * 512);
    const box = { disk: d };
    exercise(r, box, model, 100, () => VhdDisk.open(base), 65536);
    box.disk.close();
    const before = fs.readFileSync(base);

    const session = new ModelDisk(model.bytes.length, model.bytes);
    const u = { disk: openWithUndo(base) as BlockDevice };
    const undoFile = path.join(dir, 'lab.vud');
    exercise(r, u, session, 100, () => openWithUndo(base), 65536);
    u.disk.close();
    expect(fs.existsSync(undoFile)).toBe(true);
    expect(sameBytes(fs.readFileSync(base), before)).toBe(true);
    discardUndo(undoFile);
    expect(fs.existsSync(undoFile)).toBe(false);

    const kept = new ModelDisk(model.bytes.length, model.bytes);
    u.disk = openWithUndo(base);
    exercise(r, u, kept, 100, () => openWithUndo(base), 65536);
    u.disk.close();
    commitUndo(undoFile);
    expect(fs.existsSync(undoFile)).toBe(false);
    d = VhdDisk.open(base, { readOnly: true });
    expectMatches(d, kept);
    d.close();
  });
});
