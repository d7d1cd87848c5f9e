// The JIT against the reference interpreter over real guest code: the default Debian guest boots
// on two machines side by side in deterministic time (src/machine/lockstep.ts), one compiling hot
// blocks, one interpreting everything, and after every slice of random length the CPUs must be
// identical, every 64 slices every device's saved state, every 256 slices all of RAM.
import { describe, expect, it } from 'vitest';
import { PcMachine } from '../../src/machine/pc.ts';
import { lockstep } from '../../src/machine/lockstep.ts';
import type { CpuMode } from '../../src/cpu/jit.ts';
import { defaultGuest } from '../boot/guest.ts';

const guest = defaultGuest();
guest.cmdline += ' cryptomgr.notests';
const machine = (cpu: CpuMode, cmdline = guest.cmdline) => new PcMachine({
  linux: { ...guest, cmdline }, clock: 'deterministic', onReset: 'stop', cpu, rtcStart: new Date('2026-01-01T00:00:00Z'),
});

describe('JIT in lockstep with the interpreter, Debian guest', () => {
  it('agrees from reset through the BIOS, the boot protocol and the decompressor (20 M instructions)', () => {
    const r = lockstep((cpu) => machine(cpu), { instructions: 20_000_000, maxSlice: 3000, seed: 7 });
    expect(r.divergence).toBeNull();
    expect(r.instructions).toBeGreaterThanOrEqual(20_000_000);
    expect(r.compiled).toBeGreaterThan(50);
    expect(r.ramCompares).toBeGreaterThan(0);
  });

  it('agrees in the kernel proper, with paging, interrupts and devices (100 M instructions after 2.45 G)', () => {
    const r = lockstep((cpu) => machine(cpu), { skip: 2_450_000_000, instructions: 100_000_000, maxSlice: 5000, seed: 11 });
    expect(r.divergence).toBeNull();
    expect(r.compiled).toBeGreaterThan(1000);
    expect(r.fullCompares).toBeGreaterThan(100);
  });

  it('reports the first difference when the two machines differ', () => {
    // The JIT machine's kernel gets one more word on its command line: the two runs part as soon
    // as the kernel reads it, and the checker must say where.
    const r = lockstep((cpu) => machine(cpu, cpu === 'jit' ? `${guest.cmdline} x` : guest.cmdline),
      { instructions: 20_000_000, maxSlice: 3000, fullEvery: 4 });
    expect(r.divergence).toMatch(/RAM at physical|EIP|E[A-D]X|ES[IP]|ED[I]|EBP|EFLAGS|saved state/);
    expect(r.divergence).toContain('JIT:');
  });
});
