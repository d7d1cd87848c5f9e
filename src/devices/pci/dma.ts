// Bus-master access to physical memory, as a PCI device sees it: no A20 gate (that is the
// CPU's), RAM pages copied a page at a time, ROM pages read but never written, MMIO through
// its handlers, and nothing at all (reads as all ones, writes dropped) where no memory is.

import { PAGE_SHIFT, PAGE_SIZE, type MemoryBus } from '../../bus/memory.ts';

/** Copy `len` bytes of `src` from `start` into physical memory at `addr`. */
export function dmaToMemory(mem: MemoryBus, addr: number, src: Uint8Array, start: number, len: number): void {
  while (len > 0) {
    const inPage = Math.min(len, PAGE_SIZE - (addr & (PAGE_SIZE - 1)));
    const off = mem.writeOffset[addr >>> PAGE_SHIFT];
    if (off >= 0) {
      mem.bytes.set(src.subarray(start, start + inPage), off + (addr & (PAGE_SIZE - 1)));
      mem.noteWrite(off + (addr & (PAGE_SIZE - 1)), inPage); // drops cached code the data lands on
    } else if (mem.readOffset[addr >>> PAGE_SHIFT] < 0) {
      // Not RAM and not ROM: MMIO takes the bytes, an empty page ignores them.
      for (let i = 0; i < inPage; i++) mem.write8((addr + i) >>> 0, src[start + i]);
    } // ROM: the write is dropped.
    addr = (addr + inPage) >>> 0;
    start += inPage;
    len -= inPage;
  }
}

/** Copy `len` bytes from physical memory at `addr` into `dst` from `start`. */
export function dmaFromMemory(mem: MemoryBus, addr: number, dst: Uint8Array, start: number, len: number): void {
  while (len > 0) {
    const inPage = Math.min(len, PAGE_SIZE - (addr & (PAGE_SIZE - 1)));
    const off = mem.readOffset[addr >>> PAGE_SHIFT];
    const o = off + (addr & (PAGE_SIZE - 1));
    if (off >= 0) dst.set(mem.bytes.subarray(o, o + inPage), start);
    else for (let i = 0; i < inPage; i++) dst[start + i] = mem.read8((addr + i) >>> 0);
    addr = (addr + inPage) >>> 0;
    start += inPage;
    len -= inPage;
  }
}

const word = new Uint8Array(4);

/** A 32-bit little-endian read by a bus master (e.g. a descriptor). */
export function dmaRead32(mem: MemoryBus, addr: number): number {
  dmaFromMemory(mem, addr >>> 0, word, 0, 4);
  return (word[0] | (word[1] << 8) | (word[2] << 16) | (word[3] << 24)) >>> 0;
}
