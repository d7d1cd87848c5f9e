// `npm run bench [name...]`: runs the named benchmarks (default: the quick ones, cpu fpu disk),
// each in its own process so one cannot warm or pollute the next; each prints its own line.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const QUICK = ['cpu', 'fpu', 'disk'];
const names = process.argv.slice(2).length ? process.argv.slice(2) : QUICK;
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
let failed = 0;
for (const name of names) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(file) || name === 'run') { console.error(`bench: no benchmark '${name}' (bench/<name>.ts)`); failed++; continue; }
  const r = spawnSync(tsx, [file], { stdio: 'inherit' });
  if (r.status !== 0) { console.error(`bench: ${name} failed`); failed++; }
}
process.exit(failed ? 1 : 0);
