// `soulvm run` stopped by a signal (a child process, as a user's kill or a supervisor would
// stop it): the run ends as with Ctrl-A x, so the guest's writes reach the undo disk, which is
// then kept or discarded as asked, and the base VHD is untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOULVM, WRITE_THEN_SPIN, bootSectorVhd, readVhd } from '../disk/helpers.ts';




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
    const boot = bootSectorVhd(disk, WRITE_THEN_SPIN);
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
