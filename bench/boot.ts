// Boot benchmark: the default guest (images/out) from power-on to its shell, in host-clock mode
// as `npm start` runs it. Prints one line:
//   boot-bench: seconds-to-shell=<s> guest-mips=<instructions per second / 1e6> peak-rss-mib=<MiB>
//               blocks-decoded=<n> blocks-invalidated=<n> cache-full-flushes=<n>
import { PcMachine } from '../src/machine/pc.ts';
import { defaultGuest, GUEST_READY } from '../test/boot/guest.ts';

const guest = defaultGuest();
const m = new PcMachine({ linux: guest, clock: (process.argv[2] as 'host' | 'deterministic') ?? 'host', onReset: 'stop' });
const t0 = performance.now();
const r = await m.run({ until: GUEST_READY, timeoutMs: 30 * 60_000 });
const seconds = (performance.now() - t0) / 1000;
if (r.stop !== 'found') throw new Error(`the guest did not reach its shell: ${r.stop}\n${m.serialOutput.slice(-2000)}`);
const rssMiB = process.resourceUsage().maxRSS / 1024;
const blocks = m.cpu.blocks;
console.log(`boot-bench: seconds-to-shell=${seconds.toFixed(1)} guest-mips=${(r.instructions / seconds / 1e6).toFixed(1)} peak-rss-mib=${rssMiB.toFixed(0)} blocks-decoded=${blocks.built} blocks-invalidated=${blocks.invalidated} cache-full-flushes=${blocks.flushes}`);
