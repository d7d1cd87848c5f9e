// Self-modifying code and the decoded-block cache: every way memory changes must drop the blocks
// decoded from it, and a lookup must find the bytes the current mapping shows, as on a P6 (whose
// store buffer snoops the prefetch queue: a store into the very next instruction is seen).
import { describe, it, expect, beforeAll } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { IoBus } from '../../src/bus/io.ts';
import { Cpu, Seg, Reg, ACC_P, ACC_S, ACC_RW, ACC_CODE, ACC_DB, ACC_G, ACC_ACCESSED } from '../../src/cpu/cpu.ts';
import { dmaToMemory } from '../../src/devices/pci/dma.ts';
import { setCpuMode, type CpuMode } from '../../src/cpu/jit.ts';

/** Every case runs in the interpreter and in the JIT with every block compiled on first use. */
let mode: CpuMode = 'interp';

const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const movByte = (addr: number, v: number) => [0xc6, 0x05, ...le32(addr), v];       // mov byte [addr], v
const movDword = (addr: number, v: number) => [0xc7, 0x05, ...le32(addr), ...le32(v)]; // mov dword [addr], v
const call = (from: number, to: number) => [0xe8, ...le32((to - (from + 5)) >>> 0)];
const PRINT = (c: string) => [0xb0, c.charCodeAt(0), 0xe6, 0xe9];                 // mov al, c ; out 0xe9, al
const RET = 0xc3, HLT = 0xf4;

/** A flat 32-bit protected-mode CPU whose port E9h writes are collected. */
function machine() {
  const mem = new MemoryBus(2 << 20), io = new IoBus(), cpu = new Cpu(mem, io);
  setCpuMode(cpu, mode, 1);
  const out = { text: '' };
  io.map(0xe9, 0xe9, { write8: (_p, v) => { out.text += String.fromCharCode(v); } });
  const flat = ACC_P | ACC_S | ACC_RW | ACC_ACCESSED | ACC_DB | ACC_G;
  cpu.setCr0(cpu.cr0 | 1);
  cpu.setSegmentCache(Seg.CS, 8, 0, -1, flat | ACC_CODE);
  for (const s of [Seg.DS, Seg.ES, Seg.SS]) cpu.setSegmentCache(s, 16, 0, -1, flat);
  cpu.modeChanged();
  const run = (eip: number) => {
    cpu.regs[Reg.ESP] = 0x80000;
    cpu.eip = eip; cpu.halted = false; cpu.attention = true;
    cpu.run(100000);
    expect(cpu.halted).toBe(true);
  };
  return { mem, cpu, out, run };
}

for (const m of ['interp', 'jit'] as const) describe(`self-modifying code and the decoded-block cache (${m})`, () => {
  beforeAll(() => { mode = m; });
  it('sees a store into the next instruction of the running block', () => {
    const { mem, out, run } = machine();
    // 0x1000: nop (run alone: the first instruction after a stop takes the slow path)
    // 0x1001: mov byte [0x1009], 'B' ; 0x1008: mov al, '?' ; out 0xe9, al ; hlt
    mem.writeBytes(0x1000, new Uint8Array([0x90, ...movByte(0x1009, 0x42), ...PRINT('?'), HLT]));
    run(0x1000);
    expect(out.text).toBe('B');
  });

  it('sees a store further into the running block, and again when the block is replayed', () => {
    const { mem, cpu, out, run } = machine();
    // 0x1000: mov byte [0x100b], 'Y' ; nop ; nop ; 0x1009: mov al, 'N' ... ; hlt
    const code = [...movByte(0x100a, 0x59), 0x90, 0x90, ...PRINT('N'), HLT];
    mem.writeBytes(0x1000, new Uint8Array(code));
    run(0x1000);
    mem.write8(0x1006, 0x5a); // the next run stores 'Z'
    run(0x1000);
    expect(out.text).toBe('YZ');
    expect(cpu.blocks.invalidated).toBeGreaterThan(0);
  });

  it('drops another cached block written by the CPU (byte and dword stores)', () => {
    const { mem, out, run } = machine();
    mem.writeBytes(0x2000, new Uint8Array([...PRINT('A'), RET]));
    const main = [...call(0x1000, 0x2000), ...movByte(0x2001, 0x43), ...call(0x100c, 0x2000),
      ...movDword(0x2000, 0xe6_44_b0 | (0xe9 << 24)), ...call(0x101b, 0x2000), HLT];
    mem.writeBytes(0x1000, new Uint8Array(main));
    run(0x1000);
    expect(out.text).toBe('ACD');
  });

  it('drops blocks written by REP STOSB and REP MOVSB (bulk paths)', () => {
    const { mem, out, run } = machine();
    mem.writeBytes(0x2000, new Uint8Array([...PRINT('A'), RET]));
    mem.write8(0x3000, 0x4d); // 'M', the source of the MOVS
    const main = [
      ...call(0x1000, 0x2000),
      0xbf, ...le32(0x2001), 0xb0, 0x53, 0xb9, ...le32(1), 0xf3, 0xaa,     // edi = 0x2001, al = 'S', ecx = 1, rep stosb
      ...call(0x1013, 0x2000),
      0xbe, ...le32(0x3000), 0xbf, ...le32(0x2001), 0xb9, ...le32(1), 0xf3, 0xa4, // rep movsb
      ...call(0x1029, 0x2000), HLT,
    ];
    mem.writeBytes(0x1000, new Uint8Array(main));
    run(0x1000);
    expect(out.text).toBe('ASM');
  });

  it('drops blocks written by bus-master DMA and by the bus (device writes)', () => {
    const { mem, out, run } = machine();
    mem.writeBytes(0x2000, new Uint8Array([...PRINT('A'), RET]));
    mem.writeBytes(0x1000, new Uint8Array([...call(0x1000, 0x2000), HLT]));
    run(0x1000);
    dmaToMemory(mem, 0x2001, new Uint8Array([0x44]), 0, 1);
    run(0x1000);
    mem.write16(0x2000, 0x45b0); // mov al, 'E'
    run(0x1000);
    expect(out.text).toBe('ADE');
  });

  it('follows a page remapped under the same linear address, and code written through another mapping', () => {
    const { mem, cpu, out, run } = machine();
    // Page directory at 0x10000, one page table at 0x11000 identity-mapping 4 MiB, except
    // linear 0x5000 -> physical 0x8000 and linear 0x6000 -> physical 0x8000 (an alias).
    mem.write32(0x10000, 0x11000 | 7);
    for (let p = 0; p < 1024; p++) mem.write32(0x11000 + p * 4, (p << 12) | 7);
    mem.write32(0x11000 + 5 * 4, 0x8000 | 7);
    mem.write32(0x11000 + 6 * 4, 0x8000 | 7);
    mem.writeBytes(0x8000, new Uint8Array([...PRINT('P'), RET]));
    mem.writeBytes(0x9000, new Uint8Array([...PRINT('Q'), RET]));
    cpu.setCr3(0x10000);
    cpu.setCr0(cpu.cr0 | 0x80000000);
    const main = [
      ...call(0x1000, 0x5000),
      ...movByte(0x6001, 0x52),                      // through the alias: 'R'
      ...call(0x100c, 0x5000),
      ...movDword(0x11000 + 5 * 4, 0x9000 | 7),      // remap linear 0x5000 to physical 0x9000
      0x0f, 0x01, 0x3d, ...le32(0x5000),             // invlpg [0x5000]
      ...call(0x1022, 0x5000), HLT,
    ];
    mem.writeBytes(0x1000, new Uint8Array(main));
    run(0x1000);
    expect(out.text).toBe('PRQ');
  });

  it('finds the code the A20 gate shows', () => {
    const { mem, out, run } = machine();
    mem.writeBytes(0x003000, new Uint8Array([...PRINT('a'), RET]));
    mem.writeBytes(0x103000, new Uint8Array([...PRINT('b'), RET]));
    mem.writeBytes(0x1000, new Uint8Array([...call(0x1000, 0x103000), HLT]));
    run(0x1000);
    mem.setA20(false);
    run(0x1000);
    mem.setA20(true);
    run(0x1000);
    expect(out.text).toBe('bab');
  });

  it('drops cached ROM code once shadow RAM (PAM) makes it writable and it is written', () => {
    const { mem, out, run } = machine();
    const rom = new Uint8Array(0x1000);
    rom.set([...PRINT('r'), RET]);
    mem.mapRom(rom, 0xd0000);
    mem.writeBytes(0x1000, new Uint8Array([...call(0x1000, 0xd0000), HLT]));
    mem.writeBytes(0x1100, new Uint8Array([...movByte(0xd0001, 0x73), ...call(0x1107, 0xd0000), HLT]));
    run(0x1000);
    run(0x1100);                       // write-protected: the store is dropped
    mem.setRomWritable(0xd0000, 0x1000, true);
    run(0x1000);                       // cached again, now from shadow RAM
    run(0x1100);
    expect(out.text).toBe('rrrs');
  });
});
