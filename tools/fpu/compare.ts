// Development aid: replay the golden vectors and summarize mismatches per instruction.
// Usage: npx tsx tools/fpu/compare.ts [opcode-filter e.g. "d8 c1"] [max-print]
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Fpu } from '../../src/cpu/fpu/fpu.ts';
import { TestHost, replay } from '../../test/fpu/harness.ts';

const lines = gunzipSync(readFileSync(new URL('../../test/fpu/data/x87-golden.txt.gz', import.meta.url))).toString().trim().split('\n');
const filter = process.argv[2] ?? '', maxPrint = Number(process.argv[3] ?? 3);
const host = new TestHost(), fpu = new Fpu(host);
const stats = new Map<string, [number, number]>();
const printed = new Map<string, number>();
for (const line of lines) {
  if (!line.startsWith(filter)) continue;
  const { op, got, expect } = replay(fpu, host, line);
  const ok = JSON.stringify(got) === JSON.stringify(expect);
  const s = stats.get(op) ?? [0, 0];
  s[ok ? 0 : 1]++;
  stats.set(op, s);
  if (!ok && (printed.get(op) ?? 0) < maxPrint) {
    printed.set(op, (printed.get(op) ?? 0) + 1);
    console.log(line);
    console.log('   got: ' + [got.sw, got.tw, ...got.st, got.mem, got.flags].join(' '));
  }
}
for (const [op, [ok, bad]] of stats) if (bad) console.log(`${op}: ${ok} ok, ${bad} bad`);
console.log('total ok', [...stats.values()].reduce((a, b) => a + b[0], 0), 'bad', [...stats.values()].reduce((a, b) => a + b[1], 0));
