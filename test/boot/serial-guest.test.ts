// The default guest's COM2 (ttyS1) on a Unix socket that soulvm serves: Linux's 8250 driver
// sees the carrier of the host peer come and go, 1 MiB goes guest → host and 32 KiB host →
// guest at 115200 baud byte for byte (md5 on both sides), and the port survives the peer
// disconnecting and reconnecting. One boot for all of it, and the same boot starts under real
// gdb on the built-in stub: held at the first instruction, a hardware breakpoint at the
// kernel's 32-bit entry (startup_32 at 1 MiB), registers and the boot_params it was handed,
// a single step, then detached to boot on.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcMachine } from '../../src/machine/pc.ts';
import { openCharBackend, type HostBackend } from '../../src/devices/char-host.ts';
import { defaultGuest, GUEST_READY } from './guest.ts';
import { GdbStub } from '../../src/debug/gdb-stub.ts';
import { Gdb } from '../debug/gdb.ts';
import { PROMPT, reportGuestOnFailure, sh } from './shell.ts';

const dir = mkdtempSync(join(tmpdir(), 'soulvm-com2-'));
const path = join(dir, 'com2');
let m: PcMachine;
let com2: HostBackend;
let peer: net.Socket;
let received: Buffer[] = [];

function connect(): Promise<net.Socket> {
  return new Promise((res, rej) => {
    const s = net.connect({ path }, () => res(s));
    s.once('error', rej);
    s.on('data', (d) => received.push(d));
  });
}

/** The modem lines /proc/tty/driver/serial shows for ttyS1. */
async function lines(): Promise<string> {
  const out = await sh(m, 'grep "^1:" /proc/tty/driver/serial');
  return /^1:.*$/m.exec(out)?.[0] ?? out;
}

beforeAll(async () => {
  com2 = await openCharBackend(`unix:${path},server`, { name: 'COM2', log: () => {} });
  const guest = defaultGuest();
  guest.cmdline += ' cryptomgr.notests';
  m = new PcMachine({ linux: guest, clock: 'deterministic', onReset: 'stop', rtcStart: new Date('2026-01-01T00:00:00Z'), serial: [null, com2] });
});
afterAll(async () => {
  peer?.destroy();
  await com2?.close();
  rmSync(dir, { recursive: true, force: true });
});

reportGuestOnFailure();
describe('COM2 on a Unix socket in the Debian guest', () => {
  it('carrier, 1 MiB out, 32 KiB in, reconnect', { timeout: 2_400_000 }, async () => {
    const stub = await GdbStub.start(m, { listen: `unix:${join(dir, 'gdb')}`, wait: true, log: () => {} });
    const booting = m.run({ until: /(serial8250|00:0\d): ttyS1 at I\/O 0x2f8 \(irq = 3.*is a 16550A/, maxInstructions: 20e9 });
    const gdb = new Gdb();
    try {
      await gdb.ok(`-target-select remote ${join(dir, 'gdb')}`);
      await gdb.stopped();
      expect(m.cpu.instructionCount).toBe(0);
      expect(await gdb.eval('$eip')).toBe('0xfff0');
      await gdb.ok('-break-insert -h *0x100000');
      const t0 = performance.now();
      await gdb.ok('-exec-continue');
      expect(await gdb.stopped(600_000)).toMatch(/reason="breakpoint-hit"/);
      console.log(`gdb: BIOS and the kernel's real-mode setup to startup_32 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      expect(await gdb.eval('$eip')).toBe('0x100000');
      expect(await gdb.eval('$cs_base')).toBe('0x0');
      expect(Number(await gdb.eval('(unsigned)$cr0')) & 0x80000001).toBe(1); // protected mode, paging still off
      // ESI points at the boot_params the setup code filled in: "HdrS" at offset 202h.
      expect(await gdb.eval('*(char (*)[4])($esi + 0x202)')).toBe('"HdrS"');
      await gdb.ok('-exec-step-instruction');                // cld
      expect(await gdb.stopped()).toMatch(/end-stepping-range/);
      expect(await gdb.eval('$eip')).toBe('0x100001');
      await gdb.ok('-break-delete');
      await gdb.ok('-target-detach');
    } finally { await gdb.quit(); }
    const r = await booting;
    expect(r.stop, m.serialOutput.slice(-2000)).toBe('found');
    await stub.close();
    expect(m.cpu.dr[7]).toBe(0x400);                        // the guest's own debug registers untouched
    expect((await m.run({ until: GUEST_READY, maxInstructions: 12e9 })).stop, m.serialOutput.slice(-3000)).toBe('found');
    expect((await m.run({ until: PROMPT, maxInstructions: 1e9 })).stop).toBe('found');
    // Nobody on the socket yet: no carrier (the driver reports CD and DSR only when present).
    expect(await lines()).not.toMatch(/\|CD|DSR/);
    peer = await connect();
    await sh(m, 'stty -F /dev/ttyS1 115200 raw -echo clocal -crtscts');
    // The peer's carrier; no RTS/DTR from the guest while nobody has the port open.
    expect(await lines()).toMatch(/ CTS\|DSR\|CD\s*$/);

    // Guest → host: 1 MiB of random data, md5 compared.
    const sizeOut = 1 << 20;
    const made = await sh(m, `head -c ${sizeOut} /dev/urandom > /tmp/out; md5sum /tmp/out`);
    const guestSum = /^([0-9a-f]{32})  \/tmp\/out/m.exec(made)![1];
    received = [];
    const t0 = performance.now(), i0 = m.cpu.instructionCount, v0 = m.clock.now();
    await sh(m, 'cat /tmp/out > /dev/ttyS1', 20e9);
    const got = () => received.reduce((n, b) => n + b.length, 0);
    for (let i = 0; i < 200 && got() < sizeOut; i++) await new Promise((r) => setTimeout(r, 10));
    const secs = (performance.now() - t0) / 1000, vsecs = (m.clock.now() - v0) / 1e9;
    const all = Buffer.concat(received);
    expect(all.length).toBe(sizeOut);
    expect(createHash('md5').update(all).digest('hex')).toBe(guestSum);
    console.log(`guest -> host: ${sizeOut / 1024} KiB in ${secs.toFixed(1)} s wall (${(sizeOut / 1024 / secs).toFixed(0)} KiB/s), ` +
      `${vsecs.toFixed(2)} s virtual, ${((m.cpu.instructionCount - i0) / 1e6).toFixed(0)} M instructions`);

    // Host → guest: 32 KiB, paced by the wire at 115200 baud in virtual time (the guest's tty
    // code, not the wire, sets the wall-clock speed: about 1 KiB/s on this 2-core machine).
    const sizeIn = 32 << 10;
    const data = Buffer.alloc(sizeIn);
    for (let i = 0; i < sizeIn; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
    await sh(m, `(head -c ${sizeIn} /dev/ttyS1 | md5sum > /tmp/sum) & sleep 1`);
    const t1 = performance.now(), v1 = m.clock.now();
    peer.write(data);
    const sum = await sh(m, 'wait; cat /tmp/sum', 40e9);
    const secsIn = (performance.now() - t1) / 1000, vIn = (m.clock.now() - v1) / 1e9;
    expect(sum).toContain(createHash('md5').update(data).digest('hex'));
    console.log(`host -> guest: ${sizeIn / 1024} KiB in ${secsIn.toFixed(1)} s wall (${(sizeIn / 1024 / secsIn).toFixed(0)} KiB/s), ` +
      `${vIn.toFixed(2)} s virtual (${(sizeIn / 1024 / vIn).toFixed(1)} KiB/s on the virtual wire)`);

    // The peer goes away: the guest sees carrier drop; it comes back and the port works again.
    peer.destroy();
    for (let i = 0; i < 50 && com2.connected!(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await lines()).not.toMatch(/\|CD|DSR/);
    received = [];
    peer = await connect();
    expect(await lines()).toMatch(/DSR\|CD/);
    await sh(m, 'echo back-again > /dev/ttyS1');
    for (let i = 0; i < 100 && !Buffer.concat(received).includes('back-again'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.concat(received).toString()).toContain('back-again');
    expect(m.serialOutput).not.toMatch(/Oops|BUG:|Call Trace|WARNING:|ttyS1: .*overrun/);
    expect(m.serialOutput).not.toMatch(/TSC unstable|Marking clocksource .* unstable/);
  });
});
