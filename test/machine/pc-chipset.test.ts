// The PC with its chipset: what POST leaves on the PCI bus, booting from IDE disks and from an
// El Torito CD in the order asked for, and `soulvm run` with VHD disks, undo disks and bad input.
// The boot programs are a few hand-assembled bytes (listed next to each).
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc.ts';
import { VhdDisk, createVhd, IsoImage, RawDisk } from '../../src/disk/index.ts';
import { main } from '../../src/cli/main.ts';
import { readVhd } from '../disk/helpers.ts';

const MiB = 1 << 20;

/** A boot sector: `code` at 7C00h, the 55AAh signature. */
function bootSector(code: number[]): Uint8Array {
  const s = new Uint8Array(512);
  s.set(code);
  s[510] = 0x55; s[511] = 0xaa;
  return s;
}
/** mov dx,3F8h; mov al,CH; out dx,al; cli; hlt: one character on COM1, then stop. */
const say = (ch: string) => [0xba, 0xf8, 0x03, 0xb0, ch.charCodeAt(0), 0xee, 0xfa, 0xf4];
/**
 * xor ax,ax; mov ds,ax; mov es,ax; mov bx,7C00h; mov ax,0301h; mov cx,0005h; mov dh,0;
 * int 13h; then say 'W' (or 'E' when CF is set: jc): the boot sector writes itself to LBA 4.
 */
const writeSelfToLba4 = [
  0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0xbb, 0x00, 0x7c, 0xb8, 0x01, 0x03, 0xb9, 0x05, 0x00, 0xb6, 0x00,
  0xcd, 0x13, 0x72, 0x08, ...say('W'), ...say('E'),
];

function vhdWithBootSector(path: string, code: number[]): Uint8Array {
  createVhd(path, { type: 'dynamic', size: 4 * MiB });
  const d = VhdDisk.open(path);
  const sector = bootSector(code);
  d.write(0, sector);
  d.close();
  return sector;
}

/** An El Torito no-emulation CD whose boot image is `code`, made with xorriso. */
function bootIso(dir: string, code: number[]): string {
  const root = join(dir, 'isoroot');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'boot.bin'), bootSector(code));
  const iso = join(dir, 'cd.iso');
  const r = spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', iso, '-b', 'boot.bin', '-no-emul-boot', '-boot-load-size', '1', root]);
  if (r.status !== 0) throw new Error(`xorriso (Debian package xorriso) failed: ${r.stderr}`);
  return iso;
}

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'soulvm-pc-')); });

describe('PC with the 440BX/PIIX4 chipset', () => {
  it('leaves the IDE controller configured by POST: BAR4, bus mastering, PIRQ routing, $PIR and BIOS32', async () => {
    const disk = join(dir, 'pci.vhd');
    vhdWithBootSector(disk, say('P'));
    const m = new PcMachine({ hardDisks: [VhdDisk.open(disk)] });
    expect((await m.run({ maxInstructions: 5e6 })).stop).toBe('halted');
    expect(m.serialOutput).toBe('P');
    const cfg = (devfn: number, reg: number) => { m.io.write32(0xcf8, (0x80000000 | (devfn << 8) | reg) >>> 0); return m.io.read32(0xcfc) >>> 0; };
    expect(cfg(0x00, 0)).toBe(0x71908086);                        // 440BX host bridge
    expect(cfg(0x38, 0)).toBe(0x71108086);                        // PIIX4 ISA
    expect(cfg(0x39, 0)).toBe(0x71118086);                        // PIIX4 IDE
    expect(cfg(0x3b, 0)).toBe(0x71138086);                        // PIIX4 power management
    const bar4 = cfg(0x39, 0x20);
    expect(bar4 & 1).toBe(1);                                     // I/O space
    expect(bar4 & ~0xf).not.toBe(0);
    expect(cfg(0x39, 0x04) & 0x5).toBe(0x5);                      // I/O decode and bus master on
    expect(cfg(0x38, 0x60) & 0x80808080).toBe(0);                 // every PIRQ routed
    const area = m.mem.readBytes(0xf0000, 0x10000);
    const text = new TextDecoder('latin1').decode(area);
    expect(text).toContain('$PIR');
    expect(text).toContain('_32_');
    m.close();
  });

  it('boots the first bootable drive of the boot order: disk or CD', async () => {
    const disk = join(dir, 'order.vhd');
    vhdWithBootSector(disk, say('C'));
    const iso = bootIso(dir, say('D'));
    const boot = async (order: ('hd' | 'cdrom')[]) => {
      const m = new PcMachine({ hardDisks: [VhdDisk.open(disk)], cdrom: IsoImage.open(iso), bootOrder: order });
      const r = await m.run({ maxInstructions: 20e6 });
      m.close();
      return { stop: r.stop, out: m.serialOutput };
    };
    expect(await boot(['cdrom', 'hd'])).toEqual({ stop: 'halted', out: 'D' });
    expect(await boot(['hd', 'cdrom'])).toEqual({ stop: 'halted', out: 'C' });
    // An empty drive is skipped, and says why if nothing else boots.
    const m = new PcMachine({ cdrom: null, bootOrder: ['cdrom'] });
    expect((await m.run({ maxInstructions: 20e6 })).stop).toBe('boot-failed');
    expect(m.bios.bootFailureMessage()).toMatch(/CD-ROM: no disc/);
  });
});

describe('soulvm run with disks', () => {
  afterEach(() => { vi.restoreAllMocks(); });
  async function run(args: string[]): Promise<{ code: number; err: string; out: string }> {
    let err = '', out = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += typeof s === 'string' ? s : Buffer.from(s as Uint8Array).toString('latin1'); return true; });
    const code = await main(['run', '--clock', 'deterministic', ...args]);
    return { code, err, out };
  }

  it('writes through to a VHD, or into an undo disk that is discarded, kept or committed', async () => {
    const disk = join(dir, 'undo.vhd'), vud = join(dir, 'undo.vud');
    const sector0 = vhdWithBootSector(disk, writeSelfToLba4);
    const before = readFileSync(disk);
    const zero = new Uint8Array(512);

    let r = await run(['--hda', disk, '--undo']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/discarded the changes in .*undo\.vud/);
    expect(existsSync(vud)).toBe(false);
    expect(readFileSync(disk).equals(before)).toBe(true);

    r = await run(['--hda', disk, '--undo', '--keep-undo']);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(vud)).toBe(true);
    expect(readFileSync(disk).equals(before)).toBe(true);
    expect(readVhd(vud, 4)).toEqual(sector0);               // the session's write, in the .vud
    expect(readVhd(disk, 4)).toEqual(zero);

    r = await run(['--hda', disk, '--undo', '--commit']);       // goes on with the kept .vud
    expect(r.code, r.err).toBe(0);
    expect(existsSync(vud)).toBe(false);
    expect(readVhd(disk, 4)).toEqual(sector0);

    const plain = join(dir, 'plain.vhd');
    vhdWithBootSector(plain, writeSelfToLba4);
    r = await run(['--hda', plain]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('W');
    expect(readVhd(plain, 4)).toEqual(readVhd(plain, 0));
  });

  it('boots an ISO with --cdrom --boot d', async () => {
    const iso = bootIso(mkdtempSync(join(dir, 'cd-')), say('D'));
    const r = await run(['--cdrom', iso, '--boot', 'd']);
    expect(r).toMatchObject({ code: 0, out: 'D' });
  });

  it('rejects bad disks and flags with one line, leaving files as they were', async () => {
    expect(await run(['--hda', join(dir, 'missing.vhd')])).toEqual({ code: 1, err: `soulvm: disk image ${join(dir, 'missing.vhd')}: no such file\n`, out: '' });
    const bad = join(dir, 'bad.vhd');
    writeFileSync(bad, new Uint8Array(4096).fill(0x41));
    const badBytes = readFileSync(bad);
    const r = await run(['--hda', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^soulvm: [^\n]*bad\.vhd[^\n]*\n$/);
    expect(readFileSync(bad).equals(badBytes)).toBe(true);
    const raw = join(dir, 'raw.img');
    RawDisk.create(raw, MiB);
    expect(await run(['--hda', raw, '--undo'])).toMatchObject({ code: 1, err: expect.stringMatching(/--undo needs VHD disks/) });
    expect(await run(['--hda', raw, '--boot', 'x'])).toMatchObject({ code: 2, err: expect.stringMatching(/--boot takes the letters/) });
    expect(await run(['--hda', raw, '--boot', 'cc'])).toMatchObject({ code: 2 });
    expect(await run(['--hda', raw, '--commit'])).toMatchObject({ code: 2, err: expect.stringMatching(/go with --undo/) });
    expect(await run(['--cdrom', join(dir, 'nope.iso')])).toMatchObject({ code: 1, err: expect.stringMatching(/CD image .*nope\.iso: no such file/) });
  });
});
