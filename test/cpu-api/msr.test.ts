// Model-specific registers, CPUID and RDPMC as the guest sees them.
import { describe, it, expect } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { IoBus } from '../../src/bus/io.ts';
import { Cpu, Reg, Seg } from '../../src/cpu/cpu.ts';

function machine(code: number[]) {
  const mem = new MemoryBus(2 << 20);
  const cpu = new Cpu(mem, new IoBus());
  mem.writeBytes(0x1000, new Uint8Array(code));
  cpu.setSegmentReal(Seg.CS, 0);
  cpu.setSegmentReal(Seg.SS, 0);
  cpu.eip = 0x1000;
  cpu.regs[Reg.ESP] = 0x8000;
  // #GP handler at 0000:3000 stores 0xDEAD in EBP and halts.
  mem.write32(13 * 4, 0x3000);
  mem.writeBytes(0x3000, new Uint8Array([0x66, 0xbd, 0xad, 0xde, 0, 0, 0xfa, 0xf4]));
  return { mem, cpu };
}
const WRMSR = [0x0f, 0x30], RDMSR = [0x0f, 0x32], RDPMC = [0x0f, 0x33], CPUID = [0x0f, 0xa2];

describe('MSRs and CPUID', () => {
  it('stores the SYSENTER MSRs', () => {
    const { cpu } = machine([...WRMSR, ...RDMSR]);
    cpu.regs[Reg.ECX] = 0x176; cpu.regs[Reg.EAX] = 0xc0101234 | 0; cpu.regs[Reg.EDX] = 0;
    cpu.run(1);
    cpu.regs[Reg.EAX] = 0;
    cpu.run(1);
    expect(cpu.regs[Reg.EAX] >>> 0).toBe(0xc0101234);
    expect(cpu.sysenterEip >>> 0).toBe(0xc0101234);
  });

  it('raises #GP for an MSR the CPU does not have', () => {
    const { cpu } = machine([...RDMSR]);
    cpu.regs[Reg.ECX] = 0x12345;
    cpu.run(10);
    expect(cpu.regs[Reg.EBP]).toBe(0xdead);
  });

  it('counts retired instructions in performance counter 0 when event 0xC0 is selected', () => {
    // wrmsr(EVNTSEL0 = EN|OS|USR|0xC0) ; nop x5 ; rdpmc(0)
    const { cpu } = machine([...WRMSR, 0x90, 0x90, 0x90, 0x90, 0x90, ...RDPMC]);
    cpu.regs[Reg.ECX] = 0x186; cpu.regs[Reg.EAX] = (1 << 22) | (1 << 17) | (1 << 16) | 0xc0; cpu.regs[Reg.EDX] = 0;
    cpu.run(6);
    cpu.regs[Reg.ECX] = 0;
    cpu.run(1);
    // The enabling WRMSR itself retires with counting on, then five NOPs; RDPMC reads before it retires.
    expect(cpu.regs[Reg.EAX]).toBe(6);
  });

  it('reports an honest family-6 GenuineIntel CPU with the implemented features only', () => {
    const { cpu } = machine([...CPUID, 0x66, 0x89, 0xde /* mov esi, ebx */, 0x66, 0x31, 0xc0 /* xor eax,eax */, 0x66, 0x40, ...CPUID]);
    cpu.regs[Reg.EAX] = 0;
    cpu.run(1);
    const vendor = String.fromCharCode(...[Reg.EBX, Reg.EDX, Reg.ECX].flatMap(r => [0, 8, 16, 24].map(s => (cpu.regs[r] >>> s) & 0xff)));
    expect(vendor).toBe('GenuineIntel');
    cpu.regs[Reg.EAX] = 1;
    cpu.eip = 0x1000;
    cpu.run(1);
    expect((cpu.regs[Reg.EAX] >> 8) & 0xf).toBe(6);
    const edx = cpu.regs[Reg.EDX];
    for (const bit of [0, 4, 5, 8, 15]) expect((edx >>> bit) & 1).toBe(1); // FPU TSC MSR CX8 CMOV
    for (const bit of [6, 9, 23, 25, 26]) expect((edx >>> bit) & 1).toBe(0); // no PAE, APIC, MMX, SSE, SSE2
  });
});
