// Instruction fetch goes through a cached window onto one physical page. A return into a lower
// linear page that maps to an unrelated physical page must not read through the old window
// (this bug made busybox crash as init while the kernel, physically contiguous, survived).
import { describe, it, expect } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { IoBus } from '../../src/bus/io.ts';
import { Cpu, Seg, Reg, ACC_P, ACC_S, ACC_RW, ACC_CODE, ACC_DB, ACC_G, ACC_ACCESSED } from '../../src/cpu/cpu.ts';

describe('instruction fetch window', () => {
  it('follows control transfers to a lower page mapped elsewhere', () => {
    const mem = new MemoryBus(2 << 20), io = new IoBus(), cpu = new Cpu(mem, io);
    let out = '';
    io.map(0xe9, 0xe9, { write8: (_p, v) => { out += String.fromCharCode(v); } });
    // Linear 0x400000 -> physical 0x9000 and 0x401000 -> 0x7000 (not adjacent); stack identity-mapped.
    mem.write32(0x1000 + (0x400000 >>> 22) * 4, 0x2000 | 7);
    mem.write32(0x2000, 0x9000 | 7);
    mem.write32(0x2004, 0x7000 | 7);
    mem.write32(0x1000, 0x3000 | 7);
    mem.write32(0x3000 + 8 * 4, 0x8000 | 7);
    // 0x400ff0: call 0x401000 ; mov al,'O' ; out 0xe9,al ; hlt      0x401000: ret
    mem.writeBytes(0x9ff0, new Uint8Array([0xe8, 0x0b, 0x00, 0x00, 0x00, 0xb0, 0x4f, 0xe6, 0xe9, 0xf4]));
    mem.writeBytes(0x7000, new Uint8Array([0xc3]));
    // What a stale window would execute instead: the bytes just below physical 0x7000.
    mem.writeBytes(0x6ff5, new Uint8Array([0xb0, 0x58, 0xe6, 0xe9, 0xf4]));
    const flat = ACC_P | ACC_S | ACC_RW | ACC_ACCESSED | ACC_DB | ACC_G;
    cpu.setCr3(0x1000);
    cpu.setCr0(cpu.cr0 | 1 | 0x80000000);
    cpu.setSegmentCache(Seg.CS, 8, 0, -1, flat | ACC_CODE);
    for (const s of [Seg.DS, Seg.ES, Seg.SS]) cpu.setSegmentCache(s, 16, 0, -1, flat);
    cpu.modeChanged();
    cpu.regs[Reg.ESP] = 0x9000;
    cpu.eip = 0x400ff0;
    cpu.run(10);
    expect(out).toBe('O');
  });
});
