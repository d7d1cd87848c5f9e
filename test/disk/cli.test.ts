// `soulvm disk` end to end, through bin/soulvm.mjs as a user runs it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VhdDisk, openDisk } from '../../src/disk/index.ts';
import { rng, run, sameBytes, soulvm, tempDir } from './helpers.ts';

const dir = tempDir('cli');
const at = (name: string): string => path.join(dir, name);

function ok(args: string[]): string {
  const r = soulvm(args, dir);
  if (r.status !== 0) throw new Error(`soulvm ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  expect(r.stderr).toBe(''); // piped: no progress bar
  return r.stdout;
}

function readAll(file: string): Uint8Array {
  const d = openDisk(file, { readOnly: true });
  const b = new Uint8Array(d.sectorCount * d.sectorSize);
  d.read(0, b);
  d.close();
  return b;
}

describe('soulvm disk', () => {
  it('create, info (human and JSON) for each type', () => {
    ok(['disk', 'create', '--type', 'fixed', '--size', '3M', 'f.vhd']);
    ok(['disk', 'create', '--size', '1.5G', '--block-size', '512K', 'd.vhd']);
    ok(['disk', 'create', '--parent', 'd.vhd', 'c.vhd']);
    const f = JSON.parse(ok(['disk', 'info', '--json', 'f.vhd']));
    expect(f).toMatchObject({ format: 'vhd', type: 'fixed', geometry: { heads: 4, sectorsPerTrack: 17 } });
    expect(f.virtualSize).toBeGreaterThanOrEqual(3 << 20);
    const d = JSON.parse(ok(['disk', 'info', '--json', 'd.vhd']));
    expect(d).toMatchObject({ type: 'dynamic', blockSize: 512 * 1024, allocatedBlocks: 0 });
    expect(d.virtualSize).toBeGreaterThanOrEqual(1.5 * 1024 ** 3);
    expect(d.fileSize).toBeLessThan(64 * 1024); // sparse: just the metadata
    const c = JSON.parse(ok(['disk', 'info', '--json', 'c.vhd']));
    expect(c).toMatchObject({ type: 'differencing', virtualSize: d.virtualSize, parent: { name: 'd.vhd', uniqueId: d.uniqueId, path: at('d.vhd') } });
    const human = ok(['disk', 'info', 'c.vhd']);
    expect(human).toMatch(/^format: +VHD differencing$/m);
    expect(human).toMatch(/^parent file: +.*d\.vhd$/m);
    // qemu agrees on the size soulvm chose.
    const q = JSON.parse(run('qemu-img', ['info', '-f', 'vpc', '--output=json', at('d.vhd')]).stdout);
    expect(q['virtual-size']).toBe(d.virtualSize);
  });

  it('convert raw -> dynamic -> fixed -> raw keeps every byte', () => {
    const data = rng(3).bytes(6 << 20);
    data.fill(0, 2 << 20, 4 << 20); // the second 2 MiB block is all zeros
    fs.writeFileSync(at('src.img'), data);
    ok(['disk', 'convert', 'src.img', 'dyn.vhd']);
    ok(['disk', 'convert', '--type', 'fixed', 'dyn.vhd', 'fix.vhd']);
    ok(['disk', 'convert', 'fix.vhd', 'back.raw']);
    const back = fs.readFileSync(at('back.raw'));
    expect(sameBytes(back.subarray(0, data.length), data)).toBe(true);
    expect(back.subarray(data.length).every((x) => x === 0)).toBe(true);
    expect(JSON.parse(ok(['disk', 'info', '--json', 'dyn.vhd']))).toMatchObject({ blocks: 4, allocatedBlocks: 2 }); // a hole (4 blocks: the size is rounded up to whole cylinders)
    const refused = soulvm(['disk', 'convert', 'src.img', 'dyn.vhd'], dir);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/already exists/);
  });

  it('merge a child into its parent, compact, check and resize', () => {
    ok(['disk', 'create', '--size', '8M', '--block-size', '64K', 'm.vhd']);
    const r = rng(4);
    let d = VhdDisk.open(at('m.vhd'));
    d.write(0, r.bytes(65536));
    d.close();
    ok(['disk', 'create', '--parent', 'm.vhd', 'm-child.vhd']);
    d = VhdDisk.open(at('m-child.vhd'));
    for (let i = 0; i < 50; i++) d.write(r.int(d.sectorCount - 8), r.bytes(8 * 512));
    d.write(0, new Uint8Array(65536)); // zeros over the parent's first block ...
    d.close();
    const expected = readAll(at('m-child.vhd'));
    expect(ok(['disk', 'merge', 'm-child.vhd'])).toMatch(/^merged \d+ sectors into .*m\.vhd$/m);
    expect(sameBytes(readAll(at('m.vhd')), expected)).toBe(true);
    expect(sameBytes(readAll(at('m-child.vhd')), expected)).toBe(true);
    const before = JSON.parse(ok(['disk', 'info', '--json', 'm.vhd'])).allocatedBlocks;
    expect(ok(['disk', 'compact', 'm.vhd'])).toMatch(/blocks kept, 1 dropped/); // ... and dropped once merged
    expect(JSON.parse(ok(['disk', 'info', '--json', 'm.vhd'])).allocatedBlocks).toBe(before - 1);
    expect(sameBytes(readAll(at('m-child.vhd')), expected)).toBe(true); // the child still opens and reads the same
    expect(ok(['disk', 'check', 'm.vhd'])).toMatch(/no errors/);
    ok(['disk', 'resize', 'm.vhd', '20M']);
    const grown = readAll(at('m.vhd'));
    expect(grown.length).toBeGreaterThanOrEqual(20 << 20);
    expect(sameBytes(grown.subarray(0, expected.length), expected)).toBe(true);
    const shrink = soulvm(['disk', 'resize', 'm.vhd', '1M'], dir);
    expect(shrink.status).toBe(1);
    expect(shrink.stderr).toMatch(/only growing is supported/);
    ok(['disk', 'merge', '--delete', 'm-child.vhd']);
    expect(fs.existsSync(at('m-child.vhd'))).toBe(false);
  });

  it('compact to a new file from a raw source', () => {
    const data = new Uint8Array(4 << 20);
    data.set(rng(5).bytes(1000), 3 << 20);
    fs.writeFileSync(at('sparse.img'), data);
    ok(['disk', 'compact', 'sparse.img', 'sparse.vhd']);
    const i = JSON.parse(ok(['disk', 'info', '--json', 'sparse.vhd']));
    expect(i.allocatedBlocks).toBe(1);
    expect(sameBytes(readAll(at('sparse.vhd')).subarray(0, data.length), data)).toBe(true);
  });

  it('check --repair restores a lost trailing footer; --json reports it', () => {
    ok(['disk', 'create', '--size', '2M', '--block-size', '4K', 'cut.vhd']);
    const d = VhdDisk.open(at('cut.vhd'));
    d.write(10, rng(6).bytes(4096));
    d.close();
    fs.truncateSync(at('cut.vhd'), fs.statSync(at('cut.vhd')).size - 512);
    const bad = soulvm(['disk', 'check', '--json', 'cut.vhd'], dir);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).problems[0]).toMatchObject({ severity: 'error', repairable: true });
    expect(ok(['disk', 'check', '--repair', 'cut.vhd'])).toMatch(/^repaired: the trailing footer is missing/m);
    expect(ok(['disk', 'check', 'cut.vhd'])).toMatch(/no errors/);
  });

  it('bad usage exits 2 with one line', () => {
    for (const args of [['disk', 'create', 'x.vhd'], ['disk', 'frobnicate'], ['disk', 'info'], ['disk', 'create', '--size', '12Q', 'x.vhd'],
      ['disk', 'convert', '--type', 'sparse', 'a.img', 'b.vhd'], ['disk', 'info', '--bogus', 'x.vhd']]) {
      const r = soulvm(args, dir);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(soulvm(['disk', '--help'], dir).stdout).toMatch(/usage: soulvm disk/);
  });
});
