// The GDB stub with real GNU gdb: a bare-metal program (programs/loop.s: 32-bit protected mode
// with paging, calling tick() until go_home is set) booted from a floppy by soulvm's BIOS.
// gdb attaches at the first instruction (--gdb-wait), reads the i386 registers with the control
// registers, breaks on a function, single-steps, watches a variable, uses a hardware breakpoint,
// reads memory through the page tables and physically, interrupts with Ctrl-C, detaches and
// reattaches, and lets the program finish. The guest must not notice: its DR7 stays untouched
// and its running sum stays consistent.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { PcMachine, type RunResult } from '../../src/machine/pc.ts';
import { RawDisk } from '../../src/disk/raw.ts';
import { GdbStub } from '../../src/debug/gdb-stub.ts';
import { Gdb } from './gdb.ts';
import { SOULVM } from '../disk/helpers.ts';

const programs = new URL('./programs/', import.meta.url).pathname;
const ELF = `${programs}loop.elf`;
const dir = mkdtempSync(join(tmpdir(), 'soulvm-gdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function floppy(): string {
  const img = new Uint8Array(1474560);
  img.set(readFileSync(`${programs}loop.bin`));
  const path = join(dir, 'loop.img');
  writeFileSync(path, img);
  return path;
}

// Symbols of loop.elf (fixed by its link address).
const SYM = { counter: 0x7cb8, total: 0x7cbc, go_home: 0x7cc0, tick: 0x7ca6 };

function word(m: PcMachine, addr: number): number {
  return (m.mem.bytes[addr] | (m.mem.bytes[addr + 1] << 8) | (m.mem.bytes[addr + 2] << 16) | (m.mem.bytes[addr + 3] << 24)) >>> 0;
}
const int = (s: string) => Number(s);

describe('GDB remote stub with GNU gdb', () => {
  it('attach, registers, break, step, watch, hbreak, memory, Ctrl-C, detach/reattach, finish', { timeout: 120_000 }, async () => {
    const m = new PcMachine({ floppies: [RawDisk.open(floppy())], clock: 'host' });
    const log: string[] = [];
    const stub = await GdbStub.start(m, { listen: 'tcp:0', wait: true, log: (s) => log.push(s) });
    expect(log.join('\n')).toMatch(/gdb listening on tcp 127\.0\.0\.1:\d+/);
    let result: RunResult | null = null;
    const running = m.run({ timeoutMs: 110_000 }).then((r) => { result = r; return r; });
    const gdb = new Gdb([ELF]);
    try {
      await gdb.ok('-gdb-set mi-async on');                   // commands (Ctrl-C) while running
      const t0 = performance.now();
      await gdb.ok(`-target-select remote ${stub.address}`);
      await gdb.stopped();                                   // the stop gdb reports on attaching
      const attachMs = performance.now() - t0;
      // Held at the reset vector: nothing has run.
      expect(m.cpu.instructionCount).toBe(0);
      expect(await gdb.eval('$eip')).toBe('0xfff0');
      expect(await gdb.eval('$cs')).toBe('61440');
      expect(await gdb.eval('$cs_base')).toBe('0xffff0000');        // the reset CS base
      expect(await gdb.eval('(unsigned)$cr0')).toBe(String(0x60000010));
      const names = (await gdb.ok('-data-list-register-names')).body;
      for (const r of ['eax', 'eflags', 'st0', 'fctrl', 'cr0', 'cr3', 'cr4', 'dr7', 'gdtr_base', 'cs_base', 'ss_limit']) expect(names).toContain(`"${r}"`);

      // Software breakpoint on a function: the first hit is before the first increment.
      await gdb.ok('-break-insert tick');
      const t1 = performance.now();
      await gdb.ok('-exec-continue');
      let stop = await gdb.stopped();
      const firstBreakMs = performance.now() - t1;
      expect(stop).toMatch(/reason="breakpoint-hit".*func="tick"/);
      expect(await gdb.eval('$pc')).toMatch(/^0x7ca6 <tick>/);
      expect(int(await gdb.eval('{int}&counter'))).toBe(0);
      // Protected mode with paging by now, as the program set it up.
      expect(await gdb.eval('$cr3')).toBe(String(0x1000));
      expect((Number(await gdb.eval("(unsigned)$cr0")) & 0x80000001) >>> 0).toBe(0x80000001);
      expect(await gdb.eval('$cs')).toBe('8');
      // Continue to the next hit: the round trip of a break and a continue.
      const t2 = performance.now();
      await gdb.ok('-exec-continue');
      stop = await gdb.stopped();
      const roundTripMs = performance.now() - t2;
      expect(stop).toMatch(/reason="breakpoint-hit"/);
      expect(int(await gdb.eval('{int}&counter'))).toBe(1);
      console.log(`gdb: attach ${attachMs.toFixed(0)} ms; first break ${firstBreakMs.toFixed(0)} ms; continue -> next break ${roundTripMs.toFixed(1)} ms`);

      // Single-step: one instruction (incl counter, 6 bytes).
      await gdb.ok('-exec-step-instruction');
      stop = await gdb.stopped();
      expect(stop).toMatch(/reason="end-stepping-range"/);
      expect(await gdb.eval('$pc')).toMatch(/^0x7cac <tick\+6>/);
      expect(int(await gdb.eval('{int}&counter'))).toBe(2);

      // A register write reaches the CPU: eax is overwritten by the next instruction anyway.
      await gdb.cli('set $eax = 0x12345678');
      expect(m.cpu.regs[0]).toBe(0x12345678);

      // Hardware watchpoint on the counter: stops after the write, old and new value.
      await gdb.ok('-break-delete');
      await gdb.ok('-break-watch *(int*)0x7cb8');
      await gdb.ok('-exec-continue');
      stop = await gdb.stopped();
      expect(stop).toMatch(/reason="watchpoint-trigger".*value=\{old="2",new="3"\}/);
      expect(await gdb.eval('$pc')).toMatch(/^0x7cac <tick\+6>/); // a trap: after the incl
      // A read watchpoint fires on the read in `mov counter, %eax`.
      await gdb.ok('-break-delete');
      await gdb.ok('-break-watch -r *(int*)0x7cb8');
      await gdb.ok('-exec-continue');
      stop = await gdb.stopped();
      expect(stop).toMatch(/reason="read-watchpoint-trigger"/);
      expect(await gdb.eval('$pc')).toMatch(/^0x7cb1 <tick\+11>/);
      await gdb.ok('-break-delete');
      // DR0-DR3 semantics: four hardware slots, then an error.
      for (const a of ['main', 'tick', '*0x7cac', '*0x7cb1']) await gdb.ok(`-break-insert -h ${a}`);
      await gdb.ok('-break-insert -h *0x7c90');
      const refused = await gdb.mi('-exec-continue');
      if (refused.cls !== 'error') await gdb.stopped();       // gdb gives up when the insert fails
      expect(gdb.transcript.join('\n')).toMatch(/Could not insert hardware breakpoint/);
      expect(m.cpu.hostBreakpoints.size).toBeLessThanOrEqual(4);
      await gdb.ok('-break-delete');
      await gdb.ok('-break-insert -h tick');
      await gdb.ok('-exec-continue');
      stop = await gdb.stopped();
      expect(stop).toMatch(/reason="breakpoint-hit".*func="tick"/);
      await gdb.ok('-break-delete');

      // Memory by linear address through the page tables: 4 MiB up is an alias of the bottom.
      const counter = int(await gdb.eval('{int}&counter'));
      expect(int(await gdb.eval('{int}0x407cb8'))).toBe(counter);
      expect(int(await gdb.eval('{int}(0x400000 + 0x7cbc)'))).toBe(word(m, SYM.total));
      const unmapped = await gdb.mi('-data-evaluate-expression "{int}0x800000"');
      expect(unmapped.cls).toBe('error');
      expect(unmapped.body).toMatch(/Cannot access memory at address 0x800000/);
      expect(await gdb.cli('monitor translate 0x407cb8')).toBe('linear 407cb8 -> physical 7cb8\n');
      const phys = await gdb.cli('monitor phys 0x7cb8 8');
      const le = (v: number) => [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join(' ');
      expect(phys).toBe(`00007cb8: ${le(counter)} ${le(word(m, SYM.total))}\n`);
      expect(await gdb.cli('monitor info')).toMatch(/cr0=e0000011 .*cr3=00001000 .*mode=protected paging/);
      // A write through a linear alias lands in physical memory.
      await gdb.cli('set {int}0x407cbc = 0');
      expect(word(m, SYM.total)).toBe(0);
      await gdb.cli(`set {int}0x7cbc = ${(counter * (counter + 1) / 2) >>> 0}`);

      // Ctrl-C while running.
      await gdb.ok('-exec-continue');
      await new Promise((r) => setTimeout(r, 300));
      const before = word(m, SYM.counter);
      await gdb.ok('-exec-interrupt');
      stop = await gdb.stopped();
      expect(stop).toMatch(/reason="signal-received",signal-name="SIGINT"/);
      const atInterrupt = int(await gdb.eval('{int}&counter'));
      expect(atInterrupt).toBeGreaterThan(before - 1);
      expect(atInterrupt).toBeGreaterThan(counter);

      // Detach: the machine runs on without a debugger; reattach: stopped again, state intact.
      await gdb.ok('-target-detach');
      await new Promise((r) => setTimeout(r, 200));
      expect(word(m, SYM.counter)).toBeGreaterThan(atInterrupt);
      await gdb.ok(`-target-select remote ${stub.address}`);
      await gdb.stopped();
      const again = int(await gdb.eval('{int}&counter'));
      expect(again).toBeGreaterThan(atInterrupt);
      await new Promise((r) => setTimeout(r, 100));
      expect(word(m, SYM.counter)).toBe(again);            // held while gdb is attached
      expect(stub.stats.connections).toBe(2);

      // The guest did not notice: its own debug registers are as reset left them, and its
      // running sum is the sum 1..counter (no breakpoint disturbed an instruction).
      expect(m.cpu.dr[7]).toBe(0x400);
      const n = word(m, SYM.counter);
      expect(word(m, SYM.total)).toBe(((n * (n + 1)) / 2) % 2 ** 32);

      // Let it finish: set go_home, detach; it prints DONE and halts.
      await gdb.cli('set {int}&go_home = 1');
      await gdb.ok('-target-detach');
      const r = await running;
      expect(r.stop).toBe('halted');
      expect(m.serialOutput).toContain('DONE\n');
    } finally {
      await gdb.quit();
      if (!result) m.stop();
      await running;
      await stub.close();
    }
  });

  it('survives bad input: bad checksums, garbage, floods, absurd lengths, a peer gone mid-packet', { timeout: 60_000 }, async () => {
    const m = new PcMachine({ floppies: [RawDisk.open(floppy())], clock: 'host' });
    const log: string[] = [];
    const stub = await GdbStub.start(m, { listen: `unix:${join(dir, 'gdb.sock')}`, log: (s) => log.push(s) });
    const running = m.run({ timeoutMs: 50_000 });
    const frame = (body: string) => `$${body}#${([...body].reduce((s, c) => s + c.charCodeAt(0), 0) & 0xff).toString(16).padStart(2, '0')}`;
    const peer = { got: '' };
    const s = net.connect({ path: join(dir, 'gdb.sock') });
    s.on('data', (d) => { peer.got += d.toString('latin1'); });
    await new Promise<void>((r) => s.once('connect', () => r()));
    const until = async (cond: () => boolean) => {
      const t0 = Date.now();
      while (!cond() && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 20));
    };
    try {
      // A bad checksum is answered '-', then the same packet done right is answered.
      s.write(`$g#00${frame('m7cb8,4')}`);
      await until(() => peer.got.includes('#'));
      expect(peer.got.startsWith('-+')).toBe(true);
      expect(peer.got).toMatch(/\$[0-9a-f]{8}#/);
      expect(stub.stats.badChecksums).toBe(1);
      // Absurd lengths and malformed packets get errors, not a crash.
      s.write(frame('mffffffff,ffffffff') + frame('m7cb8') + frame('Z2,7cb9,4') + frame('P99=00') + frame('qRcmd,' + Buffer.from('phys zz').toString('hex')));
      await until(() => (peer.got.match(/\$E/g) ?? []).length >= 5);
      const got = peer.got;
      expect(got).toContain(frame('E02'));
      expect(got).toContain(frame('E01'));
      expect(got).toMatch(/\$E\.a hardware watchpoint covers 1, 2, 4 or 8 aligned bytes#/);
      expect(got).toMatch(/\$E\.no register 153#/);
      // Garbage and a flood of an endless packet; then the peer leaves mid-packet.
      s.write(Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 37) & 0x7f).filter((b) => b !== 0x24 && b !== 0x03)));
      s.write('$' + 'A'.repeat(100_000));
      await new Promise((r) => setTimeout(r, 200));
      expect(stub.stats.dropped).toBeGreaterThan(0);
      s.write('$m7cb8,4#');
      s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      expect(log.join('\n')).toMatch(/debugger went away; the machine goes on/);
      // Still a working machine and a working stub: it runs detached, and real gdb attaches.
      const c0 = word(m, SYM.counter);
      await new Promise((r) => setTimeout(r, 100));
      expect(word(m, SYM.counter)).toBeGreaterThan(c0);
      const gdb = new Gdb([ELF]);
      try {
        await gdb.ok(`-target-select remote ${join(dir, 'gdb.sock')}`);
        await gdb.stopped();
        expect(int(await gdb.eval('{int}&counter'))).toBe(word(m, SYM.counter));
        await gdb.cli('set {int}&go_home = 1');
        await gdb.ok('-target-detach');
      } finally { await gdb.quit(); }
      expect((await running).stop).toBe('halted');
    } finally {
      m.stop();
      await running;
      await stub.close();
    }
  });

  it('soulvm run --gdb tcp:PORT --gdb-wait: gdb starts the held machine and it runs to the end', { timeout: 60_000 }, async () => {
    const port = await new Promise<number>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    const child = spawn(process.execPath, [SOULVM, 'run', '--fda', floppy(), '--gdb', `tcp:${port}`, '--gdb-wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '', out = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const t0 = Date.now();
    while (!err.includes('waits for a debugger') && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 20));
    expect(err).toContain(`soulvm: gdb listening on tcp 127.0.0.1:${port}`);
    expect(err).toContain(`target remote 127.0.0.1:${port}`);
    const gdb = new Gdb([ELF]);
    try {
      await gdb.ok(`-target-select remote 127.0.0.1:${port}`);
      await gdb.stopped();
      expect(await gdb.eval('$eip')).toBe('0xfff0');
      await gdb.ok('-break-insert tick');
      await gdb.ok('-exec-continue');
      expect(await gdb.stopped()).toMatch(/breakpoint-hit/);
      await gdb.cli('set {int}&go_home = 1');
      await gdb.ok('-break-delete');
      await gdb.ok('-target-detach');
    } finally { await gdb.quit(); }
    expect(await exited).toBe(0);
    expect(out).toContain('DONE');
  });
});
