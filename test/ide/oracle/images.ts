// The disk and CD images the ide-probe oracle runs against, byte for byte the same for QEMU
// (written to files by regen.ts) and for soulvm (held in memory by the test).

/** 1 MiB hard disk: byte o is (o * 7 + (o >> 9) * 13) & 0xff. */
export function probeDisk(): Uint8Array {
  const b = new Uint8Array(1 << 20);
  for (let o = 0; o < b.length; o++) b[o] = (o * 7 + (o >> 9) * 13) & 0xff;
  return b;
}

/** 64-sector CD image: byte o is (o * 3 + (o >> 11)) & 0xff. */
export function probeCd(): Uint8Array {
  const b = new Uint8Array(64 * 2048);
  for (let o = 0; o < b.length; o++) b[o] = (o * 3 + (o >> 11)) & 0xff;
  return b;
}
