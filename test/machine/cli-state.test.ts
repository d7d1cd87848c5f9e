// `soulvm run --state FILE`, Virtual Server's "Save State" on the command line: SIGUSR1 (or
// Ctrl-A s on a terminal) saves the running machine and ends the run with its undo disk kept;
// the same command resumes it where it was (no second boot) and, when that run ends, the state
// is used up. A damaged state file is refused in one line and left as it was.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOULVM, WRITE_THEN_SPIN, bootSectorVhd, readVhd } from '../disk/helpers.ts';


/** Run soulvm; send `signal` once `ready(stdout, stderr)` holds. */
function run(args: string[], signal: NodeJS.Signals, ready: (out: string, err: string) => boolean): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SOULVM, 'run', '--clock', 'deterministic', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '', sent = false;
    const check = () => { if (!sent && ready(out, err)) { sent = true; setTimeout(() => child.kill(signal), 300); } };
    child.stdout.on('data', (b: Buffer) => { out += b.toString('latin1'); check(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); check(); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'soulvm-cli-state-')); });

describe('soulvm run --state', () => {
  it('saves on SIGUSR1 keeping the undo disk, resumes without booting again, and refuses a damaged file keeping the undo disk', async () => {
    const disk = join(dir, 'lab.vhd'), vud = join(dir, 'lab.vud'), state = join(dir, 'lab.vsv');
    const boot = bootSectorVhd(disk, WRITE_THEN_SPIN);
    const args = ['--hda', disk, '--undo', '--state', state];

    let r = await run(args, 'SIGUSR1', (out) => out.includes('W'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/saved the machine to .*lab\.vsv/);
    expect(r.err).toMatch(/kept the undo disk .*lab\.vud with the saved state/);
    expect(existsSync(state)).toBe(true);
    expect(readVhd(vud, 4)).toEqual(boot);                  // the guest's write, kept with the state

    // Resumed: the guest goes on spinning where it was; a fresh boot would print 'W' again.
    r = await run(args, 'SIGUSR1', (_out, err) => err.includes('resumed from'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/resumed from .*lab\.vsv/);
    expect(r.out).not.toContain('W');
    expect(existsSync(state)).toBe(true);

    // A damaged state: one line, nothing run, the file left as it was.
    const bytes = readFileSync(state);
    bytes[bytes.length >> 1] ^= 0x40;
    writeFileSync(state, bytes);
    r = await run(args, 'SIGTERM', () => false);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^soulvm: saved state: section "\w+" is damaged \(checksum mismatch\)$/m);
    expect(readFileSync(state).equals(bytes)).toBe(true);
    expect(readVhd(vud, 4)).toEqual(boot);                  // the saved machine's undo disk is kept too
  }, 60_000);
});
