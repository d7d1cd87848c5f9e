// Serial backends on real host sockets, FIFOs and files, driven through a real 16550A: data both
// ways byte for byte, back-pressure instead of loss when either side is slow, carrier (DCD/DSR/
// CTS) following the peer across disconnects, and the safety rules for paths and addresses.
import net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, openSync, closeSync, constants as fsc } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Uart } from '../../src/devices/uart.ts';
import { openCharBackend, CharBackendError, MAX_UNIX_PATH, type HostBackend, type SocketBackend } from '../../src/devices/char-host.ts';
import { Rig, TestLine } from './helpers.ts';

const B = 0x2f8;
const [RBR, IER, IIR, LCR, MCR, LSR, MSR] = [0, 1, 2, 3, 4, 5, 6].map(i => B + i);
const dir = mkdtempSync(join(tmpdir(), 'soulvm-serial-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opened: HostBackend[] = [];
const peers: net.Socket[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  for (const b of opened.splice(0)) await b.close();
});

async function open(spec: string, log: string[] = []): Promise<HostBackend> {
  const b = await openCharBackend(spec, { name: 'COM2', log: m => log.push(m) });
  opened.push(b);
  return b;
}

/** A 16550A on the backend, set up as Linux does (115200 8N1, FIFO, OUT2, all interrupts). */
function guest(backend: HostBackend, options: { paceTransmit?: boolean } = {}) {
  const rig = new Rig();
  const irq = new TestLine();
  const uart = new Uart(rig.io, B, irq, rig.scheduler, backend, options);
  rig.out8(LCR, 0x83); rig.out8(B, 1); rig.out8(B + 1, 0); rig.out8(LCR, 0x03);
  rig.out8(B + 2, 0xc7); rig.out8(MCR, 0x0b); rig.out8(IER, 0x0f);
  const received: number[] = [];
  return {
    rig, irq, uart, received,
    /** Write as a driver does: only while THRE says there is room. Returns how many went. */
    send(data: Uint8Array, from: number): number {
      let n = from;
      while (n < data.length && rig.in8(LSR) & 0x20) for (let k = 0; k < 16 && n < data.length; k++) rig.out8(B, data[n++]);
      return n;
    },
    /** Let one burst of characters arrive and read what is there. */
    receive(chars = 16): void {
      rig.runFor(uart.charTimeNs * chars);
      while (rig.in8(LSR) & 0x01) received.push(rig.in8(RBR));
    },
    carrier(): number { return rig.in8(MSR); },
  };
}

const turn = () => new Promise<void>(r => setImmediate(r));
async function until(what: string, cond: () => boolean, step: () => void = () => {}, ms = 15000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    step();
    await turn();
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
  }
}

function pattern(n: number, seed: number): Uint8Array {
  const a = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; a[i] = x >>> 24; }
  return a;
}

function connectUnix(path: string): Promise<net.Socket> {
  return new Promise((res, rej) => {
    const s = net.connect({ path }, () => res(s));
    s.once('error', rej);
    peers.push(s);
  });
}

function collect(s: net.Socket): number[] {
  const got: number[] = [];
  s.on('data', d => { for (const b of d) got.push(b); });
  return got;
}

describe('serial backends on host sockets', () => {
  it('unix server: 0600 socket, data both ways, carrier drops and returns across a reconnect', async () => {
    const path = join(dir, 'com2');
    const log: string[] = [];
    const b = await open(`unix:${path},server`, log);
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(log.join('\n')).toContain(`COM2 listening on unix socket ${path}`);
    const g = guest(b);
    expect(g.carrier() & 0xb0).toBe(0);                     // nobody there: no DCD, DSR, CTS
    g.send(Uint8Array.of(1, 2, 3), 0);                      // goes nowhere, blocks nothing
    expect(g.rig.in8(LSR) & 0x60).toBe(0x60);

    let peer = await connectUnix(path);
    let got = collect(peer);
    await until('carrier', () => (g.uart.msr & 0x0b) === 0x0b); // DCTS, DDSR, DDCD latched
    expect(g.rig.in8(IIR) & 0x0f).toBe(0x02);               // THRE (from the send above) comes first,
    expect(g.irq.level).toBe(true);
    expect(g.rig.in8(IIR) & 0x0f).toBe(0x00);               // then the modem-status interrupt
    expect(g.carrier()).toBe(0xbb);                         // DCD DSR CTS with their deltas
    expect(g.carrier()).toBe(0xb0);                         // deltas clear on read
    expect(g.irq.level).toBe(false);
    const out = pattern(5000, 1), inp = pattern(3000, 2);
    let sent = 0;
    peer.write(inp);
    await until('both directions', () => got.length === out.length && g.received.length === inp.length, () => { sent = g.send(out, sent); g.receive(); });
    expect(Buffer.from(got).equals(Buffer.from(out))).toBe(true);
    expect(Buffer.from(g.received).equals(Buffer.from(inp))).toBe(true);

    peer.destroy();
    await until('carrier down', () => (g.carrier() & 0xb0) === 0, () => {}, 5000);
    expect(log.join('\n')).toMatch(/peer disconnected .*carrier down/);

    peer = await connectUnix(path);                          // the port is still there
    got = collect(peer);
    await until('carrier again', () => (g.carrier() & 0xb0) === 0xb0);
    g.received.length = 0;
    peer.write('again');
    sent = 0;
    const more = new TextEncoder().encode('still here');
    await until('data after reconnect', () => got.length === more.length && g.received.length === 5, () => { sent = g.send(more, sent); g.receive(); });
    expect(Buffer.from(got).toString()).toBe('still here');
    expect(String.fromCharCode(...g.received)).toBe('again');
    expect((b as SocketBackend).connections).toBe(2);

    // A guest reboot resets the UART, not the line: the peer stays attached, carrier stays up.
    g.uart.reset();
    g.rig.out8(LCR, 0x83); g.rig.out8(B, 1); g.rig.out8(B + 1, 0); g.rig.out8(LCR, 0x03); g.rig.out8(B + 2, 0xc7);
    expect(g.carrier() & 0xb0).toBe(0xb0);
    got.length = 0;
    sent = 0;
    const boot = new TextEncoder().encode('rebooted');
    await until('data after reset', () => got.length === boot.length, () => { sent = g.send(boot, sent); });
    expect(Buffer.from(got).toString()).toBe('rebooted');
  });

  it('a slow host holds the transmitter (THRE clear) instead of dropping: 2 MiB in order', async () => {
    const path = join(dir, 'slow');
    const b = await open(`unix:${path},server`);
    const g = guest(b);
    const peer = await connectUnix(path);
    await until('carrier', () => (g.carrier() & 0xb0) === 0xb0);
    peer.pause();                                            // the host stops reading
    const data = pattern(2 << 20, 3);
    let sent = 0;
    for (let i = 0; i < 200; i++) { sent = g.send(data, sent); await turn(); }
    expect(sent).toBeLessThan(data.length);                  // the guest was held ...
    expect(g.rig.in8(LSR) & 0x40).toBe(0);                   // ... with a byte in the transmitter
    const got = collect(peer);
    peer.resume();
    await until('all output', () => got.length === data.length, () => { sent = g.send(data, sent); }, 30000);
    expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
  });

  it('the same with transmission paced at 115200 baud: a held character waits in the shift register', async () => {
    const path = join(dir, 'slow-paced');
    const b = await open(`unix:${path},server`);
    const g = guest(b, { paceTransmit: true });
    const peer = await connectUnix(path);
    await until('carrier', () => (g.carrier() & 0xb0) === 0xb0);
    peer.pause();
    const data = pattern(1 << 20, 5);
    let sent = 0;
    const pump = () => { for (let k = 0; k < 128; k++) { sent = g.send(data, sent); g.rig.runFor(g.uart.charTimeNs * 16); } };
    // Until the host's buffers are full: then the guest cannot send more, however long it waits.
    let last = -1;
    for (let i = 0; i < 400 && sent !== last; i++) { last = sent; pump(); await turn(); pump(); }
    expect(sent).toBeLessThan(data.length);
    g.rig.runFor(g.uart.charTimeNs * 1000);                  // 1000 character times, nothing moves:
    expect(g.rig.in8(LSR) & 0x60).toBe(0);                   // THRE and TEMT clear, the transmitter held
    expect(g.send(data, sent)).toBe(sent);
    const got = collect(peer);
    peer.resume();
    await until('all output', () => got.length === data.length, pump, 60000);
    expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
  });

  it('a flooding host is paused, not dropped, while the guest reads slowly: 1 MiB in order', async () => {
    const path = join(dir, 'flood');
    const b = await open(`unix:${path},server`);
    const g = guest(b);
    const peer = await connectUnix(path);
    await until('carrier', () => (g.carrier() & 0xb0) === 0xb0);
    const data = pattern(1 << 20, 4);
    peer.write(data);
    let maxQueued = 0;
    await until('all input', () => g.received.length === data.length, () => {
      g.receive(64);
      maxQueued = Math.max(maxQueued, g.uart.pendingInput);
    }, 60000);
    expect(Buffer.from(g.received).equals(Buffer.from(data))).toBe(true);
    expect(maxQueued).toBeLessThan(256 * 1024);              // the socket was paused long before 1 MiB
  });

  it('refuses a second peer while one is attached, and the first goes on working', async () => {
    const path = join(dir, 'second');
    const log: string[] = [];
    const b = await open(`unix:${path},server`, log);
    const g = guest(b);
    const first = await connectUnix(path);
    const got = collect(first);
    await until('carrier', () => (g.carrier() & 0xb0) === 0xb0);
    const second = await connectUnix(path);
    await new Promise<void>(r => second.once('close', () => r()));
    expect(log.join('\n')).toContain('refused a second connection');
    let sent = 0;
    const msg = new TextEncoder().encode('first wins');
    await until('data', () => got.length === msg.length, () => { sent = g.send(msg, sent); });
    expect(Buffer.from(got).toString()).toBe('first wins');
  });

  it('garbage and closing mid-stream leave the port working', async () => {
    const path = join(dir, 'garbage');
    const b = await open(`unix:${path},server`);
    const g = guest(b);
    for (let round = 0; round < 3; round++) {
      const peer = await connectUnix(path);
      await until('carrier', () => (g.carrier() & 0xb0) === 0xb0);
      peer.write(pattern(777, round));
      peer.destroy();                                        // gone before the guest read anything
      await until('carrier down', () => (g.carrier() & 0xb0) === 0, () => g.receive());
    }
    await until('the bytes already sent', () => g.received.length === 3 * 777, () => g.receive());
    expect(Buffer.from(g.received.slice(777, 1554)).equals(Buffer.from(pattern(777, 1)))).toBe(true);
  });

  it('safety: refuses existing files, live sockets, missing directories, long paths; replaces a stale socket', async () => {
    const file = join(dir, 'regular');
    writeFileSync(file, 'keep me');
    await expect(openCharBackend(`unix:${file},server`, { name: 'COM2', log: () => {} })).rejects.toThrow(/exists and is not a socket; refusing/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    await expect(openCharBackend(`unix:${join(dir, 'nope', 's')},server`, { name: 'COM2', log: () => {} })).rejects.toThrow(/directory .*nope does not exist/);
    const long = join(dir, 'x'.repeat(MAX_UNIX_PATH));
    await expect(openCharBackend(`unix:${long},server`, { name: 'COM2', log: () => {} })).rejects.toThrow(/bytes long; Unix sockets allow at most 107/);

    const live = join(dir, 'live');
    await open(`unix:${live},server`);
    await expect(openCharBackend(`unix:${live},server`, { name: 'COM3', log: () => {} })).rejects.toThrow(/COM3: .*live is in use/);

    // A socket whose listener died without removing it (here: a process that exits at once).
    const stale = join(dir, 'stale');
    const { spawnSync } = await import('node:child_process');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.exit(0))`]);
    expect(statSync(stale).isSocket()).toBe(true);
    const log: string[] = [];
    await open(`unix:${stale},server`, log);
    expect(log.join('\n')).toContain(`removed the stale socket ${stale}`);
    await connectUnix(stale);

    // A directory nobody may create sockets in (root included).
    await expect(openCharBackend('unix:/proc/soulvm-com2,server', { name: 'COM2', log: () => {} }))
      .rejects.toThrow('COM2: cannot listen on unix socket /proc/soulvm-com2: permission denied');

    for (const [spec, msg] of [
      ['bogus', /not a backend/], ['serial:/dev/ttyS0', /unknown backend 'serial'/], ['tcp:localhost', /HOST:PORT/],
      ['tcp::99999,server', /out of range/], ['unix:/tmp/x,listen', /unknown option 'listen'/], ['file:', /needs a path/],
      ['file:/nonexistent-dir/out', /cannot write .*no such file/],
    ] as const) {
      const e = await openCharBackend(spec, { name: 'COM4', log: () => {} }).then(() => null, (err) => err);
      expect(e, spec).toBeInstanceOf(CharBackendError);
      expect((e as Error).message, spec).toMatch(msg);
      expect((e as Error).message.startsWith('COM4: ')).toBe(true);
    }
  });

  it('tcp server: loopback by default and says where; tcp client reconnects to its server', async () => {
    const log: string[] = [];
    const b = await open('tcp::0,server', log) as SocketBackend;
    expect(b.where).toMatch(/^tcp 127\.0\.0\.1:\d+$/);
    expect(log[0]).toBe(`COM2 listening on ${b.where}`);
    const g = guest(b);
    const peer = net.connect({ host: '127.0.0.1', port: b.port });
    peers.push(peer);
    const got = collect(peer);
    await until('carrier', () => (g.carrier() & 0xb0) === 0xb0);
    let sent = 0;
    const msg = new TextEncoder().encode('over tcp');
    await until('data', () => got.length === msg.length, () => { sent = g.send(msg, sent); });
    expect(Buffer.from(got).toString()).toBe('over tcp');

    // Client mode: our server here, the backend connects, is dropped, and comes back by itself.
    const conns: net.Socket[] = [];
    const server = net.createServer(s => { conns.push(s); s.on('data', d => s.write(d)); }); // echo
    await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const c = await open(`tcp:127.0.0.1:${port}`);
    const h = guest(c);
    await until('connected', () => (h.carrier() & 0xb0) === 0xb0);
    conns[0].destroy();
    await until('carrier down', () => (h.carrier() & 0xb0) === 0);
    await until('reconnected', () => (h.carrier() & 0xb0) === 0xb0, () => {}, 5000);
    sent = 0;
    const echo = new TextEncoder().encode('echo me');
    await until('echo', () => h.received.length === echo.length, () => { sent = h.send(echo, sent); h.receive(); });
    expect(String.fromCharCode(...h.received)).toBe('echo me');
    await c.close();
    await new Promise<void>(r => { for (const s of conns) s.destroy(); server.close(() => r()); });
  });

  it('pipe: the FIFO pair NAME.in and NAME.out carry both directions; file: records output', async () => {
    const name = join(dir, 'fifo');
    const b = await open(`pipe:${name}`);
    expect(statSync(`${name}.in`).isFIFO()).toBe(true);
    expect(statSync(`${name}.out`).mode & 0o777).toBe(0o600);
    const g = guest(b);
    expect(g.carrier() & 0xb0).toBe(0xb0);
    const inFd = openSync(`${name}.in`, fsc.O_WRONLY | fsc.O_NONBLOCK);
    const w = new net.Socket({ fd: inFd, readable: false, writable: true });
    w.write('to the guest');
    const outFd = openSync(`${name}.out`, fsc.O_RDONLY | fsc.O_NONBLOCK);
    const r = new net.Socket({ fd: outFd, readable: true, writable: false });
    peers.push(w, r);
    const got = collect(r);
    let sent = 0;
    const msg = new TextEncoder().encode('from the guest');
    await until('fifo data', () => got.length === msg.length && g.received.length === 12, () => { sent = g.send(msg, sent); g.receive(); });
    expect(Buffer.from(got).toString()).toBe('from the guest');
    expect(String.fromCharCode(...g.received)).toBe('to the guest');
    writeFileSync(join(dir, 'notfifo.in'), '');
    await expect(openCharBackend(`pipe:${join(dir, 'notfifo')}`, { log: () => {} })).rejects.toThrow(/notfifo.in exists and is not a FIFO/);

    const path = join(dir, 'log.txt');
    const f = await openCharBackend(`file:${path}`);
    const h = guest(f);
    h.send(new TextEncoder().encode('logged line\n'), 0);
    await f.close();
    expect(readFileSync(path, 'utf8')).toBe('logged line\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(existsSync(`${name}.out`)).toBe(true);
    void closeSync;
  });
});
