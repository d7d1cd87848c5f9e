// The table-driven decoder on its own: instruction lengths and immediates from the opcode map,
// LOCK legality from the map, #UD before the bytes that would follow, and no side effects.
import { describe, it, expect } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { IoBus } from '../../src/bus/io.ts';
import { Cpu, Seg, ACC_P, ACC_S, ACC_RW, ACC_CODE, ACC_DB, ACC_G, ACC_ACCESSED } from '../../src/cpu/cpu.ts';
import { decode, Instr } from '../../src/cpu/decoder.ts';
import { FAULT } from '../../src/cpu/fault.ts';
import { opName, opLockRegs, OPCODE_COUNT } from '../../src/cpu/opcodes.ts';

function cpuWith(bytes: number[], code32: boolean): Cpu {
  const mem = new MemoryBus(2 << 20), cpu = new Cpu(mem, new IoBus());
  const flat = ACC_P | ACC_S | ACC_RW | ACC_ACCESSED | ACC_G | (code32 ? ACC_DB : 0);
  if (code32) cpu.setCr0(cpu.cr0 | 1);
  cpu.setSegmentCache(Seg.CS, code32 ? 8 : 0, 0, code32 ? -1 : 0xffff, flat | ACC_CODE);
  cpu.modeChanged();
  mem.writeBytes(0x1000, new Uint8Array(bytes));
  cpu.eip = 0x1000;
  cpu.instrStart = 0x1000;
  return cpu;
}

function dec(bytes: number[], code32 = true): Instr {
  const cpu = cpuWith(bytes, code32), ins = new Instr();
  decode(cpu, ins);
  expect(cpu.eip).toBe(0x1000 + ins.len);
  return ins;
}

function decodeFault(bytes: number[], code32 = true): number {
  const cpu = cpuWith(bytes, code32);
  try { decode(cpu, new Instr()); } catch (e) { if (e === FAULT) return cpu.faultVector; throw e; }
  return -1;
}

describe('table-driven decoder', () => {
  it('takes lengths and immediates from the opcode map', () => {
    expect(dec([0x66, 0x81, 0xc0, 0x34, 0x12])).toMatchObject({ op: 0x81, len: 5, imm: 0x1234, o32: false });
    expect(dec([0x81, 0x80, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde])).toMatchObject({ len: 10, imm: 0xdeadbeef | 0, eaDisp: 0x12345678, eaBase: 0 });
    expect(dec([0x83, 0x44, 0x8d, 0xfc, 0xff])).toMatchObject({ len: 5, imm: -1, eaDisp: -4, eaBase: 5, eaIndex: 1, eaScale: 2, eaSeg: Seg.SS });
    expect(dec([0xc8, 0x10, 0x00, 0x02])).toMatchObject({ op: 0xc8, len: 4, imm: 16, imm2: 2 });
    expect(dec([0x9a, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00])).toMatchObject({ len: 7, imm: 0x12345678, imm2: 8 });
    expect(dec([0x67, 0xa1, 0x34, 0x12])).toMatchObject({ len: 4, imm: 0x1234, a32: false });
    expect(dec([0xf6, 0x00, 0x7f])).toMatchObject({ len: 3, imm: 0x7f });   // TEST Eb, Ib
    expect(dec([0xf6, 0x10])).toMatchObject({ len: 2 });                    // NOT Eb: no immediate
    expect(dec([0x0f, 0xba, 0x20, 0x05])).toMatchObject({ op: 0x1ba, len: 4, imm: 5 });
    expect(dec([0x0f, 0x84, 0xfe, 0xff, 0xff, 0xff])).toMatchObject({ op: 0x184, len: 6, imm: -2, ends: true, cond: true });
    expect(dec([0x0f, 0x20, 0x00])).toMatchObject({ len: 3, modrm: 0 }); // MOV r32, CR0: mod bits ignored, no EA
    expect(dec([0x8b, 0x46, 0xfe], false)).toMatchObject({ len: 3, eaBase: 5, eaDisp: -2, eaMask: 0xffff, eaSeg: Seg.SS });
    expect(dec([0x26, 0x8b, 0x06, 0x34, 0x12], false)).toMatchObject({ len: 5, eaBase: -1, eaDisp: 0x1234, eaSeg: Seg.ES });
    expect(dec([0xe8, 0x00, 0x80], false)).toMatchObject({ len: 3, imm: -0x8000, ends: true });
  });

  it('allows LOCK only where the map says, with a memory operand', () => {
    expect(dec([0xf0, 0x01, 0x00]).lock).toBe(true);         // LOCK ADD [eax], eax
    expect(dec([0xf0, 0x0f, 0xc7, 0x08]).lock).toBe(true);   // LOCK CMPXCHG8B [eax]
    expect(decodeFault([0xf0, 0x01, 0xc0])).toBe(6);         // register destination
    expect(decodeFault([0xf0, 0x39, 0x00])).toBe(6);         // CMP is not a write
    expect(decodeFault([0xf0, 0x90])).toBe(6);               // no ModRM at all
    expect(decodeFault([0xf0, 0x0f, 0xba, 0x20, 0x01])).toBe(6); // BT does not write
    expect(dec([0xf0, 0x0f, 0xba, 0x28, 0x01]).lock).toBe(true); // BTS
    // Every lockable form takes a ModRM operand.
    for (let op = 0; op < OPCODE_COUNT; op++) if (opLockRegs[op]) expect(opName[op]).not.toBe('(bad)');
  });

  it('raises #UD where the form is undefined, before its remaining bytes', () => {
    expect(decodeFault([0x0f, 0xff])).toBe(6);
    expect(decodeFault([0x8f, 0x08])).toBe(6);         // POP Ev /1
    expect(decodeFault([0xc6, 0x08, 0x00])).toBe(6);   // MOV Eb, Ib /1
    expect(decodeFault([0x0f, 0xba, 0x00, 0x01])).toBe(6); // group 8 /0
  });

  it('changes nothing but EIP', () => {
    const cpu = cpuWith([0xf0, 0x81, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12, 0x01, 0x00, 0x00, 0x00], true);
    const regs = [...cpu.regs], flags = cpu.getEflags(), mem = cpu.mem.readBytes(0, 0x10000);
    const ins = new Instr();
    decode(cpu, ins);
    expect(ins.len).toBe(12);
    expect([...cpu.regs]).toEqual(regs);
    expect(cpu.getEflags()).toBe(flags);
    expect(cpu.mem.readBytes(0, 0x10000)).toEqual(mem);
  });
});
