// `soulvm run` stopped by a signal (a child process, as a user's kill or a supervisor would
// stop it): the run ends as with Ctrl-A x, so the guest's writes reach the undo disk, which is
// then kept or discarded as asked, and the base VHD is untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VhdDisk, createVhd } from '../../src/disk/index.ts';
import { SOULVM, readVhd } from '../disk/helpers.ts';


/**
 * xor ax,ax; mov ds,ax; mov es,ax; mov bx,7C00h; mov ax,0301h; mov cx,0005h; mov dh,0; int 13h
 * (the boot sector writes itself to LBA 4); mov dx,3F8h; mov al,'W'; out dx,al; jmp $ (and
 * runs until stopped).
 */
const writeThenSpin = [
  0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0xbb, 0x00, 0x7c, 0xb8, 0x01, 0x03, 0xb9, 0x05, 0x00, 0xb6, 0x00,
  0xcd, 0x13, 0xba, 0xf8, 0x03, 0xb0, 0x57, 0xee, 0xeb, 0xfe,
];


/** Run soulvm until the guest has written its sector (it prints 'W'), then send `signal`. */
function runAndSignal(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SOULVM, 'run', '--clock', 'deterministic', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.stdout.on('data', (b: Buffer) => { if (b.includes('W')) child.kill(signal); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, err }));
  });
}

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'soulvm-sig-')); });

describe('soulvm run and signals', () => {
  it('SIGINT and SIGTERM end the run with the undo disk flushed, then kept or discarded', async () => {
    const disk = join(dir, 'sig.vhd'), vud = join(dir, 'sig.vud');
    createVhd(disk, { type: 'dynamic', size: 4 << 20 });
    const boot = new Uint8Array(512);
    boot.set(writeThenSpin);
    boot[510] = 0x55; boot[511] = 0xaa;
    const d = VhdDisk.open(disk);
    d.write(0, boot);
    d.close();
    const before = readFileSync(disk);

    let r = await runAndSignal(['--hda', disk, '--undo', '--keep-undo'], 'SIGINT');
    expect(r.code, r.err).toBe(130);
    expect(r.err).toMatch(/stopped by SIGINT/);
    expect(r.err).toMatch(/kept the undo disk/);
    expect(readVhd(vud, 4)).toEqual(boot);                 // the write reached the .vud
    expect(readFileSync(disk).equals(before)).toBe(true);

    r = await runAndSignal(['--hda', disk, '--undo'], 'SIGTERM');
    expect(r.code, r.err).toBe(143);
    expect(r.err).toMatch(/discarded the changes/);
    expect(existsSync(vud)).toBe(false);
    expect(readFileSync(disk).equals(before)).toBe(true);
  }, 60_000);
});
