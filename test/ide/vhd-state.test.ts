import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createVhd, openDisk, VhdDisk } from '../../src/disk/index.ts';
import { AtaDisk } from '../../src/devices/ide/ata-disk.ts';
import { saveAll, loadAll, StateError } from '../../src/state/state.ts';
import { AtaPorts, BMIBA, MemoryDisk, testPc, writePrds } from './helpers.ts';

const DRDY = 0x40, DRQ = 0x08;

describe('ATA disk over a real VHD file', () => {
  it('writes by DMA and PIO reach the VHD file, flushed, and read back after reopening', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soulvm-ide-'));
    try {
      const file = path.join(dir, 'disk.vhd');
      createVhd(file, { type: 'dynamic', size: 64 << 20 });
      const vhd = VhdDisk.open(file);
      const { io, mem } = testPc([new AtaDisk(vhd)]);
      const ata = new AtaPorts(io);
      const pattern = new Uint8Array(64 * 1024).map((_, i) => (i * 251 + (i >> 9)) & 0xff);
      mem.writeBytes(0x100000, pattern);
      writePrds(mem, 0x8000, [[0x100000, 0, true]]);
      ata.lba28(0, 12345, 128);
      ata.command(0xca);
      io.write32(BMIBA + 4, 0x8000);
      io.write8(BMIBA, 1);
      expect(ata.status()).toBe(DRDY | 0x10);
      ata.lba28(0, 99999, 1);
      ata.command(0x30);
      ata.writeBytes(pattern.subarray(0, 512));
      expect(ata.status()).toBe(DRDY | 0x10);
      ata.command(0xe7);
      expect(ata.status()).toBe(DRDY | 0x10);
      // Read back through the controller by DMA, into other memory.
      writePrds(mem, 0x8000, [[0x200000, 0, true]]);
      io.write8(BMIBA, 8);
      ata.lba28(0, 12345, 128);
      ata.command(0xc8);
      io.write8(BMIBA, 9);
      expect(Buffer.from(mem.readBytes(0x200000, 65536)).equals(Buffer.from(pattern))).toBe(true);
      vhd.close();
      const again = openDisk(file);
      const buf = new Uint8Array(65536);
      again.read(12345, buf);
      expect(Buffer.from(buf).equals(Buffer.from(pattern))).toBe(true);
      const one = new Uint8Array(512);
      again.read(99999, one);
      expect(Buffer.from(one).equals(Buffer.from(pattern.subarray(0, 512)))).toBe(true);
      again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('saved state of the PCI/IDE devices', () => {
  function machine(disk: MemoryDisk) {
    const pc = testPc([new AtaDisk(disk)]);
    const devices = [pc.pci, pc.host, pc.isa, pc.ide];
    return { ...pc, devices, ata: new AtaPorts(pc.io) };
  }

  it('a PIO transfer saved half-way continues identically after loading into a new machine', () => {
    const disk = new MemoryDisk(256).fillPattern();
    const a = machine(disk);
    a.ata.set(2, 4); a.ata.command(0xc6);        // multiple mode 4
    a.ata.lba28(0, 17, 8);
    a.ata.command(0xc4);
    a.ata.status();
    const first = a.ata.readBytes(1000);
    const blob = saveAll(a.devices);
    const restA = a.ata.readBytes(8 * 512 - 1000);
    const b = machine(disk);
    loadAll(b.devices, blob);
    expect(b.ata.alt() & DRQ).toBe(DRQ);
    const restB = b.ata.readBytes(8 * 512 - 1000);
    expect(Buffer.from(restB).equals(Buffer.from(restA))).toBe(true);
    expect(Buffer.concat([first, restB]).equals(Buffer.from(disk.bytes.subarray(17 * 512, 25 * 512)))).toBe(true);
    expect(b.ata.status()).toBe(DRDY | 0x10);
    expect(b.io.read8(BMIBA + 2)).toBe(a.io.read8(BMIBA + 2)); // BAR 4 remapped at the same place
  });

  it('rejects a corrupt state without changing the machine', () => {
    const disk = new MemoryDisk(64);
    const a = machine(disk);
    const blob = saveAll(a.devices);
    const b = machine(disk);
    b.ata.set(3, 0x42);
    expect(() => loadAll(b.devices, blob.subarray(0, blob.length - 3))).toThrow(StateError);
    expect(b.ata.reg(3)).toBe(0x42);
  });
});
