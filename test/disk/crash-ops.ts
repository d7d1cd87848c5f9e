// The write sequence of a crash-test child, reproducible from its seed by the parent.
import { rng } from './rng.ts';

/** At most this many writes go unflushed, so the parent knows which writes may be in flight. */
export const MAX_UNFLUSHED = 8;

export interface CrashOp { sector: number; data: Uint8Array; flushAfter: boolean }

/**
 * Mostly a stream of writes moving through the disk (so that new blocks keep being allocated
 * in every run), with some random overwrites anywhere.
 */
export function crashOps(seed: number, sectors: number): { next: () => CrashOp } {
  const r = rng(seed);
  let sinceFlush = 0;
  let cursor = r.int(sectors);
  return {
    next: () => {
      const count = 1 + r.int(24);
      let sector: number;
      if (r.next() < 0.85) {
        if (cursor + count > sectors) cursor = 0;
        sector = cursor;
        cursor += count + r.int(64);
      } else sector = r.int(sectors - count + 1);
      const data = r.bytes(count * 512);
      sinceFlush++;
      const flushAfter = sinceFlush >= MAX_UNFLUSHED || r.next() < 0.3;
      if (flushAfter) sinceFlush = 0;
      return { sector, data, flushAfter };
    },
  };
}
