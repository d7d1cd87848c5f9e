// A GDB remote-protocol stub on the emulated CPU (`soulvm run --gdb tcp:1234`): the machine is
// one thread; registers with an i386 target description (segment, control and debug registers
// included); memory by linear address through the guest's page tables, physical memory with
// `monitor phys`; software and hardware breakpoints and watchpoints kept apart from the guest's
// own DR0-DR7 (the guest cannot tell); single-step with interrupts held off; continue; Ctrl-C;
// detach and reattach. While gdb holds the machine its virtual time stands still.
//
// References: the GDB manual, appendix E "GDB Remote Serial Protocol" (packets, stop replies,
// qXfer:features, qRcmd, Z/z packets, no-ack mode), and appendix G "Target Descriptions".

import { Stop, Seg } from '../cpu/cpu.ts';
import type { PcMachine, MachineDebugger } from '../machine/pc.ts';
import { openCharBackend, CharBackendError, type HostBackend } from '../devices/char-host.ts';
import { REGISTERS, readRegister, writeRegister, readMemory, writeMemory, linearToPhysical, targetXml } from './target.ts';

/** Largest packet we take (and advertise as PacketSize); anything longer is dropped. */
const PACKET_SIZE = 0x4000;
/** At most this many bytes per memory read (gdb asks in chunks of PacketSize anyway). */
const MAX_READ = (PACKET_SIZE - 16) >> 1;
/** DR0-DR3: hardware breakpoints and watchpoints together. */
const HW_SLOTS = 4;

export interface GdbStubOptions {
  /** `tcp:[HOST:]PORT` (loopback unless HOST is given) or `unix:PATH`. */
  listen: string;
  /** Hold the machine at its first instruction until gdb connects and continues. */
  wait?: boolean;
  log?: (message: string) => void;
}

type Watch = { kind: 2 | 3 | 4; addr: number; len: number };
type StopEvent = { signal: number; extra: string };

export class GdbStub implements MachineDebugger {
  holding = false;
  private transport!: HostBackend;
  private readonly log: (m: string) => void;
  private buf = '';
  private inPacket = false;
  private noAck = false;
  /** gdb sent c/s and waits for a stop reply. */
  private resumed = false;
  private lastStop: StopEvent = { signal: 5, extra: '' };
  private readonly breakpoints = new Map<number, { sw: number; hw: number }>();
  private watches: Watch[] = [];
  private watchHit: Watch | null = null;
  private watchHitAddr = 0;
  /** Packets handled, bad checksums and dropped packets (for tests and messages). */
  readonly stats = { packets: 0, badChecksums: 0, dropped: 0, connections: 0 };

  private constructor(private readonly machine: PcMachine, opts: GdbStubOptions) {
    this.log = opts.log ?? ((m) => process.stderr.write(`soulvm: ${m}\n`));
    this.holding = opts.wait ?? false;
    if (this.holding) this.pauseClock();
  }

  /** Listen for gdb on `opts.listen` and attach to the machine's run loop. */
  static async start(machine: PcMachine, opts: GdbStubOptions): Promise<GdbStub> {
    const m = /^(tcp|unix):(.+)$/.exec(opts.listen);
    if (!m) throw new CharBackendError(`--gdb wants tcp:[HOST:]PORT or unix:PATH, got '${opts.listen}'`);
    let spec: string;
    if (m[1] === 'tcp') spec = /^\d+$/.test(m[2]) ? `tcp::${m[2]},server` : `tcp:${m[2]},server`;
    else spec = `unix:${m[2]},server`;
    const stub = new GdbStub(machine, opts);
    stub.transport = await openCharBackend(spec, { name: 'gdb', log: stub.log });
    stub.transport.onReceive((bytes) => stub.receive(bytes));
    stub.transport.onStatus!(() => stub.connectionChanged());
    machine.debugger = stub;
    if (opts.wait) stub.log(`gdb: the machine waits for a debugger (--gdb-wait): target remote ${stub.address}`);
    return stub;
  }

  /** What to give gdb's `target remote` (host:port, or the socket path). */
  get address(): string {
    const w = this.transport.where;
    return w.startsWith('tcp ') ? w.slice(4) : w.replace(/^unix socket /, '');
  }

  async close(): Promise<void> {
    this.detach();
    if (this.machine.debugger === this) this.machine.debugger = null;
    await this.transport.close();
  }

  // ---- the run loop's side ----

  cpuStopped(reason: Stop): void {
    const cpu = this.machine.cpu;
    if (reason === Stop.Debug) {
      const lin = (cpu.segBase[Seg.CS] + cpu.eip) | 0;
      const bp = this.breakpoints.get(lin);
      this.stopHere({ signal: 5, extra: bp && bp.hw && !bp.sw ? 'hwbreak:;' : 'swbreak:;' });
    } else if (this.watchHit) {
      const w = this.watchHit;
      this.watchHit = null;
      const kind = w.kind === 2 ? 'watch' : w.kind === 3 ? 'rwatch' : 'awatch';
      this.stopHere({ signal: 5, extra: `${kind}:${(this.watchHitAddr >>> 0).toString(16)};` });
    }
  }

  private stopHere(ev: StopEvent): void {
    this.holding = true;
    this.pauseClock();
    this.lastStop = ev;
    if (this.resumed) { this.resumed = false; this.send(this.stopReply()); }
  }

  private stopReply(): string {
    return `T${this.lastStop.signal.toString(16).padStart(2, '0')}${this.lastStop.extra}thread:01;`;
  }

  private pauseClock(): void { this.machine.clock.pause(); }

  private resume(): void {
    this.holding = false;
    this.machine.clock.resume();
    this.machine.cpu.attention = true;
  }

  // ---- connection ----

  private connectionChanged(): void {
    if (this.transport.connected!()) {
      this.stats.connections++;
      this.noAck = false; this.buf = ''; this.inPacket = false; this.resumed = false;
      // gdb expects a stopped target when it attaches: stop between two instructions, now.
      if (!this.holding) this.stopHere({ signal: 5, extra: '' });
    } else if (this.holding || this.breakpoints.size || this.watches.length) {
      this.log('gdb: the debugger went away; the machine goes on');
      this.detach();
    }
  }

  /** Remove every breakpoint and watchpoint and let the machine run. */
  private detach(): void {
    this.breakpoints.clear();
    this.syncBreakpoints();
    this.watches = [];
    this.syncWatches();
    this.resumed = false;
    if (this.holding) this.resume();
  }

  // ---- framing ----

  private receive(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (!this.inPacket) {
        if (b === 0x24 /* $ */) { this.inPacket = true; this.buf = ''; }
        else if (b === 0x03) this.interrupt();
        // '+', '-' and anything else between packets: nothing to do.
        continue;
      }
      this.buf += String.fromCharCode(b);
      const n = this.buf.length;
      if (n >= 3 && this.buf.charCodeAt(n - 3) === 0x23 /* # */) {
        this.inPacket = false;
        this.packet(this.buf.slice(0, n - 3), this.buf.slice(n - 2));
      } else if (n > PACKET_SIZE + 3) {
        this.inPacket = false;
        this.stats.dropped++;
        this.log(`gdb: dropped a packet longer than ${PACKET_SIZE} bytes`);
        if (!this.noAck) this.transport.write(0x2d);
      }
    }
  }

  private packet(body: string, sum: string): void {
    let cs = 0;
    for (let i = 0; i < body.length; i++) cs = (cs + body.charCodeAt(i)) & 0xff;
    if (!this.noAck) {
      if (!/^[0-9a-fA-F]{2}$/.test(sum) || parseInt(sum, 16) !== cs) {
        this.stats.badChecksums++;
        this.log(`gdb: bad checksum on a packet; asked for it again`);
        this.transport.write(0x2d); // '-': resend
        return;
      }
      this.transport.write(0x2b);
    }
    this.stats.packets++;
    let reply: string | null;
    try { reply = this.handle(unescape(body)); } catch (e) { reply = `E.${(e as Error).message}`; }
    if (reply !== null) this.send(reply);
  }

  private send(body: string): void {
    let cs = 0;
    let esc = '';
    for (let i = 0; i < body.length; i++) {
      let c = body[i];
      if (c === '$' || c === '#' || c === '}' || c === '*') { esc += '}'; cs = (cs + 0x7d) & 0xff; c = String.fromCharCode(c.charCodeAt(0) ^ 0x20); }
      esc += c;
      cs = (cs + c.charCodeAt(0)) & 0xff;
    }
    const frame = `$${esc}#${cs.toString(16).padStart(2, '0')}`;
    for (let i = 0; i < frame.length; i++) this.transport.write(frame.charCodeAt(i));
  }

  // ---- packets ----

  private interrupt(): void {
    if (this.holding) { if (this.resumed) { this.resumed = false; this.send(this.stopReply()); } return; }
    this.stopHere({ signal: 2, extra: '' });
  }

  private handle(p: string): string | null {
    const cpu = this.machine.cpu, mem = this.machine.mem;
    switch (p[0]) {
      case '?': return this.stopReply();
      case 'g': return REGISTERS.map((_, n) => readRegister(cpu, n)).join('');
      case 'G': {
        let at = 1;
        for (let n = 0; n < REGISTERS.length && at < p.length; n++) {
          const w = REGISTERS[n].bits / 4, hex = p.slice(at, at + w);
          at += w;
          if (hex.length === w && hex !== readRegister(cpu, n)) { const err = writeRegister(cpu, n, hex); if (err) return `E.${err}`; }
        }
        return 'OK';
      }
      case 'p': {
        const v = readRegister(cpu, parseInt(p.slice(1), 16));
        return v ?? 'E00';
      }
      case 'P': {
        const m = /^P([0-9a-fA-F]+)=([0-9a-fA-F]+)$/.exec(p);
        if (!m) return 'E01';
        const err = writeRegister(cpu, parseInt(m[1], 16), m[2]);
        return err ? `E.${err}` : 'OK';
      }
      case 'm': {
        const m = /^m([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(p);
        if (!m) return 'E01';
        const len = parseInt(m[2], 16);
        if (len > MAX_READ) return 'E02';
        const data = readMemory(cpu, mem, parseInt(m[1], 16), len, false);
        return data.length || !len ? Buffer.from(data).toString('hex') : 'E14';
      }
      case 'M': case 'X': {
        const m = /^[MX]([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8}):/s.exec(p);
        if (!m) return 'E01';
        const len = parseInt(m[2], 16), payload = p.slice(m[0].length);
        const data = p[0] === 'M' ? Buffer.from(payload, 'hex') : Buffer.from(payload, 'latin1');
        if (data.length !== len) return 'E01';
        return writeMemory(cpu, mem, parseInt(m[1], 16), data, false) === len ? 'OK' : 'E14';
      }
      case 'c': return this.cont(p.slice(1));
      case 's': return this.step(p.slice(1));
      case 'C': return this.cont(p.split(';')[1] ?? '');   // the signal is not the guest's business
      case 'S': return this.step(p.split(';')[1] ?? '');
      case 'v': return this.vPacket(p);
      case 'Z': case 'z': return this.breakpoint(p);
      case 'D': this.send('OK'); this.detach(); this.log('gdb: detached; the machine goes on'); return null;
      case 'k': this.detach(); this.log('gdb: kill request: detached (the machine keeps running)'); return null;
      case 'H': return 'OK';
      case 'T': return p === 'T1' || p === 'T01' ? 'OK' : 'E01';
      case 'q': case 'Q': return this.query(p);
      default: return '';
    }
  }

  private vPacket(p: string): string | null {
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) {
      const action = p.slice(6).split(';')[0].split(':')[0];
      if (action === 'c' || action[0] === 'C') return this.cont('');
      if (action === 's' || action[0] === 'S') return this.step('');
      return 'E01';
    }
    if (p === 'vMustReplyEmpty') return '';
    return '';
  }

  private query(p: string): string | null {
    if (p.startsWith('qSupported')) {
      return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+`;
    }
    if (p === 'QStartNoAckMode') { this.send('OK'); this.noAck = true; return null; }
    if (p.startsWith('qXfer:features:read:')) {
      const m = /^qXfer:features:read:([^:]+):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
      if (!m || m[1] !== 'target.xml') return 'E00';
      const xml = targetXml(), off = parseInt(m[2], 16), len = parseInt(m[3], 16);
      const part = xml.slice(off, off + len);
      return (off + len >= xml.length ? 'l' : 'm') + part;
    }
    if (p === 'qAttached') return '1';
    if (p === 'qC') return 'QC01';
    if (p === 'qfThreadInfo') return 'm01';
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qThreadExtraInfo')) return Buffer.from('CPU 0').toString('hex');
    if (p === 'qOffsets') return 'Text=0;Data=0;Bss=0';
    if (p.startsWith('qRcmd,')) return this.monitor(Buffer.from(p.slice(6), 'hex').toString('latin1').trim());
    return '';
  }

  /** `monitor ...` commands: output as O packets, then OK (or an error). */
  private monitor(cmd: string): string {
    const cpu = this.machine.cpu, mem = this.machine.mem;
    const out = (text: string) => this.send('O' + Buffer.from(text).toString('hex'));
    const words = cmd.split(/\s+/);
    const num = (s: string | undefined) => {
      const v = s === undefined ? NaN : Number(s.startsWith('0x') || /^[0-9]+$/.test(s) ? s : `0x${s}`);
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`not an address or length: '${s ?? ''}'`);
      return v;
    };
    try {
      switch (words[0]) {
        case 'phys': case 'xp': {
          const addr = num(words[1]), len = words[2] ? num(words[2]) : 16;
          if (len > 4096) throw new Error('at most 4096 bytes at a time');
          const data = readMemory(cpu, mem, addr, len, true);
          let text = '';
          for (let i = 0; i < data.length; i += 16) {
            const row = Array.from(data.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
            text += `${(addr + i).toString(16).padStart(8, '0')}: ${row}\n`;
          }
          if (data.length < len) text += `${(addr + data.length).toString(16).padStart(8, '0')}: not RAM or ROM\n`;
          out(text);
          return 'OK';
        }
        case 'translate': case 'v2p': {
          const lin = num(words[1]);
          const pa = linearToPhysical(cpu, mem, lin);
          out(pa === null ? `${lin.toString(16)}: not mapped\n` : `linear ${lin.toString(16)} -> physical ${pa.toString(16)}\n`);
          return 'OK';
        }
        case 'info': case 'regs': {
          const r = (n: string) => readRegister(cpu, REGISTERS.findIndex((x) => x.name === n))!;
          const v = (n: string) => Buffer.from(r(n), 'hex').readUInt32LE(0).toString(16).padStart(8, '0');
          out(`cr0=${v('cr0')} cr2=${v('cr2')} cr3=${v('cr3')} cr4=${v('cr4')} cpl=${cpu.cpl} ` +
            `mode=${cpu.vm86 ? 'vm86' : cpu.protectedMode ? 'protected' : 'real'}${cpu.pagingEnabled ? ' paging' : ''}\n` +
            `gdt=${v('gdtr_base')}/${v('gdtr_limit')} idt=${v('idtr_base')}/${v('idtr_limit')} instructions=${cpu.instructionCount}\n`);
          return 'OK';
        }
        case 'help': case '':
          out('soulvm monitor commands:\n  phys ADDR [LEN]   dump physical memory (hex)\n  translate ADDR    linear address to physical through the page tables\n  info              control registers, mode, descriptor tables\n');
          return 'OK';
        default:
          out(`unknown monitor command '${words[0]}' (try: monitor help)\n`);
          return 'OK';
      }
    } catch (e) {
      out(`${(e as Error).message}\n`);
      return 'E01';
    }
  }

  // ---- execution ----

  private setPc(addr: string): void {
    if (addr) this.machine.cpu.eip = parseInt(addr, 16) | 0;
  }

  private cont(addr: string): null {
    this.setPc(addr);
    // Leave a breakpoint at the current instruction by stepping over it first.
    if (this.breakpoints.has(this.pcLinear())) {
      this.singleStep();
      if (this.watchHit) { this.resumed = true; this.cpuStopped(Stop.Request); return null; }
    }
    this.resumed = true;
    this.resume();
    return null;
  }

  private step(addr: string): null {
    this.setPc(addr);
    this.singleStep();
    this.resumed = true;
    if (this.watchHit) this.cpuStopped(Stop.Request);
    else this.stopHere({ signal: 5, extra: '' });
    return null;
  }

  private pcLinear(): number { const c = this.machine.cpu; return (c.segBase[Seg.CS] + c.eip) | 0; }

  /** Execute one instruction, interrupts held off (as gdb users expect), past any breakpoint here. */
  private singleStep(): void {
    const m = this.machine, cpu = m.cpu;
    const here = this.pcLinear();
    const had = cpu.hostBreakpoints.delete(here);
    const pic = cpu.pic;
    cpu.pic = null;
    try {
      m.slice(1);
    } finally {
      cpu.pic = pic;
      if (had) cpu.hostBreakpoints.add(here);
      cpu.interruptPending();
    }
  }

  private breakpoint(p: string): string {
    const m = /^([Zz])([0-4]),([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})/.exec(p);
    if (!m) return 'E01';
    const insert = m[1] === 'Z', type = Number(m[2]), addr = parseInt(m[3], 16) | 0, len = parseInt(m[4], 16);
    const hwUsed = () => this.watches.length + [...this.breakpoints.values()].reduce((n, b) => n + (b.hw ? 1 : 0), 0);
    if (type <= 1) {
      const b = this.breakpoints.get(addr) ?? { sw: 0, hw: 0 };
      if (insert) {
        if (type === 1 && !b.hw && hwUsed() >= HW_SLOTS) return 'E.all four debug registers are in use';
        if (type === 0) b.sw = 1; else b.hw = 1;
        this.breakpoints.set(addr, b);
      } else {
        if (type === 0) b.sw = 0; else b.hw = 0;
        if (!b.sw && !b.hw) this.breakpoints.delete(addr);
      }
      this.syncBreakpoints();
      return 'OK';
    }
    // Watchpoints as DR0-DR3 take them: 1, 2, 4 or 8 bytes, aligned to their length.
    if (![1, 2, 4, 8].includes(len) || (addr & (len - 1))) return 'E.a hardware watchpoint covers 1, 2, 4 or 8 aligned bytes';
    const kind = type as 2 | 3 | 4;
    if (insert) {
      if (hwUsed() >= HW_SLOTS) return 'E.all four debug registers are in use';
      this.watches.push({ kind, addr, len });
    } else {
      const i = this.watches.findIndex((w) => w.kind === kind && w.addr === addr && w.len === len);
      if (i >= 0) this.watches.splice(i, 1);
    }
    this.syncWatches();
    return 'OK';
  }

  private syncBreakpoints(): void {
    const cpu = this.machine.cpu;
    cpu.hostBreakpoints.clear();
    for (const a of this.breakpoints.keys()) cpu.hostBreakpoints.add(a);
    cpu.attention = true;
  }

  private syncWatches(): void {
    const cpu = this.machine.cpu;
    const watches = this.watches;
    cpu.hostWatch = watches.length === 0 ? null : (lin, size, write) => {
      for (const w of watches) {
        if (w.kind === 2 && !write) continue;
        if (w.kind === 3 && write) continue;
        if (((lin - w.addr) >>> 0) < w.len || ((w.addr - lin) >>> 0) < size) {
          if (!this.watchHit) { this.watchHit = w; this.watchHitAddr = w.addr; cpu.requestStop(); }
          return;
        }
      }
    };
    cpu.updateAccessChecks();
  }
}

/** Undo the protocol's escaping: '}' followed by the byte XOR 20h. */
function unescape(s: string): string {
  if (!s.includes('}')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '}' && i + 1 < s.length) { out += String.fromCharCode(s.charCodeAt(++i) ^ 0x20); }
    else out += s[i];
  }
  return out;
}
