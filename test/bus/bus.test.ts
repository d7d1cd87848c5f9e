import { describe, it, expect } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { IoBus } from '../../src/bus/io.ts';

describe('MemoryBus', () => {
  it('reads and writes RAM little-endian at every alignment, across pages', () => {
    const m = new MemoryBus(2 << 20);
    m.write32(0x1000, 0x11223344);
    expect(m.read8(0x1000)).toBe(0x44);
    expect(m.read16(0x1001)).toBe(0x2233);
    expect(m.read32(0x1000) >>> 0).toBe(0x11223344);
    m.write32(0x1ffe, 0xa1b2c3d4 | 0); // straddles two pages
    expect(m.read32(0x1ffe) >>> 0).toBe(0xa1b2c3d4);
    expect(m.read8(0x2000)).toBe(0xb2);
    m.write16(0x2fff, 0xbeef);
    expect(m.read16(0x2fff)).toBe(0xbeef);
  });

  it('maps a ROM image at several addresses, read-only, and drops writes', () => {
    const m = new MemoryBus(2 << 20);
    const rom = new Uint8Array(0x10000);
    rom[0xfff0] = 0xea; rom[0] = 0x55;
    m.mapRom(rom, 0xf0000, 0xffff0000);
    expect(m.read8(0xffff0)).toBe(0xea);
    expect(m.read8(0xfffffff0)).toBe(0xea);
    m.write8(0xf0000, 0x12);
    expect(m.read8(0xf0000)).toBe(0x55);
    expect(m.read8(0xffff0000)).toBe(0x55);
    m.setRomWritable(0xf0000, 0x10000, true); // shadow RAM enabled
    m.write8(0xf0000, 0x12);
    expect(m.read8(0xf0000)).toBe(0x12);
  });

  it('masks address bit 20 while the A20 gate is off and tells listeners', () => {
    const m = new MemoryBus(4 << 20);
    let changes = 0;
    m.onChange(() => changes++);
    m.write8(0x100010, 0xaa);
    m.write8(0x000010, 0xbb);
    expect(m.read8(0x100010)).toBe(0xaa);
    m.setA20(false);
    expect(changes).toBe(1);
    expect(m.read8(0x100010)).toBe(0xbb);
    m.setA20(true);
    expect(m.read8(0x100010)).toBe(0xaa);
  });

  it('routes MMIO pages to handlers, splitting wide accesses when the handler only has bytes', () => {
    const m = new MemoryBus(2 << 20);
    const log: string[] = [];
    const regs = new Uint8Array(16);
    m.mapMmio(0xfec00000, 0x1000, {
      read8: (a) => { log.push(`r${(a & 0xf).toString(16)}`); return regs[a & 0xf]; },
      write8: (a, v) => { log.push(`w${(a & 0xf).toString(16)}=${v.toString(16)}`); regs[a & 0xf] = v; },
    });
    m.write32(0xfec00004, 0x04030201);
    expect(log).toEqual(['w4=1', 'w5=2', 'w6=3', 'w7=4']);
    expect(m.read32(0xfec00004)).toBe(0x04030201);
    expect(m.read8(0xfe000000)).toBe(0xff); // unmapped: open bus
    expect(m.read32(0xfe000000)).toBe(-1);
  });

  it('rejects impossible RAM sizes with a clear error', () => {
    expect(() => new MemoryBus(1000)).toThrow(/multiple of 4 KiB/);
  });
});

describe('IoBus', () => {
  it('answers unmapped ports with all ones and ignores writes', () => {
    const io = new IoBus();
    expect(io.read8(0x1234)).toBe(0xff);
    expect(io.read16(0x1234)).toBe(0xffff);
    expect(io.read32(0x1234)).toBe(0xffffffff);
    expect(() => io.write32(0x1234, 1)).not.toThrow();
  });

  it('splits wide accesses into byte accesses, low port first, when only bytes are decoded', () => {
    const io = new IoBus();
    const seen: string[] = [];
    io.map(0x70, 0x73, {
      read8: (p) => { seen.push(`r${p.toString(16)}`); return p & 0xff; },
      write8: (p, v) => { seen.push(`w${p.toString(16)}=${v.toString(16)}`); },
    });
    expect(io.read16(0x70)).toBe(0x7170);
    expect(io.read32(0x70)).toBe(0x73727170);
    io.write16(0x72, 0xabcd);
    expect(seen).toEqual(['r70', 'r71', 'r70', 'r71', 'r72', 'r73', 'w72=cd', 'w73=ab']);
  });

  it('uses a wide handler when one is declared, and unmap removes handlers', () => {
    const io = new IoBus();
    io.map(0xcfc, 0xcff, { read32: () => 0x12345678, read8: () => 0x11 });
    expect(io.read32(0xcfc)).toBe(0x12345678);
    expect(io.read8(0xcfd)).toBe(0x11);
    io.unmap(0xcfc, 0xcff);
    expect(io.read32(0xcfc)).toBe(0xffffffff);
  });
});
