// Lockstep check of the JIT against the interpreter over the default guest's boot (see
// src/machine/lockstep.ts). Usage: npx tsx tools/lockstep.ts [INSTRUCTIONS|boot] [SKIP] [MAX_SLICE]
// Prints one line: lockstep: instructions=<n> slices=<n> full-compares=<n> ram-compares=<n> compiled=<n> seconds=<s> result=<same|diverged>
import { PcMachine } from '../src/machine/pc.ts';
import { lockstep } from '../src/machine/lockstep.ts';
import { defaultGuest, GUEST_READY } from '../test/boot/guest.ts';

const whole = (process.argv[2] ?? 'boot') === 'boot';
const instructions = whole ? Infinity : Number(process.argv[2]);
const skip = Number(process.argv[3] ?? 0), maxSlice = Number(process.argv[4] ?? 4000);
const guest = defaultGuest();
guest.cmdline += ' cryptomgr.notests';
const make = (cpu: 'jit' | 'interp') => new PcMachine({ linux: guest, clock: 'deterministic', onReset: 'stop', cpu, rtcStart: new Date('2026-01-01T00:00:00Z') });
const t0 = performance.now();
const r = lockstep(make, { instructions, skip, maxSlice, until: whole ? GUEST_READY : undefined });
console.log(`lockstep: instructions=${r.instructions} skip=${skip} slices=${r.slices} full-compares=${r.fullCompares} ram-compares=${r.ramCompares} compiled=${r.compiled} seconds=${((performance.now() - t0) / 1000).toFixed(1)} result=${r.divergence === null ? 'same' : 'diverged'}`);
if (r.divergence !== null) { console.log(r.divergence); process.exitCode = 1; }
