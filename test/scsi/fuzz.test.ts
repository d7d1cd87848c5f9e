// Both adapters under random guest traffic: random register writes and reads, mailboxes
// initialized over random memory and started again and again, random CCBs, CDBs and
// scatter-gather lists pointing anywhere (past RAM, into the ROM). No host exception, the
// status register stays a status register, and the ROM is never written. (That nothing
// outside the buffers a CCB names is written is buslogic.test.ts's business: random lists here
// legitimately point anywhere in RAM.)
import { describe, expect, it } from 'vitest';
import { irqLine } from '../../src/bus/interrupts.ts';
import { Dma8237 } from '../../src/devices/dma8237.ts';
import { Aha1542 } from '../../src/devices/scsi/aha1542.ts';
import { BusLogic } from '../../src/devices/scsi/buslogic.ts';
import { ScsiCdrom } from '../../src/devices/scsi/cdrom.ts';
import { ScsiDisk } from '../../src/devices/scsi/disk.ts';
import type { ScsiTarget } from '../../src/devices/scsi/scsi.ts';
import { rng } from '../disk/rng.ts';
import { cfgWrite, MemoryDisk, testPc } from '../ide/helpers.ts';

const WINDOW = 0x100000, WINDOW_END = 0x200000; // where the fuzzer puts mailboxes and CCBs
const IO = 0xd000;

function targets(): (ScsiTarget | undefined)[] {
  const t: (ScsiTarget | undefined)[] = [];
  t[0] = new ScsiDisk(new MemoryDisk(4096).fillPattern());
  t[2] = new ScsiDisk(new MemoryDisk(64, 512, true));
  t[5] = new ScsiCdrom(new MemoryDisk(64, 2048, true));
  return t;
}

for (const model of ['buslogic', 'aha1542'] as const) {
  describe(`${model} under random traffic`, () => {
    for (const seed of [1, 2, 3]) {
      it(`seed ${seed}: 4000 rounds, no exception, the ROM never written`, () => {
        const r = rng(seed * 7919 + (model === 'aha1542' ? 1 : 0));
        const pc = testPc([], [], 32);
        const base = model === 'buslogic' ? IO : 0x330;
        if (model === 'buslogic') {
          new BusLogic(pc.pci, 8, targets());
          cfgWrite(pc.io, 8 << 3, 0x10, IO | 1, 4);
          cfgWrite(pc.io, 8 << 3, 0x04, 0x0007, 2);
        } else {
          const dma = new Dma8237(pc.io, pc.mem);
          new Aha1542(pc.io, pc.mem, dma, (n) => irqLine(pc.irqs, n), targets(), { port: 0x330, irq: 10, dma: 5 });
          pc.io.write8(0xd6, 0xc1); pc.io.write8(0xd4, 0x01);
        }
        pc.mem.writeBytes(WINDOW, r.bytes(WINDOW_END - WINDOW));
        const rom = r.bytes(0x10000);
        pc.mem.mapRom(rom, 0xf0000, 0xffff0000);
        const romAt = [0xf0000, 0xffff0000];
        const addr = () => (r.int(4) === 0 ? romAt[r.int(2)] + r.int(0x10000) : r.int(4) === 0 ? r.int(0x100000000) : WINDOW + r.int(WINDOW_END - WINDOW - 64)) >>> 0;
        const inWindow = () => WINDOW + r.int(WINDOW_END - WINDOW - 64);
        const put32le = (a: number, v: number) => pc.mem.writeBytes(a, Uint8Array.of(v, v >>> 8, v >>> 16, v >>> 24));
        let mbBase = -1, mbCount = 0, wide = false, loaded = 0;
        for (let round = 0; round < 4000; round++) {
          const what = r.int(10);
          if (what === 0) pc.io.write8(base, [0x80, 0x40, 0x20, 0x10, r.int(256)][r.int(5)]);
          else if (what <= 2) pc.io.write8(base + 1, r.int(256));
          else if (what === 3) pc.io.read8(base + r.int(4));
          else if (what === 4) {
            // (re)initialize mailboxes inside the window: 24-bit or 32-bit
            const mb = inWindow() & 0xfffff0, count = 1 + r.int(8);
            wide = model === 'buslogic' && r.int(2) === 1;
            if (wide) for (const b of [0x81, count, mb, mb >>> 8, mb >>> 16, 0]) pc.io.write8(base + 1, b & 0xff);
            else for (const b of [0x01, count, mb >>> 16, mb >>> 8, mb]) pc.io.write8(base + 1, b & 0xff);
            mbBase = mb; mbCount = count;
          } else {
            // A CCB in the window with random fields but a plausible shape, then start.
            const ccb = inWindow();
            const c = r.bytes(40);
            c[0] = [0, 2, 3, 4, 0x81, r.int(256)][r.int(6)];
            c[2] = r.int(3) ? [6, 10, 12][r.int(3)] : r.int(256);
            c[16] = r.int(3) ? [0, 2, 5, 7][r.int(4)] : r.int(256);
            c[18] = [0x00, 0x03, 0x12, 0x25, 0x28, 0x2a, 0x1a, 0x5a, 0x43, 0x46, 0x2f, 0x35, 0xa0, 0x9e, r.int(256)][r.int(15)];
            pc.mem.writeBytes(ccb, c);
            if (r.int(2)) put32le(ccb + 4, r.int(3) ? r.int(0x20000) : r.int(0x100000000));
            put32le(ccb + 8, addr());
            put32le(ccb + 36, addr());
            // Point the outgoing mailboxes at it (mostly with START), free the incoming ones, start.
            if (mbBase >= 0) {
              for (let i = 0; i < mbCount; i++) {
                const action = r.int(5) ? 1 : r.int(256);
                if (wide) { put32le(mbBase + i * 8, ccb); pc.mem.writeBytes(mbBase + i * 8 + 7, Uint8Array.of(action)); }
                else pc.mem.writeBytes(mbBase + i * 4, Uint8Array.of(action, ccb >>> 16, ccb >>> 8, ccb));
                pc.mem.writeBytes(mbBase + (mbCount + i) * (wide ? 8 : 4) + (wide ? 7 : 0), Uint8Array.of(0));
              }
            }
            pc.io.write8(base + 1, 0x02);
            if (pc.io.read8(base + 2) & 0x01) loaded++;
          }
          const s = pc.io.read8(base);
          expect(s & 0x02).toBe(0); // reserved bit never set
        }
        expect(loaded).toBeGreaterThan(100); // CCBs did run
        expect(pc.mem.readBytes(0xf0000, 0x10000)).toEqual(rom);
        expect(pc.mem.readBytes(0xffff0000, 0x10000)).toEqual(rom);
      });
    }
  });
}
