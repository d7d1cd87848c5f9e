// Character backends on host streams, chosen by a QEMU-style spec (as `-serial` takes):
//   stdio                    this process's stdin/stdout
//   unix:PATH[,server]       a Unix domain socket soulvm listens on (server) or connects to
//   tcp:[HOST]:PORT[,server] a TCP socket; a server listens on 127.0.0.1 unless HOST is given
//   pipe:NAME                Windows: the named pipe \\.\pipe\NAME (soulvm is its server);
//                            elsewhere the FIFO pair NAME.in (host → guest) and NAME.out
//   file:PATH                output only, to a file created 0600 (truncated)
//   null                     nothing attached
//
// The VM is the server: a peer that disconnects and reconnects finds the port still there,
// and the guest sees carrier (DCD/DSR/CTS) drop and return. One peer at a time; a second
// connection is refused with a message. A client-mode backend reconnects by itself.
// No byte is lost or reordered when either side is slow: output beyond OUT_LIMIT bytes waiting
// for the host makes `writable()` false (the UART holds its transmitter), and the UART pauses
// the socket when its input queue is long. Output while no peer is attached goes nowhere, as
// on a wire with nothing plugged in.
//
// Safe by default: a Unix socket is created 0600 in a directory that must exist; an existing
// path is refused unless it is a stale socket (nobody accepts on it), which is replaced.

import net from 'node:net';
import { closeSync, constants as fsConstants, chmodSync, createWriteStream, lstatSync, openSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { NullBackend, StdioBackend, type CharBackend } from './char-backend.ts';

/** A spec the user got wrong, or a host resource that cannot be used: one clear line. */
export class CharBackendError extends Error { readonly userFacing = true; }

/** Output waiting for the host beyond this much holds the guest's transmitter. */
export const OUT_LIMIT = 64 * 1024;
/** Longest Unix socket path Linux takes (sun_path is 108 bytes with the NUL). */
export const MAX_UNIX_PATH = 107;
/** A client-mode backend retries its connection this often. */
const RECONNECT_MS = 1000;
/** A second peer waits this long for the first to go before it is refused. */
const SECOND_PEER_GRACE_MS = 500;

export interface HostBackendOptions {
  /** The port's name in messages (e.g. "COM2"). */
  name?: string;
  /** Where messages go (default: stderr as "soulvm: ..."). */
  log?: (message: string) => void;
}

/** A backend opened from a spec: `describe` says where it leads, `close` releases it. */
export interface HostBackend extends CharBackend {
  readonly spec: string;
  /** Where it listens or what it is connected to, for messages ("unix socket /tmp/com2"). */
  readonly where: string;
  close(): Promise<void>;
}

const defaultLog = (m: string) => { process.stderr.write(`soulvm: ${m}\n`); };

/** Parse and open a backend spec. Rejects with a CharBackendError for bad specs and paths. */
export async function openCharBackend(spec: string, opts: HostBackendOptions = {}): Promise<HostBackend> {
  const name = opts.name ?? 'serial port';
  const log = opts.log ?? defaultLog;
  const bad = (why: string): never => { throw new CharBackendError(`${name}: ${why}`); };
  if (spec === 'null' || spec === 'none') return Object.assign(new NullBackend(), { spec, where: 'nothing', close: async () => {} });
  if (spec === 'stdio') {
    const b = new StdioBackend();
    return Object.assign(b, { spec, where: 'the terminal', close: async () => { StdioBackend.prototype.close.call(b); } });
  }
  const colon = spec.indexOf(':');
  if (colon < 0) return bad(`'${spec}' is not a backend (stdio, null, unix:PATH[,server], tcp:HOST:PORT[,server], pipe:NAME, file:PATH)`);
  const kind = spec.slice(0, colon), rest = spec.slice(colon + 1);
  const { target, server } = splitFlags(rest, kind === 'unix' || kind === 'tcp', bad);
  switch (kind) {
    case 'unix': {
      if (!target) bad('unix: needs a socket path');
      const path = resolve(target);
      if (Buffer.byteLength(path) > MAX_UNIX_PATH) {
        bad(`socket path ${path} is ${Buffer.byteLength(path)} bytes long; Unix sockets allow at most ${MAX_UNIX_PATH}`);
      }
      const b = new SocketBackend(spec, `unix socket ${path}`, name, log);
      if (server) await b.listenUnix(path); else b.connect({ path });
      return b;
    }
    case 'tcp': {
      const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(target);
      if (!m) return bad(`tcp: wants HOST:PORT (HOST may be empty for loopback), got '${target}'`);
      const host = m[1] ?? (m[2] || (server ? '127.0.0.1' : 'localhost'));
      const port = Number(m[3]);
      if (port > 65535 || (!server && port === 0)) bad(`tcp: port ${port} is out of range`);
      const b = new SocketBackend(spec, `tcp ${host}:${port}`, name, log);
      if (server) await b.listenTcp(host, port); else b.connect({ host, port });
      return b;
    }
    case 'pipe': {
      if (!target) bad('pipe: needs a name');
      if (process.platform === 'win32') {
        const b = new SocketBackend(spec, `named pipe \\\\.\\pipe\\${target}`, name, log);
        await b.listenPipe(`\\\\.\\pipe\\${target}`);
        return b;
      }
      return FifoBackend.open(spec, resolve(target), name, log);
    }
    case 'file': {
      if (!target) bad('file: needs a path');
      return FileBackend.open(spec, resolve(target), name);
    }
    default:
      return bad(`unknown backend '${kind}' (stdio, null, unix, tcp, pipe, file)`);
  }
}

function splitFlags(rest: string, serverAllowed: boolean, bad: (why: string) => never): { target: string; server: boolean } {
  const parts = rest.split(',');
  const target = parts[0];
  let server = false;
  for (const f of parts.slice(1)) {
    if (f === 'server' && serverAllowed) server = true;
    else if ((f === 'nowait' || f === 'wait=off') && serverAllowed) continue; // QEMU's spelling of what we always do
    else bad(`unknown option '${f}' in '${rest}'${serverAllowed ? ' (only ",server")' : ''}`);
  }
  return { target, server };
}

/** Errors from the host in words (the code first, since Node's messages repeat the syscall). */
function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EADDRINUSE': return 'address already in use';
    case 'EADDRNOTAVAIL': return 'address not available on this host';
    case 'ENOENT': return 'no such file or directory';
    case 'ECONNREFUSED': return 'connection refused';
    case 'ENOTDIR': return 'not a directory';
    case 'ENAMETOOLONG': return 'name too long';
    case 'EROFS': return 'read-only file system';
    default: return err.message ?? String(e);
  }
}

/**
 * Output gathered per turn of the event loop into one write to a stream, with the back-pressure
 * signal: `writable()` turns false past `limit` bytes waiting (in here or in the stream), and
 * `ready` is called once it turns true again (after a flush or the stream's 'drain').
 */
class Outbox {
  private pending: number[] = [];
  private flushQueued = false;
  private held = false;
  ready: () => void = () => {};
  constructor(private readonly limit: number, private readonly stream: () => NodeJS.WritableStream & { writableLength: number; destroyed?: boolean } | null) {}

  push(byte: number): void {
    this.pending.push(byte);
    if (!this.flushQueued) { this.flushQueued = true; queueMicrotask(() => this.flush()); }
  }

  flush(): void {
    this.flushQueued = false;
    const s = this.stream();
    if (this.pending.length && s && !s.destroyed) s.write(Buffer.from(this.pending));
    this.pending = [];
    this.check();
  }

  /** The stream drained or went away: tell a held transmitter it may go on. */
  check(): void { if (this.held && this.writable()) { this.held = false; this.ready(); } }

  drop(): void { this.pending = []; }

  writable(): boolean {
    const s = this.stream();
    const ok = !s || s.writableLength + this.pending.length < this.limit;
    if (!ok) this.held = true;
    return ok;
  }
}

/**
 * A socket backend: a server that adopts one peer at a time, or a client that reconnects.
 * Output is gathered per turn of the event loop into one write.
 */
export class SocketBackend implements HostBackend {
  private sock: net.Socket | null = null;
  private server: net.Server | null = null;
  private receiver: ((bytes: Uint8Array) => void) | null = null;
  private status: (() => void) | null = null;
  private readonly out = new Outbox(OUT_LIMIT, () => this.sock);
  private inputPaused = false;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private unixPath: string | null = null;
  private unixIno = -1;
  /** Peers adopted so far (for tests and messages). */
  connections = 0;
  where: string;

  constructor(readonly spec: string, where: string, private readonly name: string, private readonly log: (m: string) => void) {
    this.where = where;
  }

  /** The TCP port a server listens on (useful with port 0). */
  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : -1;
  }

  // ---- CharBackend ----

  write(byte: number): void {
    if (this.sock) this.out.push(byte); // else nobody is on the line
  }

  writable(): boolean { return this.out.writable(); }
  connected(): boolean { return this.sock !== null; }
  onReceive(cb: (bytes: Uint8Array) => void): void { this.receiver = cb; }
  onStatus(cb: () => void): void { this.status = cb; this.out.ready = cb; }
  pauseInput(): void { this.inputPaused = true; this.sock?.pause(); }
  resumeInput(): void { this.inputPaused = false; this.sock?.resume(); }

  // ---- peers ----

  private adopt(sock: net.Socket): void {
    this.sock = sock;
    this.connections++;
    if (sock.setNoDelay) sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.receiver?.(new Uint8Array(d.buffer, d.byteOffset, d.length)));
    sock.on('drain', () => this.out.check());
    sock.on('error', (e) => { if (!this.closed) this.log(`${this.name}: ${this.where}: peer connection: ${why(e)}`); });
    sock.on('close', () => {
      if (this.sock !== sock) return;
      this.sock = null;
      this.out.drop();
      if (this.closed) return;
      this.log(`${this.name}: peer disconnected from ${this.where}; carrier down`);
      this.status?.();
      if (!this.server) this.scheduleReconnect();
      const next = this.waiting;
      if (next && !next.destroyed) {
        this.waiting = null;
        this.log(`${this.name}: peer connected on ${this.where}; carrier up`);
        this.adopt(next);
        next.resume();
      }
    });
    if (this.inputPaused) sock.pause();
    this.status?.();
  }

  private waiting: net.Socket | null = null;

  private refuse(sock: net.Socket): void {
    this.log(`${this.name}: refused a second connection on ${this.where} (one peer at a time)`);
    sock.destroy();
  }

  private attachServer(server: net.Server): void {
    this.server = server;
    server.on('connection', (sock) => {
      if (this.closed) { sock.destroy(); return; }
      if (this.sock) {
        // A peer that reconnects at once may be accepted before its old connection's end is
        // seen: let the newcomer wait a moment, and refuse it only if the old one stays.
        if (this.waiting) { this.refuse(sock); return; }
        this.waiting = sock;
        sock.pause();
        const t = setTimeout(() => { if (this.waiting === sock) { this.waiting = null; this.refuse(sock); } }, SECOND_PEER_GRACE_MS);
        t.unref();
        sock.once('close', () => { if (this.waiting === sock) { this.waiting = null; clearTimeout(t); } });
        return;
      }
      this.log(`${this.name}: peer connected on ${this.where}; carrier up`);
      this.adopt(sock);
    });
    server.on('error', (e) => { if (!this.closed) this.log(`${this.name}: ${this.where}: ${why(e)}`); });
  }

  private listenOn(server: net.Server, how: (s: net.Server) => void): Promise<void> {
    return new Promise((res, rej) => {
      const onError = (e: Error) => rej(new CharBackendError(`${this.name}: cannot listen on ${this.where}: ${why(e)}`));
      server.once('error', onError);
      server.once('listening', () => { server.off('error', onError); res(); });
      how(server);
    });
  }

  async listenTcp(host: string, port: number): Promise<void> {
    const server = net.createServer({ pauseOnConnect: false });
    await this.listenOn(server, s => s.listen({ host, port, exclusive: true }));
    const a = server.address() as net.AddressInfo;
    this.where = `tcp ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    this.attachServer(server);
    this.log(`${this.name} listening on ${this.where}`);
  }

  async listenPipe(path: string): Promise<void> {
    const server = net.createServer();
    await this.listenOn(server, s => s.listen(path));
    this.attachServer(server);
    this.log(`${this.name} listening on ${this.where}`);
  }

  async listenUnix(path: string): Promise<void> {
    const fail = (m: string): never => { throw new CharBackendError(`${this.name}: ${m}`); };
    const dir = dirname(path);
    let d;
    try { d = statSync(dir); } catch { fail(`directory ${dir} does not exist (create it first; soulvm makes only the socket)`); }
    if (!d!.isDirectory()) fail(`${dir} is not a directory`);
    let st = null;
    try { st = lstatSync(path); } catch { /* free */ }
    if (st) {
      if (!st.isSocket()) fail(`${path} exists and is not a socket; refusing to replace it`);
      if (await socketAnswers(path)) fail(`${path} is in use: another program is listening on it`);
      try { unlinkSync(path); } catch (e) { fail(`cannot remove the stale socket ${path}: ${why(e)}`); }
      this.log(`${this.name}: removed the stale socket ${path}`);
    }
    const server = net.createServer();
    // Owner-only from the first instant: bind under umask 077 (bind happens inside listen).
    const old = process.umask(0o177);
    try {
      await this.listenOn(server, s => s.listen(path));
    } finally { process.umask(old); }
    try { chmodSync(path, 0o600); } catch { /* the umask already made it so */ }
    this.unixPath = path;
    this.unixIno = lstatSync(path).ino;
    this.attachServer(server);
    this.log(`${this.name} listening on ${this.where} (mode 0600)`);
  }

  /** Client mode: connect now and again whenever the connection fails or ends. */
  connect(to: { path: string } | { host: string; port: number }): void {
    let complained = false;
    const attempt = () => {
      this.retry = null;
      if (this.closed) return;
      const sock = net.connect(to as net.NetConnectOpts);
      const onFail = (e: Error) => {
        if (!complained) { this.log(`${this.name}: cannot connect to ${this.where}: ${why(e)}; retrying every ${RECONNECT_MS / 1000} s`); complained = true; }
        this.scheduleReconnect();
      };
      sock.once('error', onFail);
      sock.once('connect', () => {
        sock.off('error', onFail);
        complained = false;
        this.log(`${this.name}: connected to ${this.where}; carrier up`);
        this.adopt(sock);
      });
    };
    this.reconnect = attempt;
    attempt();
  }
  private reconnect: (() => void) | null = null;

  private scheduleReconnect(): void {
    if (this.closed || this.retry || !this.reconnect) return;
    this.retry = setTimeout(this.reconnect, RECONNECT_MS);
    this.retry.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.out.flush();
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.waiting?.destroy();
    const sock = this.sock;
    this.sock = null;
    if (sock) await new Promise<void>(r => { sock.once('close', () => r()); sock.end(); setTimeout(() => { sock.destroy(); }, 200).unref(); });
    if (this.server) await new Promise<void>(r => this.server!.close(() => r()));
    if (this.unixPath) {
      // Remove our socket file, not one someone else has put there since.
      try { if (lstatSync(this.unixPath).ino === this.unixIno) unlinkSync(this.unixPath); } catch { /* gone */ }
    }
  }
}

/** Whether something accepts connections on the Unix socket at `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect({ path });
    s.once('connect', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  });
}

/**
 * The FIFO pair NAME.in (soulvm reads) and NAME.out (soulvm writes), made 0600 when missing.
 * Both are held open read-write, so a peer may open and close either end at any time without
 * soulvm seeing end-of-file, and output waits in the pipe (then in the UART) while nobody reads.
 * A FIFO cannot tell whether anyone is at the other end: carrier stays up.
 */
export class FifoBackend implements HostBackend {
  private receiver: ((bytes: Uint8Array) => void) | null = null;
  private readonly out: Outbox;

  private constructor(readonly spec: string, readonly where: string, private readonly input: net.Socket, private readonly output: net.Socket) {
    this.out = new Outbox(OUT_LIMIT, () => output);
    input.on('data', (d: Buffer) => this.receiver?.(new Uint8Array(d.buffer, d.byteOffset, d.length)));
    output.on('drain', () => this.out.check());
  }

  static open(spec: string, base: string, name: string, log: (m: string) => void): FifoBackend {
    const fail = (m: string): never => { throw new CharBackendError(`${name}: ${m}`); };
    const fds: number[] = [];
    try {
      for (const path of [`${base}.in`, `${base}.out`]) {
        let st = null;
        try { st = statSync(path); } catch { /* make it */ }
        if (st && !st.isFIFO()) fail(`${path} exists and is not a FIFO; refusing to use it`);
        if (!st) {
          try { statSync(dirname(path)); } catch { fail(`directory ${dirname(path)} does not exist`); }
          const r = spawnSync('mkfifo', ['-m', '600', path], { encoding: 'utf8' });
          if (r.status !== 0) fail(`cannot create the FIFO ${path}: ${(r.stderr || r.error?.message || '').trim()}`);
        }
        try { fds.push(openSync(path, fsConstants.O_RDWR | fsConstants.O_NONBLOCK)); } catch (e) { fail(`cannot open ${path}: ${why(e)}`); }
      }
    } catch (e) { for (const fd of fds) closeSync(fd); throw e; }
    const input = new net.Socket({ fd: fds[0], readable: true, writable: false });
    const output = new net.Socket({ fd: fds[1], readable: false, writable: true });
    output.on('error', (e) => log(`${name}: ${base}.out: ${why(e)}`));
    input.on('error', (e) => log(`${name}: ${base}.in: ${why(e)}`));
    log(`${name} on the FIFOs ${base}.in (to the guest) and ${base}.out (from the guest)`);
    return new FifoBackend(spec, `FIFOs ${base}.in/.out`, input, output);
  }

  write(byte: number): void { this.out.push(byte); }
  writable(): boolean { return this.out.writable(); }
  onReceive(cb: (bytes: Uint8Array) => void): void { this.receiver = cb; }
  onStatus(cb: () => void): void { this.out.ready = cb; }
  pauseInput(): void { this.input.pause(); }
  resumeInput(): void { this.input.resume(); }
  async close(): Promise<void> {
    this.out.flush();
    this.input.destroy();
    await new Promise<void>(r => { if (!this.output.writableLength) { this.output.destroy(); r(); } else this.output.end(() => r()); });
  }
}

/** Output only: the guest's bytes to a file (created 0600, truncated). */
export class FileBackend implements HostBackend {
  private readonly out: Outbox;
  private constructor(readonly spec: string, readonly where: string, private readonly stream: WriteStream) {
    this.out = new Outbox(16 * OUT_LIMIT, () => stream);
    stream.on('drain', () => this.out.check());
  }

  static open(spec: string, path: string, name: string): FileBackend {
    let fd: number;
    try { fd = openSync(path, 'w', 0o600); } catch (e) { throw new CharBackendError(`${name}: cannot write ${path}: ${why(e)}`); }
    return new FileBackend(spec, `file ${path}`, createWriteStream('', { fd }));
  }

  write(byte: number): void { this.out.push(byte); }
  writable(): boolean { return this.out.writable(); }
  onReceive(_cb: (bytes: Uint8Array) => void): void {}
  onStatus(cb: () => void): void { this.out.ready = cb; }
  close(): Promise<void> { this.out.flush(); return new Promise(r => this.stream.end(() => r())); }
}
