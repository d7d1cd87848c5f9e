// The lockstep checker: the same PC run twice side by side, once on the JIT and once on the
// reference interpreter, in deterministic time, slice by slice. After every slice (of random
// length, so that slices end inside blocks, inside loops and at block boundaries alike) the CPU
// state must be identical; every few slices the whole machine state (every device's saved state)
// and all of RAM are compared too. The first divergence is reported with both sides' registers.
//
// `skip` runs the JIT machine alone first and hands its saved state to the interpreter machine,
// so a check can start deep into a boot without interpreting all the way there.

import { PcMachine } from './pc.ts';
import { saveAll, sectionsOf } from '../state/state.ts';
import { REG_NAMES, SEG_NAMES } from '../cpu/cpu.ts';
import type { Cpu } from '../cpu/cpu.ts';
import type { CpuMode } from '../cpu/jit.ts';

export interface LockstepOptions {
  /** Instructions to run on the JIT machine alone before the check starts. */
  skip?: number;
  /** Instructions to check. */
  instructions: number;
  /** Longest slice (instructions); each slice's length is random in 1..maxSlice. */
  maxSlice?: number;
  /** Compare every device's state every this many slices, and all of RAM every 4 × as many. */
  fullEvery?: number;
  /** Seed of the slice lengths. */
  seed?: number;
  /** Stop when the guest prints this on COM1. */
  until?: string;
}

export interface LockstepResult {
  /** Instructions checked (from the start of the check). */
  instructions: number;
  slices: number;
  fullCompares: number;
  ramCompares: number;
  /** Null when both machines stayed identical; otherwise where and how they differ. */
  divergence: string | null;
  /** Blocks the JIT machine compiled. */
  compiled: number;
}

export function lockstep(make: (cpu: CpuMode) => PcMachine, opts: LockstepOptions): LockstepResult {
  const jit = make('jit');
  const skip = opts.skip ?? 0;
  while (jit.cpu.instructionCount < skip) {
    const r = jit.slice(skip - jit.cpu.instructionCount);
    if (typeof r === 'string') throw new Error(`the machine stopped (${r}) before the check began`);
  }
  const ref = make('interp');
  if (skip > 0) ref.restoreState(jit.saveState());
  let seed = (opts.seed ?? 1) >>> 0;
  const random = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
  const maxSlice = opts.maxSlice ?? 4000, fullEvery = opts.fullEvery ?? 64;
  const start = jit.cpu.instructionCount;
  const result: LockstepResult = { instructions: 0, slices: 0, fullCompares: 0, ramCompares: 0, divergence: null, compiled: 0 };
  const finish = () => {
    result.instructions = jit.cpu.instructionCount - start;
    result.compiled = jit.cpu.jit?.stats.compiled ?? 0;
    return result;
  };
  while (jit.cpu.instructionCount - start < opts.instructions) {
    const n = 1 + (random() % maxSlice);
    const a = jit.slice(n), b = ref.slice(n);
    result.slices++;
    let diff = a !== b ? `the run loop stopped differently: JIT ${String(a)}, interpreter ${String(b)}` : cpuDifference(jit.cpu, ref.cpu);
    if (diff === null && result.slices % fullEvery === 0) {
      result.fullCompares++;
      diff = stateDifference(jit, ref);
      if (diff === null && result.slices % (fullEvery * 4) === 0) { result.ramCompares++; diff = ramDifference(jit, ref); }
    }
    if (diff !== null) {
      result.divergence = `after ${jit.cpu.instructionCount} instructions (slice ${result.slices}, ${n} long): ${diff}\n` +
        `  JIT:         ${describeCpu(jit.cpu)}\n  interpreter: ${describeCpu(ref.cpu)}`;
      return finish();
    }
    if (typeof a === 'string') break;
    if (opts.until !== undefined && jit.serialOutput.includes(opts.until)) break;
  }
  return finish();
}

function cpuDifference(a: Cpu, b: Cpu): string | null {
  if (a.instructionCount !== b.instructionCount) return `instruction counts ${a.instructionCount} and ${b.instructionCount}`;
  if (a.eip !== b.eip) return 'EIP';
  for (let i = 0; i < 8; i++) if (a.regs[i] !== b.regs[i]) return REG_NAMES[i];
  if (a.getEflags() !== b.getEflags()) return 'EFLAGS';
  for (let s = 0; s < 6; s++) if (a.sreg[s] !== b.sreg[s] || a.segBase[s] !== b.segBase[s]) return SEG_NAMES[s];
  if (a.cr0 !== b.cr0 || a.cr2 !== b.cr2 || a.cr3 !== b.cr3 || a.cr4 !== b.cr4) return 'control registers';
  if (a.halted !== b.halted) return 'halted';
  return null;
}

function stateDifference(a: PcMachine, b: PcMachine): string | null {
  const sa = sectionsOf(saveAll(a.statefuls)), sb = sectionsOf(saveAll(b.statefuls));
  for (const [name, bytes] of sa) {
    const other = sb.get(name);
    if (!other || Buffer.compare(bytes, other) !== 0) return `the saved state of "${name}"`;
  }
  return null;
}

function ramDifference(a: PcMachine, b: PcMachine): string | null {
  const ra = a.mem.bytes.subarray(0, a.mem.ramSize), rb = b.mem.bytes.subarray(0, b.mem.ramSize);
  if (Buffer.compare(ra, rb) === 0) return null;
  let i = 0;
  while (ra[i] === rb[i]) i++;
  return `RAM at physical ${i.toString(16)}h: JIT ${ra[i].toString(16)}h, interpreter ${rb[i].toString(16)}h`;
}

function describeCpu(c: Cpu): string {
  const h = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
  return `eip=${h(c.eip)} ${REG_NAMES.map((r, i) => `${r}=${h(c.regs[i])}`).join(' ')} eflags=${h(c.getEflags())} count=${c.instructionCount}`;
}
