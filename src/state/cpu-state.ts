// The CPU's and the x87's saved state: every architectural register and the run state between
// instructions, listed once. Everything derived (mode flags, fast-path segment bits, TLBs, the
// fetch window, decoded code) is rebuilt after a load, never saved.

import type { Cpu } from '../cpu/cpu.ts';
import type { Fpu } from '../cpu/fpu/fpu.ts';
import { defineState, type FieldSpec, type StateDesc, type Stateful } from './state.ts';

/** Cpu fields saved as they are. Scalars as f64: some hold unsigned values, some signed. */
const CPU_FIELDS: Record<string, FieldSpec> = {
  regs: { array: 'i32', length: 8 }, eip: 'f64', flags: 'f64',
  // Lazy arithmetic flags: saved as they stand, so EFLAGS reads back bit for bit.
  lazyMask: 'f64', lazyX: 'f64', lazyY: 'f64', lazySum: 'f64', lazyCarry: 'f64', lazyResult: 'f64',
  lazySize: { type: 'f64', max: 2 },
  sreg: { array: 'u16', length: 6 }, segBase: { array: 'i32', length: 6 },
  segLimit: { array: 'i32', length: 6 }, segAccess: { array: 'i32', length: 6 },
  gdtBase: 'f64', gdtLimit: 'f64', idtBase: 'f64', idtLimit: 'f64',
  ldtSel: 'f64', ldtBase: 'f64', ldtLimit: 'f64', trSel: 'f64', trBase: 'f64', trLimit: 'f64', trType: 'f64',
  cr0: 'f64', cr2: 'f64', cr3: 'f64', cr4: 'f64', dr: { array: 'i32', length: 8 },
  cpl: { type: 'f64', max: 3 },
  tscOffset: 'f64', sysenterCs: 'f64', sysenterEsp: 'f64', sysenterEip: 'f64', apicBase: 'f64',
  perfEventSelect: { array: 'i32', length: 2 }, perfCounterBase: { array: 'f64', length: 2 },
  a20Warning: 'bool', instructionCount: 'f64',
  halted: 'bool', interruptShadow: 'bool', debugShadow: 'bool', nmiPending: 'bool',
};

/** The MTRR MSRs (P6): 8 variable pairs, the fixed-range registers, the default type. */
const MTRR_MSRS = [
  ...Array.from({ length: 16 }, (_, i) => 0x200 + i), 0x250, 0x258, 0x259,
  ...Array.from({ length: 8 }, (_, i) => 0x268 + i), 0x2ff,
];

/**
 * The CPU as a Stateful: each declared field forwards to the Cpu, and `mtrrs` packs the MTRR
 * map into (low, high) pairs in MTRR_MSRS order.
 */
export class CpuState implements Stateful {
  readonly stateDesc: StateDesc = defineState('cpu', 1, { ...CPU_FIELDS, mtrrs: { array: 'u32', length: MTRR_MSRS.length * 2 } }, {
    postLoad: (s: CpuState) => s.rebuild(),
  });

  constructor(readonly cpu: Cpu) { forwardFields(this, cpu, Object.keys(CPU_FIELDS)); }

  get mtrrs(): number[] {
    return MTRR_MSRS.flatMap((msr) => {
      const v = this.cpu.mtrr.get(msr);
      return v === undefined ? [0, 0] : [Number(v & 0xffffffffn), Number(v >> 32n)];
    });
  }
  set mtrrs(values: number[]) {
    this.cpu.mtrr.clear();
    MTRR_MSRS.forEach((msr, i) => {
      const lo = values[2 * i] >>> 0, hi = values[2 * i + 1] >>> 0;
      if (lo || hi) this.cpu.mtrr.set(msr, (BigInt(hi) << 32n) | BigInt(lo));
    });
  }

  /** Derived state after a load: modes, segment fast paths, debug checks, TLBs, fetch window. */
  private rebuild(): void {
    const cpu = this.cpu;
    cpu.modeChanged();
    cpu.flushTlb(true);
    cpu.attention = true;
  }
}

/** The x87: control, status and tag words, the register stack, the last-instruction pointers. */
export function fpuState(fpu: Fpu): Stateful & { fpu: Fpu } {
  const fields: Record<string, FieldSpec> = {
    cw: 'u16', swBits: 'u16', top: { type: 'u8', max: 7 }, tagValid: 'u8',
    regSe: { array: 'u16', length: 8 }, regHi: { array: 'u32', length: 8 }, regLo: { array: 'u32', length: 8 },
    fip: 'f64', fcs: 'f64', fdp: 'f64', fds: 'f64', fop: 'f64', mxcsr: 'u32', ferr: { type: 'u8', max: 1 },
  };
  const s = { fpu, stateDesc: defineState('fpu', 1, fields) };
  forwardFields(s, fpu, Object.keys(fields));
  return s;
}

/** Give `holder` a property per name that reads and writes the same property of `target`. */
function forwardFields(holder: object, target: object, names: string[]): void {
  const t = target as Record<string, unknown>;
  for (const name of names) {
    Object.defineProperty(holder, name, { get: () => t[name], set: (v: unknown) => { t[name] = v; }, enumerable: true });
  }
}
