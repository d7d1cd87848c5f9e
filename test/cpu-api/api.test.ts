// The CPU's programmatic API: create, load bytes, set/read registers, step, run, stop reasons,
// and guest faults handled in the guest (never as host exceptions).
import { describe, it, expect } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { IoBus } from '../../src/bus/io.ts';
import { Cpu, Reg, Seg, Stop } from '../../src/cpu/cpu.ts';
import type { InterruptController } from '../../src/bus/interrupts.ts';

/** A real-mode CPU with code at 0000:1000 and a stack at 0000:8000. */
function machine(code: number[]) {
  const mem = new MemoryBus(2 << 20);
  const io = new IoBus();
  const cpu = new Cpu(mem, io);
  mem.writeBytes(0x1000, new Uint8Array(code));
  cpu.setSegmentReal(Seg.CS, 0);
  cpu.setSegmentReal(Seg.SS, 0);
  cpu.eip = 0x1000;
  cpu.regs[Reg.ESP] = 0x8000;
  return { mem, io, cpu };
}

describe('CPU API', () => {
  it('starts at the reset vector F000:FFF0 with the family/model in EDX', () => {
    const cpu = new Cpu(new MemoryBus(1 << 20), new IoBus());
    expect(cpu.sreg[Seg.CS]).toBe(0xf000);
    expect(cpu.segBase[Seg.CS] >>> 0).toBe(0xffff0000);
    expect(cpu.eip).toBe(0xfff0);
    expect(cpu.regs[Reg.EDX]).toBe(0x633);
  });

  it('steps one instruction at a time and exposes 8/16/32-bit registers', () => {
    // mov eax, 0x12345678 ; mov bl, ah ; inc bx
    const { cpu } = machine([0x66, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x88, 0xe3, 0x43]);
    expect(cpu.run(1)).toBe(1);
    expect(cpu.regs[Reg.EAX]).toBe(0x12345678);
    expect(cpu.getReg16(Reg.EAX)).toBe(0x5678);
    cpu.run(1);
    expect(cpu.getReg8(3)).toBe(0x56); // BL
    cpu.run(1);
    expect(cpu.getReg16(Reg.EBX)).toBe(0x57);
    expect(cpu.eip).toBe(0x1009);
  });

  it('reports HLT with interrupts off as HaltNoIrq', () => {
    const { cpu } = machine([0xfa, 0xf4]); // cli; hlt
    const n = cpu.run(100);
    expect(n).toBe(2);
    expect(cpu.stopReason).toBe(Stop.HaltNoIrq);
  });

  it('wakes from HLT for an interrupt and runs the real-mode handler from the IVT', () => {
    // IVT[0x20] = 0000:2000; handler: mov al, 0x42 ; iret.   main: sti ; hlt ; mov bl, al ; cli ; hlt
    const { mem, cpu } = machine([0xfb, 0xf4, 0x88, 0xc3, 0xfa, 0xf4]);
    mem.write32(0x20 * 4, 0x2000);
    mem.writeBytes(0x2000, new Uint8Array([0xb0, 0x42, 0xcf]));
    let pending = false;
    const pic: InterruptController = { hasInterrupt: () => pending, acknowledge: () => { pending = false; return 0x20; } };
    cpu.pic = pic;
    cpu.run(100);
    expect(cpu.stopReason).toBe(Stop.Halt);
    pending = true;
    cpu.interruptPending();
    cpu.run(100);
    expect(cpu.getReg8(3)).toBe(0x42);
    expect(cpu.stopReason).toBe(Stop.HaltNoIrq);
  });

  it('takes an interrupt that became pending before a stop request at the first instruction after it', () => {
    // IVT[0x20] = 0000:2000; handler: mov al, 0x42 ; iret.   main: sti ; nop x 8 ; cli ; hlt
    const { mem, cpu } = machine([0xfb, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xfa, 0xf4]);
    mem.write32(0x20 * 4, 0x2000);
    mem.writeBytes(0x2000, new Uint8Array([0xb0, 0x42, 0xcf]));
    let pending = false;
    cpu.pic = { hasInterrupt: () => pending, acknowledge: () => { pending = false; return 0x20; } };
    cpu.run(3);                      // sti, nop, nop
    pending = true;
    cpu.interruptPending();          // the PIC raises INT...
    cpu.requestStop();               // ...and a device asks the run loop to return, before the next instruction
    expect(cpu.run(100)).toBe(0);
    expect(cpu.stopReason).toBe(Stop.Request);
    cpu.run(1);                      // the interrupt, not the next NOP
    expect(cpu.eip).toBe(0x2000);
    expect(mem.read16(0x8000 - 6)).toBe(0x1003);
  });

  it('delivers #UD for an undefined opcode to the guest, not to the host', () => {
    // IVT[6] -> 0000:3000: mov dx, 0xe9 ; mov al, 'U' ; out dx, al ; cli ; hlt
    const { mem, io, cpu } = machine([0x0f, 0xff]);
    mem.write32(6 * 4, 0x3000);
    mem.writeBytes(0x3000, new Uint8Array([0xba, 0xe9, 0x00, 0xb0, 0x55, 0xee, 0xfa, 0xf4]));
    let out = '';
    io.map(0xe9, 0xe9, { write8: (_p, v) => { out += String.fromCharCode(v); } });
    expect(() => cpu.run(100)).not.toThrow();
    expect(out).toBe('U');
    // The #UD frame points at the faulting instruction.
    expect(mem.read16(0x8000 - 6)).toBe(0x1000);
  });

  it('stops with TripleFault when an exception cannot be delivered in protected mode', () => {
    // A GDT-less protected mode with a zero-limit IDT: any fault escalates to a triple fault.
    const { cpu } = machine([0x0f, 0x0b]); // ud2
    cpu.idtLimit = 0;
    cpu.setCr0(cpu.cr0 | 1);
    cpu.run(10);
    expect(cpu.stopReason).toBe(Stop.TripleFault);
  });

  it('resets on a triple fault when asked to, as a PC does', () => {
    const { cpu } = machine([0x0f, 0x0b]);
    cpu.resetOnTripleFault = true;
    cpu.idtLimit = 0;
    cpu.setCr0(cpu.cr0 | 1);
    cpu.run(1);
    expect(cpu.eip).toBe(0xfff0);
    expect(cpu.sreg[Seg.CS]).toBe(0xf000);
  });

  it('returns early when the host requests a stop', () => {
    const { io, cpu } = machine([0xe6, 0x99, 0xeb, 0xfe]); // out 0x99, al ; jmp $
    io.map(0x99, 0x99, { write8: () => cpu.requestStop() });
    const n = cpu.run(1000);
    expect(cpu.stopReason).toBe(Stop.Request);
    expect(n).toBe(1);
  });

  it('runs the whole budget when nothing stops it', () => {
    const { cpu } = machine([0xeb, 0xfe]); // jmp $
    expect(cpu.run(5000)).toBe(5000);
    expect(cpu.stopReason).toBe(Stop.None);
    expect(cpu.instructionCount).toBe(5000);
  });

  it('keeps flags computed lazily consistent with EFLAGS reads', () => {
    // mov al, 0x7f ; add al, 1  -> OF SF AF set, ZF CF clear
    const { cpu } = machine([0xb0, 0x7f, 0x04, 0x01]);
    cpu.run(2);
    const f = cpu.getEflags();
    expect(f & 0x800).toBe(0x800); // OF
    expect(f & 0x80).toBe(0x80);   // SF
    expect(f & 0x10).toBe(0x10);   // AF
    expect(f & 0x41).toBe(0);      // ZF, CF
    expect(f & 2).toBe(2);         // reserved bit 1
  });
});
