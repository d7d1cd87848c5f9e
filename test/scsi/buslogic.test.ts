// The BT-958 on the PCI bus, driven the way Linux's BusLogic.c drives it: probe, hard reset
// and diagnostics, host adapter commands byte by byte, 32-bit mailboxes, CCBs with and
// without scatter-gather, residuals, auto-sense, interrupts through PIRQ routing; and the bad
// input a guest can give (CCBs and lists outside RAM or in ROM, bad CDB lengths, unknown
// opcodes and commands, absent targets and LUNs, failing disks).
import { beforeEach, describe, expect, it } from 'vitest';
import { BusLogic } from '../../src/devices/scsi/buslogic.ts';
import { ScsiDisk } from '../../src/devices/scsi/disk.ts';
import { ScsiCdrom } from '../../src/devices/scsi/cdrom.ts';
import type { ScsiTarget } from '../../src/devices/scsi/scsi.ts';
import { cfgRead, cfgWrite, MemoryDisk, testPc, type TestPc } from '../ide/helpers.ts';

const IO = 0xd000, SLOT = 8, DEVFN = SLOT << 3, IRQ = 11;
const MB = 0x10000;          // mailboxes: 4 outgoing at MB, 4 incoming at MB + 32
const CCB = 0x20000, SG = 0x21000, SENSE = 0x22000, DATA = 0x30000;

class Driver {
  constructor(readonly pc: TestPc) {}
  status(): number { return this.pc.io.read8(IO); }
  int(): number { return this.pc.io.read8(IO + 2); }
  control(v: number): void { this.pc.io.write8(IO, v); }
  /** blogic_cmd: opcode, parameters while the adapter takes them, reply bytes until command complete. */
  cmd(op: number, params: number[] = [], replyLen = 0): { reply: number[]; invalid: boolean; complete: boolean } {
    expect(this.status() & 0x18).toBe(0x10); // ready, not busy
    this.pc.io.write8(IO + 1, op);
    for (const p of params) {
      if (this.int() & 0x04 || this.status() & 0x04) break;
      this.pc.io.write8(IO + 1, p);
    }
    const reply: number[] = [];
    let complete = false;
    for (let guard = 0; guard < 1000; guard++) {
      if (this.int() & 0x04) { complete = true; break; }
      if (this.status() & 0x04) reply.push(this.pc.io.read8(IO + 1));
      else if (op === 0x95 || op === 0x02) break;
    }
    const invalid = (this.status() & 0x01) !== 0;
    this.control(0x20); // interrupt reset
    expect(reply.length).toBeLessThanOrEqual(Math.max(replyLen, reply.length));
    return { reply, invalid, complete };
  }
  /** Hard reset and wait for diagnostics as blogic_hwreset does. */
  hardReset(): void {
    this.control(0x80);
    let sawDiag = false;
    for (let i = 0; i < 10 && !sawDiag; i++) sawDiag = (this.status() & 0x80) !== 0;
    expect(sawDiag).toBe(true);
    expect(this.status()).toBe(0x30); // init required, ready
  }
  initMailboxes(count = 4): void {
    const r = this.cmd(0x81, [count, MB & 0xff, (MB >>> 8) & 0xff, (MB >>> 16) & 0xff, MB >>> 24]);
    expect(r).toMatchObject({ invalid: false, complete: true });
    expect(this.status() & 0x20).toBe(0);
  }
}

/** A 32-bit CCB (BusLogic.h struct blogic_ccb). */
function writeCcb(pc: TestPc, at: number, o: { op?: number; dir?: number; id: number; lun?: number; cdb: number[]; len?: number; data?: number; senseLen?: number; sense?: number }): void {
  const c = new Uint8Array(40);
  c[0] = o.op ?? 0; c[1] = (o.dir ?? 0) << 3; c[2] = o.cdb.length; c[3] = o.senseLen ?? 32;
  new DataView(c.buffer).setUint32(4, o.len ?? 0, true);
  new DataView(c.buffer).setUint32(8, o.data ?? 0, true);
  c[14] = 0xee; c[15] = 0xee; // the adapter overwrites them
  c[16] = o.id; c[17] = o.lun ?? 0;
  c.set(o.cdb, 18);
  new DataView(c.buffer).setUint32(36, o.sense ?? SENSE, true);
  pc.mem.writeBytes(at, c);
}

const u32 = (pc: TestPc, a: number) => new DataView(pc.mem.readBytes(a, 4).buffer).getUint32(0, true);

describe('BusLogic BT-958', () => {
  let pc: TestPc, bt: BusLogic, drv: Driver, disk: MemoryDisk, cd: MemoryDisk;
  let outbox = 0, inbox = 0;
  /** Post a CCB through the next outgoing mailbox, start it, and return its incoming mailbox. */
  const submit = (ccb: number, action = 1) => {
    const ob = MB + (outbox++ % 4) * 8;
    pc.mem.writeBytes(ob, Uint8Array.of(ccb, ccb >>> 8, ccb >>> 16, ccb >>> 24, 0, 0, 0, action));
    pc.io.write8(IO + 1, 0x02);
    const ib = MB + 32 + (inbox++ % 4) * 8;
    const m = pc.mem.readBytes(ib, 8);
    return { outFree: pc.mem.readBytes(ob + 7, 1)[0] === 0, ccb: u32(pc, ib), host: m[4], target: m[5], code: m[7], free: () => pc.mem.writeBytes(ib + 7, Uint8Array.of(0)) };
  };

  function build(targets: (ScsiTarget | undefined)[]): void {
    pc = testPc();
    bt = new BusLogic(pc.pci, SLOT, targets);
    cfgWrite(pc.io, DEVFN, 0x10, IO | 1, 4);
    cfgWrite(pc.io, DEVFN, 0x14, 0xe0000000, 4);
    cfgWrite(pc.io, DEVFN, 0x3c, IRQ, 1);
    cfgWrite(pc.io, DEVFN, 0x04, 0x0007, 2);
    cfgWrite(pc.io, 0x38, 0x63, IRQ, 1); // PIRQD (slot 8, INTA#) -> IRQ 11
    drv = new Driver(pc);
    outbox = inbox = 0;
  }

  beforeEach(() => {
    disk = new MemoryDisk(8192).fillPattern();
    cd = new MemoryDisk(100, 2048, true).fillPattern();
    const targets: (ScsiTarget | undefined)[] = [];
    targets[0] = new ScsiDisk(disk);
    targets[3] = new ScsiCdrom(cd);
    build(targets);
  });

  it('PCI identity and BARs as BusLogic.c probes them', () => {
    expect(cfgRead(pc.io, DEVFN, 0x00, 4)).toBe(0x1040104b);
    expect(cfgRead(pc.io, DEVFN, 0x08, 4) >>> 8).toBe(0x010000);
    expect(cfgRead(pc.io, DEVFN, 0x10, 4) & 1).toBe(1);      // BAR0: I/O
    expect(cfgRead(pc.io, DEVFN, 0x14, 4) & 1).toBe(0);      // BAR1: memory
    expect(cfgRead(pc.io, DEVFN, 0x3d, 1)).toBe(1);          // INTA#
    // blogic_probe: a status that is not zero, no diagnostics, no reserved bits; a geometry register that is not FFh.
    expect(drv.status()).toBe(0x30);
    expect(drv.int() & 0x70).toBe(0);
    expect(pc.io.read8(IO + 3)).not.toBe(0xff);
    expect(pc.mem.read8(0xe0000000)).toBe(0x30);             // the registers through BAR1 too
  });

  it('configuration commands answer as a BT-958 with firmware 5.07B; unknown commands are invalid', () => {
    drv.hardReset();
    expect(drv.cmd(0x04, [], 4).reply).toEqual([0x41, 0x41, 0x35, 0x30]);
    expect(drv.cmd(0x84, [], 1).reply).toEqual([0x37]);
    expect(drv.cmd(0x85, [], 1).reply).toEqual([0x42]);
    expect(drv.cmd(0x8b, [5], 5).reply).toEqual([0x39, 0x35, 0x38, 0, 0]);
    const ext = drv.cmd(0x8d, [14], 14).reply;
    expect(ext).toHaveLength(14);
    expect(ext[2] | (ext[3] << 8)).toBeGreaterThanOrEqual(128); // scatter-gather limit
    expect(ext[13] & 1).toBe(1);                                // wide
    expect(drv.cmd(0x0b, [], 3).reply).toEqual([0, 0x04, 7]);  // IRQ 11, SCSI ID 7
    expect(drv.cmd(0x0d, [34], 34).reply).toHaveLength(34);
    expect(drv.cmd(0x86, [], 4).reply.slice(0, 2)).toEqual([6, IRQ]);
    expect(drv.cmd(0x91, [64 + 45, 1], 1).reply).toHaveLength(1);
    expect(drv.cmd(0x91, [64, 64], 64).reply.slice(0, 2)).toEqual([0x42, 0x54]);
    expect(drv.cmd(0x24, [], 2).reply).toEqual([0x09, 0x00]); // targets 0 and 3
    expect(drv.cmd(0x0a, [], 8).reply).toEqual([1, 0, 0, 1, 0, 0, 0, 0]);
    expect(drv.cmd(0x1f, [0x5a], 1).reply).toEqual([0x5a]);
    const mod = drv.cmd(0x95, [6]);                              // modify I/O address: no interrupt
    expect(mod).toMatchObject({ invalid: false, complete: false });
    expect(drv.cmd(0x8f, [1])).toMatchObject({ invalid: false, complete: true });
    expect(drv.cmd(0x96, [1])).toMatchObject({ invalid: false, complete: true });
    const bad = drv.cmd(0x77);
    expect(bad).toMatchObject({ invalid: true, complete: true });
    drv.control(0x40); // soft reset clears it
    expect(drv.status() & 0x80).toBe(0x80);
    expect(drv.status()).toBe(0x30);
    expect(drv.cmd(0x81, [0, 0, 0, 0, 0]).invalid).toBe(true); // zero mailboxes
    expect(drv.cmd(0x96, [2]).invalid).toBe(true);             // bad parameter
  });

  it('READ(10) through a scatter-gather list lands in each segment and nowhere else; the interrupt goes out on IRQ 11', () => {
    drv.hardReset();
    drv.initMailboxes();
    drv.cmd(0x8f, [1]);
    // The first command after the bus reset reports its unit attention (auto-sense fills the sense buffer).
    writeCcb(pc, CCB, { op: 0, id: 0, cdb: [0, 0, 0, 0, 0, 0] });
    const ua = submit(CCB);
    expect(ua).toMatchObject({ ccb: CCB, code: 4, host: 0, target: 2 });
    expect(pc.irqs.level[IRQ]).toBe(true);
    expect(drv.int()).toBe(0x81);
    drv.control(0x20);
    expect(pc.irqs.level[IRQ]).toBe(false);
    const sense = pc.mem.readBytes(SENSE, 18);
    expect([sense[0], sense[2], sense[12]]).toEqual([0x70, 6, 0x29]);
    ua.free();

    pc.mem.writeBytes(DATA, new Uint8Array(0x3000).fill(0xcc));
    // Three segments: 1000 bytes, 24 bytes, 1024 bytes at scattered places (4 sectors from LBA 5).
    const segs = [[1000, DATA + 0x100], [24, DATA + 0x1000], [1024, DATA + 0x2000]];
    const list = new Uint8Array(24);
    segs.forEach(([n, a], i) => { new DataView(list.buffer).setUint32(i * 8, n, true); new DataView(list.buffer).setUint32(i * 8 + 4, a, true); });
    pc.mem.writeBytes(SG, list);
    writeCcb(pc, CCB, { op: 2, dir: 1, id: 0, cdb: [0x28, 0, 0, 0, 0, 5, 0, 0, 4, 0], len: 24, data: SG });
    const r = submit(CCB);
    expect(r).toMatchObject({ code: 1, host: 0, target: 0, outFree: true });
    expect(pc.mem.readBytes(CCB + 14, 2)).toEqual(Uint8Array.of(0, 0));
    const want = disk.bytes.subarray(5 * 512, 9 * 512);
    expect(pc.mem.readBytes(DATA + 0x100, 1000)).toEqual(want.subarray(0, 1000));
    expect(pc.mem.readBytes(DATA + 0x1000, 24)).toEqual(want.subarray(1000, 1024));
    expect(pc.mem.readBytes(DATA + 0x2000, 1024)).toEqual(want.subarray(1024, 2048));
    for (const a of [DATA + 0xff, DATA + 0x100 + 1000, DATA + 0xfff, DATA + 0x1018, DATA + 0x1fff, DATA + 0x2400]) expect(pc.mem.read8(a)).toBe(0xcc);
  });

  it('WRITE(10) from a flat buffer; residual CCBs report what the buffer did not get; an overrun is host status 12h', () => {
    drv.hardReset(); drv.initMailboxes();
    writeCcb(pc, CCB, { id: 0, cdb: [0, 0, 0, 0, 0, 0] }); submit(CCB).free(); drv.control(0x20);
    const data = new Uint8Array(1024).map((_, i) => i * 3);
    pc.mem.writeBytes(DATA, data);
    writeCcb(pc, CCB, { op: 0, dir: 2, id: 0, cdb: [0x2a, 0, 0, 0, 0, 40, 0, 0, 2, 0], len: 1024, data: DATA });
    expect(submit(CCB)).toMatchObject({ code: 1, host: 0 });
    expect(disk.bytes.subarray(40 * 512, 42 * 512)).toEqual(data);
    // INQUIRY with a 96-byte buffer: 36 bytes come, 60 are residual (opcode 03h).
    writeCcb(pc, CCB, { op: 3, dir: 1, id: 3, cdb: [0x12, 0, 0, 0, 96, 0], len: 96, data: DATA });
    expect(submit(CCB)).toMatchObject({ code: 1, host: 0, target: 0 });
    expect(u32(pc, CCB + 4)).toBe(60);
    expect(pc.mem.read8(DATA)).toBe(5);                          // the CD-ROM at ID 3
    // READ of 2 sectors into 512 bytes: overrun; the buffer is filled and nothing beyond it.
    pc.mem.writeBytes(DATA, new Uint8Array(1024).fill(0xcc));
    writeCcb(pc, CCB, { op: 0, dir: 1, id: 0, cdb: [0x28, 0, 0, 0, 0, 40, 0, 0, 2, 0], len: 512, data: DATA });
    expect(submit(CCB)).toMatchObject({ code: 4, host: 0x12 });
    expect(pc.mem.readBytes(DATA, 512)).toEqual(data.subarray(0, 512));
    expect(pc.mem.read8(DATA + 512)).toBe(0xcc);
    // A WRITE marked data-in: the adapter lets no data out; nothing is written.
    const before = disk.bytes.slice(60 * 512, 61 * 512);
    writeCcb(pc, CCB, { op: 0, dir: 1, id: 0, cdb: [0x2a, 0, 0, 0, 0, 60, 0, 0, 1, 0], len: 512, data: DATA });
    expect(submit(CCB)).toMatchObject({ code: 4, host: 0x12 });
    expect(disk.bytes.subarray(60 * 512, 61 * 512)).toEqual(before);
  });

  it('bad input: absent targets, other LUNs, bad CDB lengths and CCB opcodes, unknown actions, CCBs and lists outside RAM or in ROM', () => {
    drv.hardReset(); drv.initMailboxes();
    writeCcb(pc, CCB, { id: 0, cdb: [0, 0, 0, 0, 0, 0] }); submit(CCB).free(); drv.control(0x20);
    const expectResult = (o: Parameters<typeof writeCcb>[2], want: object) => {
      writeCcb(pc, CCB, o);
      const r = submit(CCB);
      expect(r).toMatchObject(want);
      r.free(); drv.control(0x20);
    };
    expectResult({ id: 5, cdb: [0, 0, 0, 0, 0, 0] }, { code: 4, host: 0x11 });                  // nobody at ID 5
    expectResult({ id: 7, cdb: [0, 0, 0, 0, 0, 0] }, { code: 4, host: 0x11 });                  // the adapter itself
    expectResult({ id: 0, lun: 2, cdb: [0, 0, 0, 0, 0, 0] }, { code: 4, host: 0, target: 2 });  // LUN not supported
    expect(pc.mem.readBytes(SENSE + 12, 1)[0]).toBe(0x25);
    expectResult({ id: 0, cdb: [0x28, 0, 0, 0, 0, 0] }, { code: 4, host: 0x1a });               // 6 bytes of READ(10)
    expectResult({ id: 0, cdb: [] }, { code: 4, host: 0x1a });
    expectResult({ id: 0, cdb: [0xc7, 0, 0, 0, 0, 0] }, { code: 4, host: 0, target: 2 });       // unknown opcode
    expect(pc.mem.readBytes(SENSE + 12, 1)[0]).toBe(0x20);
    expectResult({ op: 0x01, id: 0, cdb: [0, 0, 0, 0, 0, 0] }, { code: 4, host: 0x16 });        // target-mode CCB
    expectResult({ op: 2, id: 0, cdb: [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], len: 7, data: SG }, { code: 4, host: 0x1a }); // SG list not whole entries
    // An unknown mailbox action.
    const bad = submit(CCB, 9);
    expect(bad).toMatchObject({ code: 4, host: 0x15 });
    bad.free(); drv.control(0x20);
    // A CCB beyond the end of RAM reads as all ones: an invalid opcode; nothing is written anywhere.
    const ram = pc.mem.bytes.slice(0, 16 << 20);
    const far = submit(0xf0000000);
    expect(far).toMatchObject({ code: 4, ccb: 0xf0000000 });
    far.free(); drv.control(0x20);
    // A READ whose scatter-gather list points into ROM (BIOS area at 0xF0000) and past RAM.
    const list = new Uint8Array(16);
    new DataView(list.buffer).setUint32(0, 512, true); new DataView(list.buffer).setUint32(4, 0xfff00000, true);
    new DataView(list.buffer).setUint32(8, 512, true); new DataView(list.buffer).setUint32(12, 0x7ff00000, true);
    pc.mem.writeBytes(SG, list);
    writeCcb(pc, CCB, { op: 2, dir: 1, id: 0, cdb: [0x28, 0, 0, 0, 0, 1, 0, 0, 2, 0], len: 16, data: SG });
    const beforeRam = pc.mem.bytes.slice(0, 16 << 20);
    expect(submit(CCB)).toMatchObject({ code: 1 });
    const afterRam = pc.mem.bytes.slice(0, 16 << 20);
    // Only the mailboxes and the CCB's status bytes changed.
    for (let i = 0; i < afterRam.length; i++) {
      if (afterRam[i] !== beforeRam[i] && !(i >= MB && i < MB + 64) && !(i >= CCB && i < CCB + 40)) throw new Error(`byte ${i.toString(16)} changed`);
    }
    expect(ram.length).toBe(16 << 20);
    // The sense pointer into ROM: dropped, no exception.
    writeCcb(pc, CCB, { id: 0, lun: 1, cdb: [0, 0, 0, 0, 0, 0], sense: 0xffff0000 });
    expect(submit(CCB)).toMatchObject({ code: 4, target: 2 });
  });

  it('mailboxes in ROM (outgoing ones that never free, incoming ones that never fill) do not hang the adapter', () => {
    const rom = new Uint8Array(0x1000);
    for (let i = 0; i < 4; i++) { rom.set([0, 0x90, 0, 0], i * 8); rom[i * 8 + 7] = 1; } // START, CCB at 9000h
    pc.mem.mapRom(rom, 0xf0000);
    drv.hardReset();
    expect(drv.cmd(0x81, [4, 0x00, 0x00, 0x0f, 0x00])).toMatchObject({ invalid: false, complete: true });
    writeCcb(pc, 0x9000, { id: 0, cdb: [0, 0, 0, 0, 0, 0] });
    pc.io.write8(IO + 1, 0x02);               // returns: the work is bounded
    expect(drv.int() & 0x01).toBe(0x01);      // incoming mailboxes "loaded" (into ROM, so nothing shows)
    expect(pc.mem.readBytes(0xf0000, 0x1000)).toEqual(rom);
  });

  it('a failing disk is a MEDIUM ERROR through auto-sense; bus mastering off holds the mailboxes until it is on; state survives save and load', async () => {
    const { saveState, loadState } = await import('../../src/state/state.ts');
    drv.hardReset(); drv.initMailboxes();
    writeCcb(pc, CCB, { id: 0, cdb: [0, 0, 0, 0, 0, 0] }); submit(CCB).free(); drv.control(0x20);
    disk.failing = true;
    writeCcb(pc, CCB, { dir: 1, id: 0, cdb: [0x28, 0, 0, 0, 0, 9, 0, 0, 1, 0], len: 512, data: DATA, senseLen: 18 });
    expect(submit(CCB)).toMatchObject({ code: 4, host: 0, target: 2 });
    const s = pc.mem.readBytes(SENSE, 18);
    expect([s[2] & 0xf, s[12], s[6]]).toEqual([3, 0x11, 9]);
    drv.control(0x20);
    disk.failing = false;
    const saved = saveState(bt.stateDesc, bt);
    cfgWrite(pc.io, DEVFN, 0x04, 0x0003, 2);         // bus mastering off
    writeCcb(pc, CCB, { id: 0, cdb: [0, 0, 0, 0, 0, 0] });
    const held = submit(CCB);
    expect(held.outFree).toBe(false);
    expect(pc.mem.readBytes(MB + 32 + 16 + 7, 1)[0]).toBe(0);
    cfgWrite(pc.io, DEVFN, 0x04, 0x0007, 2);
    pc.io.write8(IO + 1, 0x02);
    expect(pc.mem.readBytes(MB + 32 + 16 + 7, 1)[0]).toBe(1);
    loadState(bt.stateDesc, bt, saved);
    expect(drv.status()).toBe(0x10);                  // mailboxes still initialized after the load
  });
});
