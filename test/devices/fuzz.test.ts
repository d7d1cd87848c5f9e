// Guest input must never crash the host: random port traffic to every device, with time
// passing, must raise no exception, keep timers sane, and save/restore at any point.
import { describe, expect, it } from 'vitest';
import { loadAll, saveAll } from '../../src/state/state.ts';
import { buildPc } from './pc.ts';

/** xorshift32, seeded: the same run every time. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

const PORTS = [
  0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x60, 0x64, 0x92,
  ...[0x3f8, 0x2f8, 0x3e8, 0x2e8].flatMap(b => [0, 1, 2, 3, 4, 5, 6, 7].map(i => b + i)),
  0x3b4, 0x3b5, 0x3ba, 0x3c0, 0x3c1, 0x3c2, 0x3c4, 0x3c5, 0x3c6, 0x3c7, 0x3c8, 0x3c9, 0x3ca, 0x3cc, 0x3ce, 0x3cf,
  0x3d4, 0x3d5, 0x3da, 0xe9,
];

describe('device fuzzing', () => {
  it('survives random port traffic with time passing and snapshots in between', () => {
    const next = prng(0x5eed);
    const pc = buildPc(new Uint8Array(4096));
    const { io, clock, scheduler, pic, devices } = pc;
    for (let step = 0; step < 150_000; step++) {
      const r = next();
      const port = PORTS[r % PORTS.length];
      // Mostly writes of random values; bias toward command-like values on some ports.
      if (r & 0x100) io.read8(port);
      else io.write8(port, (next() & 0xff) | ((r & 0x200) && port === 0x64 ? 0xa0 : 0));
      // INTA cycles now and then, as the CPU would run them.
      if ((r & 0xf000) === 0 && pic.hasInterrupt()) pic.acknowledge();
      if ((r & 0x3f) === 0) {
        clock.advance(next() % 200_000);
        const fired = scheduler.runDue();
        if (fired > 10_000) expect.fail(`runaway timers at step ${step}`);
      }
      const d = scheduler.nextDeadline();
      if (Number.isNaN(d) || d < 0) expect.fail(`bad deadline ${d} at step ${step}`);
      if (step % 50_000 === 49_999) {                       // save, restore, save again: the same bytes
        const blob = saveAll(devices);
        loadAll(devices, blob);
        expect(Buffer.compare(saveAll(devices), blob)).toBe(0);
      }
    }
  });
});
