// REP MOVS/STOS take a bulk path through RAM pages; these cases pin down that it matches the
// architectural element-by-element behaviour (overlap, page crossings, ROM and MMIO targets).
import { describe, it, expect } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { IoBus } from '../../src/bus/io.ts';
import { Cpu, Reg, Seg, ACC_P, ACC_S, ACC_RW, ACC_DB, ACC_ACCESSED } from '../../src/cpu/cpu.ts';

/** A CPU in flat 32-bit protected mode (descriptor caches set directly) running code at 0x1000. */
function flat32(code: number[]) {
  const mem = new MemoryBus(4 << 20);
  const cpu = new Cpu(mem, new IoBus());
  cpu.setCr0(cpu.cr0 | 1);
  const data = ACC_P | ACC_S | ACC_RW | ACC_ACCESSED | ACC_DB | 0x8000;
  for (const s of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) cpu.setSegmentCache(s, 0x10, 0, -1, data);
  cpu.setSegmentCache(Seg.CS, 0x08, 0, -1, data | 0x8);
  mem.writeBytes(0x1000, new Uint8Array(code));
  cpu.eip = 0x1000;
  cpu.regs[Reg.ESP] = 0x9000;
  return { mem, cpu };
}

describe('REP string instructions', () => {
  it('REP STOSD fills across page boundaries and leaves ECX=0, EDI past the end', () => {
    const { mem, cpu } = flat32([0xf3, 0xab]); // rep stosd
    cpu.regs[Reg.EAX] = 0x11223344; cpu.regs[Reg.EDI] = 0x20ffe; cpu.regs[Reg.ECX] = 3000;
    cpu.run(1);
    expect(cpu.regs[Reg.ECX]).toBe(0);
    expect(cpu.regs[Reg.EDI]).toBe(0x20ffe + 12000);
    for (const a of [0x20ffe, 0x21002, 0x20ffe + 11996]) expect(mem.read32(a) >>> 0).toBe(0x11223344);
    expect(mem.read32(0x20ffe + 12000)).toBe(0);
  });

  it('REP MOVSB with overlapping forward regions replicates bytes as the hardware does', () => {
    const { mem, cpu } = flat32([0xf3, 0xa4]); // rep movsb
    mem.writeBytes(0x30000, new Uint8Array([1, 2, 3]));
    cpu.regs[Reg.ESI] = 0x30000; cpu.regs[Reg.EDI] = 0x30003; cpu.regs[Reg.ECX] = 9;
    cpu.run(1);
    expect(Array.from(mem.readBytes(0x30000, 12))).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('REP MOVSD copies a large block between unaligned addresses', () => {
    const { mem, cpu } = flat32([0xf3, 0xa5]);
    const src = new Uint8Array(10000).map((_, i) => (i * 7 + 3) & 0xff);
    mem.writeBytes(0x40001, src);
    cpu.regs[Reg.ESI] = 0x40001; cpu.regs[Reg.EDI] = 0x50803; cpu.regs[Reg.ECX] = 2500;
    cpu.run(1);
    expect(Array.from(mem.readBytes(0x50803, 10000))).toEqual(Array.from(src));
    expect(cpu.regs[Reg.ESI]).toBe(0x40001 + 10000);
  });

  it('REP STOSB into ROM drops the writes but still advances EDI and ECX', () => {
    const { mem, cpu } = flat32([0xf3, 0xaa]);
    mem.mapRom(new Uint8Array(0x1000).fill(0x5a), 0x200000);
    cpu.regs[Reg.EAX] = 0; cpu.regs[Reg.EDI] = 0x1fff00; cpu.regs[Reg.ECX] = 0x200;
    cpu.run(1);
    expect(mem.read8(0x1fff00)).toBe(0);
    expect(mem.read8(0x200000)).toBe(0x5a);
    expect(cpu.regs[Reg.ECX]).toBe(0);
    expect(cpu.regs[Reg.EDI]).toBe(0x200100);
  });

  it('REP MOVSW with DF=1 copies downwards', () => {
    const { mem, cpu } = flat32([0xfd, 0x66, 0xf3, 0xa5]); // std ; rep movsw
    mem.writeBytes(0x60000, new Uint8Array([1, 2, 3, 4, 5, 6]));
    cpu.regs[Reg.ESI] = 0x60004; cpu.regs[Reg.EDI] = 0x70004; cpu.regs[Reg.ECX] = 3;
    cpu.run(2);
    expect(Array.from(mem.readBytes(0x70000, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cpu.regs[Reg.EDI]).toBe(0x70004 - 6);
  });
});
