// Connects the x87 unit to the CPU: memory through the CPU's segmentation and paging, the
// flags and AX for the instructions that write them, and the error-reporting paths (#MF, or
// FERR# → IRQ13 when CR0.NE is clear, as on PC-compatible boards).

import { Cpu } from './cpu.ts';
import { Fpu, type FpuHost } from './fpu/fpu.ts';
import { Vector } from './fault.ts';
import { CF, PF, ZF, OF, SF, AF, CR0_NE } from './flags.ts';

export function attachFpu(cpu: Cpu, onFerr: (asserted: boolean) => void = () => {}): Fpu {
  const host: FpuHost = {
    read8: (s, o) => cpu.read8(s, o),
    read16: (s, o) => cpu.read16(s, o),
    read32: (s, o) => cpu.read32(s, o),
    write8: (s, o, v) => cpu.write8(s, o, v),
    write16: (s, o, v) => cpu.write16(s, o, v),
    write32: (s, o, v) => cpu.write32(s, o, v),
    getEflags: () => cpu.getEflags(),
    setEflagsZPC: (zf, pf, cf) => {
      cpu.materializeFlags();
      cpu.flags = (cpu.flags & ~(ZF | PF | CF | OF | SF | AF)) | (zf ? ZF : 0) | (pf ? PF : 0) | (cf ? CF : 0);
    },
    setAX: (v) => { cpu.regs16[0] = v; },
    protectedMode: () => cpu.protectedMode && !cpu.vm86,
    raiseMathFault: () => cpu.raise(Vector.MF),
    setFerr: onFerr,
    numericErrorNative: () => (cpu.cr0 & CR0_NE) !== 0,
    raiseGeneralProtection: () => cpu.raise(Vector.GP, 0),
    raiseInvalidOpcode: () => cpu.raise(Vector.UD),
  };
  const fpu = new Fpu(host);
  cpu.fpu = fpu;
  fpu.reset();
  return fpu;
}
