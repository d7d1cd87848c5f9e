// `soulvm run --com2 unix:PATH,server` as a user runs it: it says where it listens, a peer that
// connects talks to the guest (a boot sector echoing COM2 input back plus one), disconnects and
// reconnects to find the port still there; bad backends are one clear line and exit status 1.
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SOULVM } from '../disk/helpers.ts';

/** mov dx,2FDh; wait DR; in al,2F8h; inc al; wait THRE; out 2F8h,al; jmp back (32 bytes). */
const echoPlusOne = [
  0xba, 0xfd, 0x02, 0xec, 0xa8, 0x01, 0x74, 0xfb, 0xba, 0xf8, 0x02, 0xec,
  0xfe, 0xc0, 0x88, 0xc3, 0xba, 0xfd, 0x02, 0xec, 0xa8, 0x20, 0x74, 0xfb,
  0xba, 0xf8, 0x02, 0x88, 0xd8, 0xee, 0xeb, 0xe0,
];
const dir = mkdtempSync(join(tmpdir(), 'soulvm-cliser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function floppy(): string {
  const img = new Uint8Array(1474560);
  img.set(echoPlusOne);
  img[510] = 0x55; img[511] = 0xaa;
  const path = join(dir, 'echo.img');
  writeFileSync(path, img);
  return path;
}

async function exchange(path: string, text: string): Promise<string> {
  const s = net.connect({ path });
  let got = '';
  s.on('data', (d) => { got += d.toString('latin1'); });
  await new Promise<void>((r, j) => { s.once('connect', () => r()); s.once('error', j); });
  s.write(text);
  const t0 = Date.now();
  while (got.length < text.length && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 20));
  s.destroy();
  return got;
}

describe('soulvm run with serial backends', () => {
  it('serves COM2 on a Unix socket across a reconnect, and reports bad backends', async () => {
    const sock = join(dir, 'com2');
    const child = spawn(process.execPath, [SOULVM, 'run', '--fda', floppy(), '--com1', 'null', '--com2', `unix:${sock},server`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const t0 = Date.now();
      while (!err.includes('listening') && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 20));
      expect(err).toContain(`soulvm: COM2 listening on unix socket ${sock} (mode 0600)`);
      expect(statSync(sock).mode & 0o777).toBe(0o600);
      expect(await exchange(sock, 'HAL')).toBe('IBM');
      expect(await exchange(sock, '0123456789'.repeat(20))).toBe('123456789:'.repeat(20)); // the port is still there
      expect(err).toMatch(/peer disconnected/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(143);
    expect(() => statSync(sock)).toThrow();                 // the socket is removed at exit

    const bad = spawnSync(process.execPath, [SOULVM, 'run', '--fda', floppy(), '--com3', `unix:${join(dir, 'missing', 's')},server`], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^soulvm: COM3: directory .*missing does not exist/);
    const two = spawnSync(process.execPath, [SOULVM, 'run', '--fda', floppy(), '--com2', 'stdio', '--com3', 'stdio'], { encoding: 'utf8' });
    expect(two.status).toBe(2);
    expect(two.stderr).toMatch(/only one COM port can be on stdio/);
  }, 60000);
});

describe('PcMachine.attachSerial', () => {
  it('attaches, replaces and detaches a port while the machine runs', async () => {
    const { PcMachine } = await import('../../src/machine/pc.ts');
    const { RawDisk } = await import('../../src/disk/raw.ts');
    const m = new PcMachine({ floppies: [RawDisk.open(floppy())], clock: 'host' });
    const running = m.run({ timeoutMs: 30000 });
    try {
      const sock = join(dir, 'hot');
      const first = await m.attachSerial(1, `unix:${sock},server`, { log: () => {} });
      expect(await exchange(sock, 'abc')).toBe('bcd');
      // Replace it with a TCP server: the socket file goes away with the old backend.
      const tcp = await m.attachSerial(1, 'tcp::0,server', { log: () => {} }) as unknown as { port: number };
      expect(() => statSync(sock)).toThrow();
      expect(m.serialBackend(1)).not.toBe(first);
      const s = net.connect({ host: '127.0.0.1', port: tcp.port });
      let got = '';
      s.on('data', (d) => { got += d.toString(); });
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.write('xyz');
      const t0 = Date.now();
      while (got.length < 3 && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 20));
      expect(got).toBe('yz{');
      await m.attachSerial(1, null);                       // detached: the peer is let go
      await new Promise<void>((r) => { if (s.destroyed) r(); else s.once('close', () => r()); });
      await expect(m.attachSerial(1, 'unix:/nonexistent-dir/s,server')).rejects.toThrow(/COM2: directory \/nonexistent-dir does not exist/);
      expect(m.serialBackend(1)).toBe(null);               // a failed attach leaves the port as it was
    } finally {
      m.stop();
      await running;
      await m.closeSerial();
    }
  }, 60000);
});
