// Interop with qemu-img/qemu-io (Debian qemu-utils), the real peer: images qemu makes read back
// byte-identical here, and qemu reads back exactly what soulvm wrote.
// qemu 7.2's vpc driver has no backing-file support (it reads a differencing VHD as if it were
// dynamic, ignoring the sector bitmaps) and `qemu-img check` does not support vpc, so:
//  - a soulvm differencing disk is checked by qemu seeing exactly the sectors the child holds,
//    and its chain by qemu reading soulvm's flattened conversion;
//  - "qemu accepts the structure" is checked by qemu-io writing into soulvm-made disks
//    (allocating blocks after ours) and both sides reading the result identically.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VhdDisk, chsGeometry, convert, createVhd, openDisk } from '../../src/disk/index.ts';
import { ModelDisk, rng, run, sameBytes, tempDir } from './helpers.ts';

const dir = tempDir('qemu');

function qemu(args: string[]): string {
  const r = run('qemu-img', args);
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function qemuIo(file: string, cmds: string[]): void {
  const r = run('qemu-io', ['-f', 'vpc', ...cmds.flatMap((c) => ['-c', c]), file]);
  if (r.status !== 0 || /error|failed/i.test(r.stdout + r.stderr)) throw new Error(`qemu-io failed: ${r.stdout}${r.stderr}`);
}

/** What qemu reads from a VHD, as raw bytes. */
function qemuRaw(file: string): Buffer {
  const out = file + `.${Math.random().toString(36).slice(2)}.qraw`;
  qemu(['convert', '-f', 'vpc', '-O', 'raw', file, out]);
  const b = fs.readFileSync(out);
  fs.unlinkSync(out);
  return b;
}

function soulvmRead(file: string, opts = {}): Uint8Array {
  const d = openDisk(file, { readOnly: true, ...opts });
  const all = new Uint8Array(d.sectorCount * d.sectorSize);
  d.read(0, all);
  d.close();
  return all;
}

/** Random data with runs of zeros, so that dynamic outputs have holes. */
function rawWithHoles(seed: number, size: number): Uint8Array {
  const r = rng(seed);
  const b = r.bytes(size);
  for (let k = 0; k < 6; k++) {
    const at = r.int(size);
    b.fill(0, at, Math.min(size, at + r.int(3 << 20)));
  }
  return b;
}

describe('disks made by qemu read back identically', () => {
  for (const subformat of ['fixed', 'dynamic']) {
    it(`qemu-img create -f vpc -o subformat=${subformat}, written by qemu-io`, () => {
      const file = path.join(dir, `q-${subformat}.vhd`);
      qemu(['create', '-q', '-f', 'vpc', '-o', `subformat=${subformat}`, file, '7M']);
      qemuIo(file, ['write -P 0x5a 0 4k', 'write -P 0xa5 2095616 8k', 'write -P 0x33 6M 64k']);
      const ours = soulvmRead(file);
      const theirs = qemuRaw(file);
      expect(ours.length).toBe(theirs.length);
      expect(sameBytes(ours, theirs)).toBe(true);
      expect(ours[2095616 + 100]).toBe(0xa5);
      // Geometry and size follow the spec's CHS algorithm, as qemu computed them.
      const g = chsGeometry(ours.length);
      expect(g.cylinders * g.heads * g.sectorsPerTrack * 512).toBe(ours.length);
    });
  }

  for (const [i, opts] of ['subformat=dynamic', 'subformat=fixed', 'subformat=dynamic,force_size=on'].entries()) {
    it(`qemu-img convert -O vpc -o ${opts}`, () => {
      const size = (5 << 20) + 512 * 37;
      const raw = path.join(dir, `src-${i}.img`);
      const data = rawWithHoles(100 + i, size);
      fs.writeFileSync(raw, data);
      const vhd = path.join(dir, `conv-${i}.vhd`);
      qemu(['convert', '-f', 'raw', '-O', 'vpc', '-o', opts, raw, vhd]);
      const ours = soulvmRead(vhd);
      expect(ours.length).toBeGreaterThanOrEqual(size); // qemu rounds up to whole CHS cylinders unless forced
      expect(sameBytes(ours.subarray(0, size), data)).toBe(true);
      expect(ours.subarray(size).every((x) => x === 0)).toBe(true);
      expect(sameBytes(ours, qemuRaw(vhd))).toBe(true);
    });
  }
});

describe('disks made by soulvm read back identically in qemu', () => {
  const cases: { type: 'fixed' | 'dynamic'; blockSize?: number }[] = [
    { type: 'fixed' }, { type: 'dynamic', blockSize: 4096 }, { type: 'dynamic', blockSize: 65536 }, { type: 'dynamic' },
  ];
  for (const c of cases) {
    it(`${c.type}${c.blockSize ? ` with ${c.blockSize}-byte blocks` : ''}: random writes, then qemu reads and writes`, () => {
      const r = rng(c.blockSize ?? 7);
      const file = path.join(dir, `s-${c.type}-${c.blockSize ?? 'default'}.vhd`);
      createVhd(file, { type: c.type, size: 9 << 20, blockSize: c.blockSize });
      const disk = VhdDisk.open(file);
      const model = new ModelDisk(disk.sectorCount * 512);
      for (let k = 0; k < 300; k++) {
        const count = 1 + r.int(40);
        const sector = r.int(disk.sectorCount - count);
        const data = r.bytes(count * 512);
        disk.write(sector, data);
        model.write(sector, data);
      }
      disk.close();

      const info = JSON.parse(qemu(['info', '-f', 'vpc', '--output=json', file]));
      expect(info['virtual-size']).toBe(model.bytes.length);
      expect(sameBytes(qemuRaw(file), model.bytes)).toBe(true);
      expect(run('qemu-img', ['compare', '-q', '-f', 'vpc', '-F', 'raw', file, writeTemp(model.bytes)]).status).toBe(0);

      // qemu extends our file with blocks of its own; both then read the same bytes.
      qemuIo(file, ['write -P 0x42 0 1k', `write -P 0x24 ${model.bytes.length - 65536} 65536`, 'write -P 0x99 3M 12k']);
      model.bytes.fill(0x42, 0, 1024);
      model.bytes.fill(0x24, model.bytes.length - 65536);
      model.bytes.fill(0x99, 3 << 20, (3 << 20) + 12288);
      expect(sameBytes(soulvmRead(file), model.bytes)).toBe(true);
      expect(sameBytes(qemuRaw(file), model.bytes)).toBe(true);
    });
  }

  it('differencing disk: qemu sees the sectors the child holds; the flattened chain reads the same', () => {
    const r = rng(5);
    const base = path.join(dir, 'd-base.vhd');
    const child = path.join(dir, 'd-child.vhd');
    createVhd(base, { type: 'dynamic', size: 6 << 20, blockSize: 65536 });
    let d = VhdDisk.open(base);
    const model = new ModelDisk(d.sectorCount * 512);
    for (let k = 0; k < 100; k++) {
      const s = r.int(d.sectorCount - 16);
      const data = r.bytes(16 * 512);
      d.write(s, data);
      model.write(s, data);
    }
    d.close();
    createVhd(child, { type: 'differencing', parent: base, blockSize: 65536 });
    d = VhdDisk.open(child);
    const own = new ModelDisk(model.bytes.length);
    for (let k = 0; k < 100; k++) {
      const s = r.int(d.sectorCount - 8);
      const data = r.bytes(8 * 512);
      d.write(s, data);
      model.write(s, data);
      own.write(s, data);
    }
    d.close();
    expect(sameBytes(soulvmRead(child), model.bytes)).toBe(true);
    expect(sameBytes(qemuRaw(child), own.bytes)).toBe(true);
    expect(sameBytes(soulvmRead(child, { noParent: true }), own.bytes)).toBe(true);
    for (const type of ['dynamic', 'fixed'] as const) {
      const flat = path.join(dir, `d-flat-${type}.vhd`);
      convert(child, flat, { type });
      expect(sameBytes(qemuRaw(flat), model.bytes)).toBe(true);
    }
  });
});

let temps = 0;
function writeTemp(bytes: Uint8Array): string {
  const f = path.join(dir, `model-${temps++}.raw`);
  fs.writeFileSync(f, bytes);
  return f;
}
