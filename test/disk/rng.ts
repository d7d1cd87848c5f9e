// A seeded PRNG for tests (no vitest import: crash-test children use it too).

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): { next: () => number; int: (n: number) => number; bytes: (n: number) => Uint8Array } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  /** Bulk bytes from an xorshift32 stream seeded by the main generator: fast for big buffers. */
  const bytes = (n: number): Uint8Array => {
    const words = new Uint32Array(Math.ceil(n / 4));
    let x = (next() * 4294967296) >>> 0 || 1;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      words[i] = x;
    }
    return new Uint8Array(words.buffer, 0, n);
  };
  return { next, int, bytes };
}

