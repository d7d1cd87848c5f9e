// Bad input: each damaged or inconsistent file is rejected with a typed DiskError and a clear
// message, and is never written while being rejected (bytes and modification time unchanged).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskError, VhdDisk, check, createVhd, info, openDisk } from '../../src/disk/index.ts';
import { decodeHeader, encodeHeader } from '../../src/disk/vhd-format.ts';
import { newFooter, parentRecord, writeNewFile } from '../../src/disk/vhd.ts';
import { rng, soulvm, tempDir } from './helpers.ts';

const dir = tempDir('bad');
let n = 0;

/** A dynamic disk with some data, 64 KiB blocks. */
function dynamicDisk(name = `d${n++}.vhd`, type: 'dynamic' | 'fixed' = 'dynamic'): string {
  const file = path.join(dir, name);
  createVhd(file, { type, size: 4 << 20, blockSize: 65536 });
  const d = VhdDisk.open(file);
  const r = rng(n);
  for (let i = 0; i < 20; i++) d.write(r.int(d.sectorCount - 16), r.bytes(16 * 512));
  d.close();
  return file;
}

function patch(file: string, at: number, bytes: number[] | Uint8Array): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Uint8Array.from(bytes), 0, bytes.length, at);
  fs.closeSync(fd);
}

function patchHeader(file: string, edit: (h: ReturnType<typeof decodeHeader>) => void): void {
  const buf = fs.readFileSync(file);
  const h = decodeHeader(buf.subarray(512, 1536), file);
  edit(h);
  patch(file, 512, encodeHeader(h)); // with a correct checksum: only the edited field is wrong
}

function setBat(file: string, index: number, value: number): void {
  const h = decodeHeader(fs.readFileSync(file).subarray(512, 1536), file);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value);
  patch(file, h.tableOffset + 4 * index, b);
}

function firstAllocated(file: string): number[] {
  const d = VhdDisk.open(file, { readOnly: true });
  const out: number[] = [];
  for (let b = 0; b < d.blockCount; b++) if (d.blockOffset(b) >= 0) out.push(b);
  d.close();
  return out;
}

/**
 * Opening (read-write), `check` and (unless it can describe the file anyway) `info` reject the
 * file, and none of them writes to it.
 */
function expectRejected(file: string, code: string, message: RegExp, infoFails = true): void {
  const before = fs.readFileSync(file);
  const mtime = fs.statSync(file).mtimeMs;
  let err: unknown;
  try { openDisk(file).close(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(DiskError);
  expect((err as DiskError).code).toBe(code);
  expect((err as DiskError).message).toMatch(message);
  expect((err as DiskError).userFacing).toBe(true);
  const report = check(file);
  expect(report.ok).toBe(false);
  const checked = soulvm(['disk', 'check', file]);
  expect(checked.status).toBe(1);
  expect(checked.stdout).toMatch(/^error: /m);
  if (infoFails) {
    const cli = soulvm(['disk', 'info', file]);
    expect(cli.status).toBe(1);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(/^soulvm: /);
  }
  expect(fs.readFileSync(file).equals(before)).toBe(true);
  expect(fs.statSync(file).mtimeMs).toBe(mtime);
}

describe('damaged files', () => {
  it('a dynamic disk cut short in a block: truncated, repairable from the footer copy', () => {
    const file = dynamicDisk();
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 512 - 5000);
    expectRejected(file, 'truncated', /footer at the end of the file is missing.*copy at the start is intact/);
    const repaired = check(file, true);
    expect(repaired.repaired).toHaveLength(1);
    expect(check(file).ok).toBe(true);
    openDisk(file).close();
  });

  it('a fixed disk cut inside its footer: truncated', () => {
    const file = dynamicDisk(undefined, 'fixed');
    fs.truncateSync(file, fs.statSync(file).size - 100);
    expectRejected(file, 'truncated', /cut short: the file is truncated/);
  });

  it('a file shorter than a footer: truncated', () => {
    const file = path.join(dir, 'tiny.vhd');
    fs.writeFileSync(file, 'conectix');
    expectRejected(file, 'truncated', /too short to be a VHD/);
  });

  it('wrong footer cookie', () => {
    const file = dynamicDisk(undefined, 'fixed');
    patch(file, fs.statSync(file).size - 512, [0x78]);
    expectRejected(file, 'bad-cookie', /cookie is not 'conectix'/);
  });

  it('a raw image named .vhd: wrong cookie', () => {
    const file = path.join(dir, 'notvhd.vhd');
    fs.writeFileSync(file, Buffer.alloc(8192, 0x41));
    expectRejected(file, 'bad-cookie', /no VHD footer/);
  });

  it('wrong dynamic header cookie', () => {
    const file = dynamicDisk();
    patch(file, 512, [0x43]);
    expectRejected(file, 'bad-cookie', /dynamic disk header cookie/);
  });

  it('bad footer checksum (fixed disk, nothing to restore from)', () => {
    const file = dynamicDisk(undefined, 'fixed');
    patch(file, fs.statSync(file).size - 512 + 200, [1]);
    expectRejected(file, 'bad-checksum', /footer at the end of the file has checksum 0x[0-9a-f]{8}, computed/);
  });

  it('bad trailing footer checksum on a dynamic disk: rejected, then repaired from the copy', () => {
    const file = dynamicDisk();
    patch(file, fs.statSync(file).size - 512 + 48, [0x7f]); // the disk size
    expectRejected(file, 'bad-checksum', /damaged.*check --repair/);
    check(file, true);
    expect(check(file).ok).toBe(true);
  });

  it('a damaged footer copy at the start: the disk still opens; check reports it and --repair rewrites it', () => {
    const file = dynamicDisk();
    patch(file, 100, [0xee]);
    openDisk(file).close(); // the trailing footer is the one that counts
    const before = fs.readFileSync(file);
    const report = check(file);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ code: 'footer-copy', repairable: true });
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(check(file, true).repaired).toHaveLength(1);
    const after = fs.readFileSync(file);
    expect(after.subarray(0, 512).equals(after.subarray(after.length - 512))).toBe(true);
    expect(check(file).ok).toBe(true);
  });

  it('bad dynamic header checksum', () => {
    const file = dynamicDisk();
    patch(file, 512 + 700, [9]);
    expectRejected(file, 'bad-checksum', /dynamic disk header has checksum/);
  });

  it('a BAT entry beyond the end of the file', () => {
    const file = dynamicDisk();
    setBat(file, firstAllocated(file)[0], 0x00ffff00);
    expectRejected(file, 'bat-beyond-eof', /past the end of the data/);
  });

  it('the BAT itself beyond the end of the file', () => {
    const file = dynamicDisk();
    patchHeader(file, (h) => { h.tableOffset = 1 << 30; });
    expectRejected(file, 'bat-beyond-eof', /block allocation table at offset 1073741824 runs past the end/);
  });

  it('two BAT entries pointing at the same block', () => {
    const file = dynamicDisk();
    const [a, b] = firstAllocated(file);
    const d = VhdDisk.open(file, { readOnly: true });
    const off = d.blockOffset(a);
    d.close();
    setBat(file, b, off / 512);
    expectRejected(file, 'bat-overlap', /overlap/);
  });

  it('a BAT entry pointing into the metadata', () => {
    const file = dynamicDisk();
    setBat(file, firstAllocated(file)[0], 1); // sector 1: the dynamic header
    expectRejected(file, 'bat-overlap', /overlaps the dynamic header/);
  });

  it('a block size that is not a power of two', () => {
    const file = dynamicDisk();
    patchHeader(file, (h) => { h.blockSize = 3 * 65536; });
    expectRejected(file, 'bad-block-size', /block size 196608 is not a power of two/);
  });

  it('creating with a block size that is not a power of two is refused before any file appears', () => {
    const file = path.join(dir, 'bs.vhd');
    expect(() => createVhd(file, { type: 'dynamic', size: 1 << 20, blockSize: 3000 })).toThrow(/not a power of two/);
    expect(fs.existsSync(file)).toBe(false);
    const cli = soulvm(['disk', 'create', '--size', '1M', '--block-size', '3000', file]);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/block size 3000 is not a power of two/);
  });
});

describe('differencing chains', () => {
  function chain(tag: string): { base: string; child: string } {
    const base = dynamicDisk(`${tag}-base.vhd`);
    const child = path.join(dir, `${tag}-child.vhd`);
    createVhd(child, { type: 'differencing', parent: base });
    return { base, child };
  }

  it('a missing parent', () => {
    const { base, child } = chain('missing');
    fs.renameSync(base, base + '.moved');
    expectRejected(child, 'parent-missing', /parent 'missing-base.vhd' not found \(looked at .*missing-base.vhd/, false);
  });

  it('a parent moved together with the child is found by name', () => {
    const { base, child } = chain('moved');
    const sub = path.join(dir, 'elsewhere');
    fs.mkdirSync(sub);
    const st = fs.statSync(base);
    fs.renameSync(base, path.join(sub, path.basename(base)));
    fs.renameSync(child, path.join(sub, path.basename(child)));
    fs.utimesSync(path.join(sub, path.basename(base)), st.atime, st.mtime);
    const d = VhdDisk.open(path.join(sub, path.basename(child)));
    expect(d.parentPath).toBe(path.join(sub, path.basename(base)));
    d.close();
  });

  it('a parent replaced by another disk of the same name', () => {
    const { base, child } = chain('replaced');
    fs.unlinkSync(base);
    createVhd(base, { type: 'dynamic', size: 4 << 20 });
    expectRejected(child, 'parent-changed', /not the disk this one was made from.*unique id/, false);
  });

  it('a parent modified after the child was made', () => {
    const { base, child } = chain('modified');
    const t = fs.statSync(base).mtime;
    fs.utimesSync(base, t, new Date(t.getTime() + 60_000));
    expectRejected(child, 'parent-changed', /was modified after this differencing disk was created/, false);
    const d = VhdDisk.open(child, { readOnly: true, ignoreParentTimestamp: true }); // the explicit override
    d.close();
  });

  it('a chain that loops', () => {
    const { base, child } = chain('loop');
    // Make the base a differencing disk over its own child, keeping the base's identity.
    const id = VhdDisk.open(base, { readOnly: true });
    const uniqueId = id.uniqueId;
    id.close();
    const looped = path.join(dir, 'loop-new.vhd');
    createVhd(looped, { type: 'differencing', parent: child, uniqueId });
    const st = fs.statSync(base);
    fs.renameSync(looped, base);
    fs.utimesSync(base, st.atime, st.mtime);
    expectRejected(child, 'parent-loop', /chain loops: .*loop-child.vhd -> .*loop-base.vhd -> .*loop-child.vhd/, false);
  });

  it('info reports an unusable parent instead of failing', () => {
    const { base, child } = chain('info');
    fs.unlinkSync(base);
    const i = info(child);
    expect(i.type).toBe('differencing');
    expect(i.parent?.error).toMatch(/not found/);
  });
});

describe('parent locators', () => {
  // Each form alone finds the parent: the child sits in a subdirectory, so neither the parent's
  // bare name beside the child nor any other locator would.
  for (const code of ['W2ru', 'W2ku', 'MacX']) {
    it(`${code} alone resolves the parent`, () => {
      const base = dynamicDisk(`loc-${code}.vhd`);
      const sub = path.join(dir, `loc-${code}`);
      fs.mkdirSync(sub);
      const child = path.join(sub, 'child.vhd');
      const p = VhdDisk.open(base, { readOnly: true });
      const record = parentRecord(child, base, p);
      p.close();
      record.locators = record.locators.filter((l) => l.code === code);
      writeNewFile(child, { footer: newFooter('differencing', 4 << 20), blockSize: 65536, parent: record });
      const d = VhdDisk.open(child);
      expect(d.parentPath).toBe(base);
      d.close();
      record.locators = [];
      const orphan = path.join(sub, 'orphan.vhd');
      writeNewFile(orphan, { footer: newFooter('differencing', 4 << 20), blockSize: 65536, parent: record });
      expect(() => VhdDisk.open(orphan)).toThrow(/not found/);
    });
  }
});
