// The AHA-1542C on the ISA bus with the 8237, driven as Linux's aha1542.c drives it: the
// presence test (soft reset, INIT and IDLE, inquiry), configuration, 24-bit mailboxes and
// CCBs, the DMA channel in cascade mode; and the 8237's registers on their own.
import { beforeEach, describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io.ts';
import { MemoryBus } from '../../src/bus/memory.ts';
import { irqLine } from '../../src/bus/interrupts.ts';
import { Dma8237 } from '../../src/devices/dma8237.ts';
import { Aha1542 } from '../../src/devices/scsi/aha1542.ts';
import { ScsiDisk } from '../../src/devices/scsi/disk.ts';
import { IrqRecorder, MemoryDisk } from '../ide/helpers.ts';

const BASE = 0x330, MB = 0x8000, CCB = 0x9000, DATA = 0xa000;

describe('Adaptec AHA-1542C', () => {
  let io: IoBus, mem: MemoryBus, dma: Dma8237, irqs: IrqRecorder, aha: Aha1542, disk: MemoryDisk;
  const status = () => io.read8(BASE), intr = () => io.read8(BASE + 2);
  const cmd = (bytes: number[], reply = 0) => {
    for (const b of bytes) { expect(status() & 0x08).toBe(0); io.write8(BASE + 1, b); }
    const out: number[] = [];
    for (let i = 0; i < reply; i++) { expect(status() & 0x04).toBe(0x04); out.push(io.read8(BASE + 1)); }
    return out;
  };
  const cascade = () => { io.write8(0xd6, 0xc1); io.write8(0xd4, 0x01); }; // set_dma_mode(5, CASCADE); enable_dma(5)

  beforeEach(() => {
    io = new IoBus(); mem = new MemoryBus(32 << 20); dma = new Dma8237(io, mem); irqs = new IrqRecorder();
    disk = new MemoryDisk(2048).fillPattern();
    aha = new Aha1542(io, mem, dma, (n) => irqLine(irqs, n), [new ScsiDisk(disk)], { port: BASE, irq: 11, dma: 5 });
  });

  it('passes aha1542_test_port and reports its configuration; BusLogic-only commands are invalid', () => {
    expect(status()).not.toBe(0xff);
    io.write8(BASE, 0x20);                 // interrupt reset
    io.write8(BASE, 0x40 | 0x20);          // soft reset
    let s = status();
    for (let i = 0; i < 5 && (s & 0x80); i++) s = status();
    expect(s & 0xfd).toBe(0x30);           // INIT | IDLE, no STST DIAGF INVDCMD DF CDF
    expect(intr() & 0x0f).toBe(0);         // no interrupt from the reset
    expect(cmd([0x04], 4)).toEqual([0x44, 0x41, 0x30, 0x31]);
    expect(status() & 0x04).toBe(0);       // reading the last byte clears DF
    expect(intr() & 0x04).toBe(0x04);      // HACC
    io.write8(BASE, 0x20);
    expect(cmd([0x0b], 3)).toEqual([0x20, 0x04, 7]); // DMA 5, IRQ 11, ID 7
    io.write8(BASE, 0x20);
    expect(cmd([0x28], 2)).toEqual([0, 0]);
    io.write8(BASE, 0x20);
    expect(irqs.level[11]).toBe(false);
    io.write8(BASE + 1, 0x8d);             // Inquire extended setup information: not an AHA command
    expect(status() & 0x01).toBe(0x01);
    expect(intr() & 0x04).toBe(0x04);
    expect(irqs.level[11]).toBe(true);
    io.write8(BASE, 0x20);
    expect(irqs.level[11]).toBe(false);
    expect(io.read8(BASE + 3)).toBe(0xff);  // no geometry register
  });

  it('runs a 24-bit CCB once its DMA channel is in cascade mode; sense follows the CDB', () => {
    cmd([0x01, 1, MB >>> 16, (MB >>> 8) & 0xff, MB & 0xff]);
    expect(status() & 0x20).toBe(0);
    io.write8(BASE, 0x20);
    const ccb = (cdb: number[], dirBits: number, len: number, id = 0) => {
      const c = new Uint8Array(30 + 16);
      c[0] = 0; c[1] = (id << 5) | dirBits; c[2] = cdb.length; c[3] = 16;
      c[4] = len >>> 16; c[5] = len >>> 8; c[6] = len;
      c[7] = DATA >>> 16; c[8] = DATA >>> 8; c[9] = DATA & 0xff;
      c.set(cdb, 18);
      mem.writeBytes(CCB, c);
      mem.writeBytes(MB, Uint8Array.of(1, CCB >>> 16, (CCB >>> 8) & 0xff, CCB & 0xff));
      io.write8(BASE + 1, 0x02);
    };
    ccb([0x00, 0, 0, 0, 0, 0], 0x18, 0);
    expect(mem.read8(MB)).toBe(1);          // no DMA channel yet: the mailbox stays full
    cascade();
    io.write8(BASE + 1, 0x02);
    expect(mem.read8(MB)).toBe(0);
    expect([...mem.readBytes(MB + 4, 4)]).toEqual([4, CCB >>> 16, (CCB >>> 8) & 0xff, CCB & 0xff]); // error: unit attention
    expect([mem.read8(CCB + 14), mem.read8(CCB + 15)]).toEqual([0, 2]);
    expect([mem.read8(CCB + 18 + 6 + 2), mem.read8(CCB + 18 + 6 + 12)]).toEqual([6, 0x29]);
    expect(irqs.level[11]).toBe(true);
    expect(intr()).toBe(0x81);
    io.write8(BASE, 0x20);
    mem.writeBytes(MB + 4, Uint8Array.of(0));
    ccb([0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0], 0x08, 1024);
    expect(mem.read8(MB + 4)).toBe(1);
    expect(mem.readBytes(DATA, 1024)).toEqual(disk.bytes.subarray(3 * 512, 5 * 512));
    io.write8(BASE, 0x20);
    mem.writeBytes(MB + 4, Uint8Array.of(0));
    // An absent target: selection timeout.
    ccb([0x00, 0, 0, 0, 0, 0], 0, 0, 3);
    expect(mem.read8(MB + 4)).toBe(4);
    expect(mem.read8(CCB + 14)).toBe(0x11);
  });
});

describe('8237 DMA controllers', () => {
  it('address and count through the flip-flop, mode, masks, a single-mode transfer to terminal count', () => {
    const io = new IoBus(), mem = new MemoryBus(4 << 20), dma = new Dma8237(io, mem);
    io.write8(0x0c, 0);                                // clear flip-flop
    io.write8(0x04, 0x00); io.write8(0x04, 0x10);      // channel 2 address 1000h
    io.write8(0x05, 0x03); io.write8(0x05, 0x00);      // count 3: four bytes
    io.write8(0x81, 0x02);                             // page 2: 21000h
    io.write8(0x0b, 0x46);                             // channel 2: single, write to memory
    expect(dma.transfer(2, Uint8Array.of(1, 2, 3, 4, 5), 0, 5)).toBe(0); // masked
    io.write8(0x0a, 0x02);                             // unmask channel 2
    expect(dma.transfer(2, Uint8Array.of(1, 2, 3, 4, 5), 0, 5)).toBe(0); // DMA1 needs channel 4 cascaded
    io.write8(0xd6, 0xc0); io.write8(0xd4, 0x00);      // channel 4 cascade, unmasked (what a BIOS does)
    expect(dma.transfer(2, Uint8Array.of(1, 2, 3, 4, 5), 0, 5)).toBe(4);
    expect([...mem.readBytes(0x21000, 5)]).toEqual([1, 2, 3, 4, 0]);
    expect(io.read8(0x08) & 0x04).toBe(0x04);          // terminal count, cleared by the read
    expect(io.read8(0x08) & 0x04).toBe(0);
    expect(io.read8(0x0f) & 0x04).toBe(0x04);          // masked itself (no autoinitialize)
    io.write8(0x0c, 0);
    expect(io.read8(0x04) | (io.read8(0x04) << 8)).toBe(0x1004);
    expect(io.read8(0x05) | (io.read8(0x05) << 8)).toBe(0xffff);
    io.write8(0xda, 0);                                // master clear DMA2: all masked
    expect(dma.cascaded(5)).toBe(false);
    io.write8(0xd6, 0xc1); io.write8(0xd4, 0x01);
    expect(dma.cascaded(5)).toBe(true);
    io.write8(0xde, 0x02);                             // write all mask bits: channel 5 masked
    expect(dma.cascaded(5)).toBe(false);
  });
});

describe('saved state', () => {
  it('an AHA-1542, its DMA controllers and a SCSI disk come back as they were', async () => {
    const { saveState, loadState } = await import('../../src/state/state.ts');
    const io = new IoBus(), mem = new MemoryBus(4 << 20), dma = new Dma8237(io, mem), irqs = new IrqRecorder();
    const disk = new ScsiDisk(new MemoryDisk(64));
    const aha = new Aha1542(io, mem, dma, (n) => irqLine(irqs, n), [disk], { port: 0x334, irq: 12, dma: 6 });
    for (const b of [0x01, 2, 0x00, 0x80, 0x00]) io.write8(0x335, b);   // mailboxes at 8000h
    io.write8(0xd6, 0xc2); io.write8(0xd4, 0x02);                       // channel 6 cascade
    io.write8(0x335, 0x04);                                             // an inquiry, reply unread
    expect(io.read8(0x335)).toBe(0x44);
    disk.execute(0, Uint8Array.of(0, 0, 0, 0, 0, 0), { length: 0, write() {}, read() {} }); // consume the unit attention
    const saved = [saveState(aha.stateDesc, aha), saveState(dma.stateDesc, dma), saveState(disk.stateDesc, disk)];
    const io2 = new IoBus(), mem2 = new MemoryBus(4 << 20), dma2 = new Dma8237(io2, mem2), irqs2 = new IrqRecorder();
    const disk2 = new ScsiDisk(new MemoryDisk(64));
    const aha2 = new Aha1542(io2, mem2, dma2, (n) => irqLine(irqs2, n), [disk2], { port: 0x334, irq: 12, dma: 6 });
    loadState(aha2.stateDesc, aha2, saved[0]);
    loadState(dma2.stateDesc, dma2, saved[1]);
    loadState(disk2.stateDesc, disk2, saved[2]);
    expect(io2.read8(0x334) & 0x24).toBe(0x04);   // mailboxes initialized, reply waiting
    expect([io2.read8(0x335), io2.read8(0x335), io2.read8(0x335)]).toEqual([0x41, 0x30, 0x31]);
    expect(dma2.cascaded(6)).toBe(true);
    expect(disk2.execute(0, Uint8Array.of(0, 0, 0, 0, 0, 0), { length: 0, write() {}, read() {} }).status).toBe(0); // no second unit attention
  });
});
