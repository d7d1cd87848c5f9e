// Interpreter speed on a CPU-bound guest program (bench/programs/cpubench.asm, prebuilt).
// Prints one line: cpu-bench: mips=<guest instructions per second / 1e6> instructions=<n> seconds=<s>
import { readFileSync } from 'node:fs';
import { BareMachine } from '../src/machine/bare.ts';

const rom = new Uint8Array(readFileSync(new URL('./programs/cpubench.bin', import.meta.url)));
const runs = Number(process.argv[2] ?? 3);
const mode = (process.argv[3] ?? 'jit') as 'jit' | 'interp';
let best = 0, instructions = 0, seconds = 0;
for (let i = 0; i < runs; i++) {
  const m = new BareMachine(rom, { memoryMiB: 32, cpu: mode });
  const t0 = process.hrtime.bigint();
  const r = m.run(2_000_000_000);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.stop !== 'exit' || r.console !== 'ok\n') throw new Error(`benchmark program failed: ${r.stop} ${JSON.stringify(r.console)}`);
  const mips = r.instructions / s / 1e6;
  if (mips > best) { best = mips; instructions = r.instructions; seconds = s; }
}
console.log(`cpu-bench: cpu=${mode} mips=${best.toFixed(1)} instructions=${instructions} seconds=${seconds.toFixed(3)}`);
