// Guest nonsense must never crash the host: seeded random register traffic on both IDE
// channels, the bus-master registers (with random PRD tables in memory) and PCI
// configuration space, checking after every access that the devices still answer sanely.
import { describe, it, expect } from 'vitest';
import { AtaDisk } from '../../src/devices/ide/ata-disk.ts';
import { AtapiCdrom } from '../../src/devices/ide/atapi-cdrom.ts';
import { BMIBA, MemoryDisk, testPc } from './helpers.ts';

/** xorshift32: the same sequence on every run. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
}

const PORTS = [
  ...Array.from({ length: 8 }, (_, i) => 0x1f0 + i), 0x3f6,
  ...Array.from({ length: 8 }, (_, i) => 0x170 + i), 0x376,
  ...Array.from({ length: 16 }, (_, i) => BMIBA + i),
];
const COMMANDS = [0x20, 0x24, 0x25, 0x29, 0x30, 0x34, 0x35, 0x39, 0x40, 0x42, 0x70, 0x90, 0x91, 0xa0, 0xa1,
  0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0xe0, 0xe1, 0xe5, 0xe7, 0xea, 0xec, 0xef, 0xf8, 0x27, 0x08, 0x00, 0xff];
const PACKETS = [0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e, 0x25, 0x28, 0x2b, 0x43, 0x46, 0x4a, 0x51, 0x5a, 0xa8, 0xbb, 0xbd, 0xbe, 0xff];

describe('IDE and PCI under random guest traffic', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: 30000 random accesses, no exception, sane status`, () => {
      const rnd = prng(seed * 0x9e3779b9);
      const disk = new MemoryDisk(4096).fillPattern();
      const small = new MemoryDisk(64, 512, true);
      const iso = new MemoryDisk(128, 2048, true).fillPattern();
      const cd = new AtapiCdrom(iso);
      const { io, mem } = testPc([new AtaDisk(disk), new AtaDisk(small)], [cd, undefined], 16);
      for (let i = 0; i < 64; i++) mem.write32(0x8000 + i * 4, rnd()); // a garbage PRD table
      mem.mapRom(new Uint8Array(0x10000).fill(0x5a), 0xf0000);
      for (let step = 0; step < 30000; step++) {
        const r = rnd(), port = PORTS[r % PORTS.length], what = (r >>> 8) & 15;
        if (what < 5) {
          io.read8(port);
        } else if (what < 7) {
          io.read16(port & ~1);
        } else if (what === 7) {
          io.read32(port & ~3);
        } else if (what === 8) { // a command
          io.write8((r & 0x100000) ? 0x177 : 0x1f7, COMMANDS[(r >>> 12) % COMMANDS.length]);
        } else if (what === 9) { // packet bytes
          for (let k = 0; k < 6; k++) io.write16(0x170, PACKETS[(rnd() >>> 3) % PACKETS.length] | ((rnd() & 0xff) << 8));
        } else if (what === 10) { // bus master: PRD pointer into the garbage table or anywhere, start/stop
          io.write32(BMIBA + ((r >>> 12) & 8) + 4, (r & 0x40000) ? 0x8000 + ((r >>> 20) & 0xf8) : rnd());
          io.write8(BMIBA + ((r >>> 12) & 8), rnd() & 9);
        } else if (what === 11) { // PCI configuration space of the IDE function and the others
          io.write32(0xcf8, (0x80000000 | (((r >>> 12) & 0xff) << 8) | ((r >>> 20) & 0xfc)) >>> 0);
          if (r & 0x1000000) io.write8(0xcfc + (r & 3), rnd()); else io.read32(0xcfc);
          io.write32(0xcf8, 0);
        } else {
          io.write8(port, rnd() & 0xff);
        }
        const st = io.read8(0x3f6);
        expect(st).toBeGreaterThanOrEqual(0);
        expect(st).toBeLessThanOrEqual(0xff);
      }
      // Whatever happened, a hardware reset and BIOS-style setup bring the disk back.
      io.write8(0x3f6, 4); io.write8(0x3f6, 0);
      io.write32(0xcf8, 0x80003904); io.write16(0xcfc, 5);
      io.write32(0xcf8, 0x80003940); io.write32(0xcfc, 0x80008000);
      io.write8(0x1f6, 0xe0); io.write8(0x1f2, 1); io.write8(0x1f3, 9); io.write8(0x1f4, 0); io.write8(0x1f5, 0);
      io.write8(0x1f7, 0x20);
      expect(io.read8(0x1f7) & 0x09).toBe(0x08);
      expect(io.read16(0x1f0)).toBe(disk.bytes[9 * 512] | (disk.bytes[9 * 512 + 1] << 8));
    });
  }
});
