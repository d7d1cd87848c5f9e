// The physical address space: RAM, ROM and MMIO on 4 KiB pages.
//
// All RAM and ROM bytes live in one ArrayBuffer (`bytes`); a page table maps each physical
// page to its offset there, so the CPU's TLB can turn a virtual page into a typed-array index
// and a hit costs one array read. Pages with no direct backing (MMIO, unmapped) go through
// handlers. ROM pages are directly readable but not directly writable; writes to ROM are
// dropped, as on a real board with write-protected shadow.

export interface MmioHandler {
  read8(addr: number): number;
  write8(addr: number, value: number): void;
  /** Optional wide accessors; without them wide accesses are split into bytes. */
  read16?(addr: number): number;
  write16?(addr: number, value: number): void;
  read32?(addr: number): number;
  write32?(addr: number, value: number): void;
}

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_COUNT = 1 << 20; // 4 GiB / 4 KiB
const NO_PAGE = -1;

export class MemoryBus {
  /** RAM followed by ROM images. */
  readonly bytes: Uint8Array;
  readonly ramSize: number;
  /** Byte offset in `bytes` of each physical page, or -1 when not directly readable. */
  readonly readOffset = new Int32Array(PAGE_COUNT).fill(NO_PAGE);
  /** Byte offset in `bytes` of each physical page, or -1 when not directly writable. */
  readonly writeOffset = new Int32Array(PAGE_COUNT).fill(NO_PAGE);
  private readonly mmio: (MmioHandler | undefined)[] = new Array(PAGE_COUNT);
  private romTop: number;
  /** A byte outside RAM and ROM that the CPU uses to fetch code from MMIO one byte at a time. */
  readonly scratchOffset: number;

  /** AND mask applied to every physical address: bit 20 cleared while the A20 gate is off. */
  a20Mask = -1;
  /** Called whenever mappings or the A20 gate change, so that TLBs can be flushed. */
  private readonly changeListeners: (() => void)[] = [];

  constructor(ramSize: number, romSpace = 2 << 20) {
    if (ramSize < (1 << 20) || ramSize % PAGE_SIZE) throw new RangeError(`RAM size must be a multiple of 4 KiB and at least 1 MiB, got ${ramSize}`);
    if (ramSize > 0xe0000000) throw new RangeError('RAM above 3.5 GiB is not supported');
    this.ramSize = ramSize;
    this.bytes = new Uint8Array(ramSize + romSpace + PAGE_SIZE);
    this.scratchOffset = ramSize + romSpace;
    this.codeChunks = new Uint32Array((this.bytes.length >>> PAGE_SHIFT) + 1);
    this.romTop = ramSize;
    for (let p = 0; p < ramSize >>> PAGE_SHIFT; p++) {
      this.readOffset[p] = p << PAGE_SHIFT;
      this.writeOffset[p] = p << PAGE_SHIFT;
    }
    // The legacy hole: 0xA0000-0xBFFFF belongs to the VGA, 0xC0000-0xFFFFF to ROMs.
    for (let p = 0xa0; p < 0x100; p++) { this.readOffset[p] = NO_PAGE; this.writeOffset[p] = NO_PAGE; }
  }

  /**
   * Per page of `bytes`: bit c is set while bytes [128c, 128c + 128) of the page hold decoded code
   * that the CPU has cached. Whoever writes into `bytes` directly checks the page's word and, when
   * it is not zero, reports the write through `noteWrite` (or `codeWritten`).
   */
  readonly codeChunks: Uint32Array;
  /** Installed by the CPU's block cache: drops the decoded code in bytes [index, index + length). */
  codeWritten: (index: number, length: number) => void = () => {};

  /** Report a direct write into `bytes` (DMA, bulk copies) so that cached code there is dropped. */
  noteWrite(index: number, length: number): void {
    if (length <= 0) return;
    const last = (index + length - 1) >>> PAGE_SHIFT;
    for (let p = index >>> PAGE_SHIFT; p <= last; p++) {
      if (this.codeChunks[p] !== 0) { this.codeWritten(index, length); return; }
    }
  }

  onChange(listener: () => void): void { this.changeListeners.push(listener); }
  private changed(): void { for (const l of this.changeListeners) l(); }

  setA20(enabled: boolean): void {
    const mask = enabled ? -1 : ~(1 << 20);
    if (mask !== this.a20Mask) { this.a20Mask = mask; this.changed(); }
  }
  get a20Enabled(): boolean { return this.a20Mask === -1; }

  /**
   * Map a ROM image (length a multiple of 4 KiB) at one or more physical addresses.
   * All aliases share the same bytes. Returns the image's offset in `bytes`.
   */
  mapRom(image: Uint8Array, ...addresses: number[]): number {
    if (image.length % PAGE_SIZE) throw new RangeError('ROM image size must be a multiple of 4 KiB');
    if (this.romTop + image.length > this.scratchOffset) throw new RangeError('out of ROM space');
    const offset = this.romTop;
    this.bytes.set(image, offset);
    this.noteWrite(offset, image.length);
    this.romTop += image.length;
    for (const addr of addresses) {
      const first = addr >>> PAGE_SHIFT;
      for (let i = 0; i < image.length >>> PAGE_SHIFT; i++) {
        this.readOffset[first + i] = offset + (i << PAGE_SHIFT);
        this.writeOffset[first + i] = NO_PAGE;
        this.mmio[first + i] = undefined;
      }
    }
    this.changed();
    return offset;
  }

  /** Make a ROM-mapped range writable (shadow RAM, as the chipset's PAM registers allow). */
  setRomWritable(addr: number, size: number, writable: boolean): void {
    for (let p = addr >>> PAGE_SHIFT; p < (addr + size) >>> PAGE_SHIFT; p++) {
      this.writeOffset[p] = writable ? this.readOffset[p] : NO_PAGE;
    }
    this.changed();
  }

  /** Route a physical range (page aligned) to a device. */
  mapMmio(addr: number, size: number, handler: MmioHandler): void {
    for (let p = addr >>> PAGE_SHIFT; p < ((addr + size - 1) >>> PAGE_SHIFT) + 1; p++) {
      this.readOffset[p] = NO_PAGE;
      this.writeOffset[p] = NO_PAGE;
      this.mmio[p] = handler;
    }
    this.changed();
  }

  unmapMmio(addr: number, size: number): void {
    for (let p = addr >>> PAGE_SHIFT; p < ((addr + size - 1) >>> PAGE_SHIFT) + 1; p++) {
      this.mmio[p] = undefined;
      if (p < this.ramSize >>> PAGE_SHIFT && !(p >= 0xa0 && p < 0x100)) {
        this.readOffset[p] = p << PAGE_SHIFT;
        this.writeOffset[p] = p << PAGE_SHIFT;
      }
    }
    this.changed();
  }

  // Physical accessors. Addresses are taken as unsigned 32-bit; A20 is applied here.

  read8(addr: number): number {
    addr &= this.a20Mask;
    const off = this.readOffset[addr >>> PAGE_SHIFT];
    if (off >= 0) return this.bytes[off + (addr & 0xfff)];
    const h = this.mmio[addr >>> PAGE_SHIFT];
    return h ? h.read8(addr >>> 0) & 0xff : 0xff;
  }

  read16(addr: number): number {
    if ((addr & 0xfff) === 0xfff) return this.read8(addr) | (this.read8(addr + 1) << 8);
    addr &= this.a20Mask;
    const off = this.readOffset[addr >>> PAGE_SHIFT];
    if (off >= 0) { const i = off + (addr & 0xfff); return this.bytes[i] | (this.bytes[i + 1] << 8); }
    const h = this.mmio[addr >>> PAGE_SHIFT];
    if (!h) return 0xffff;
    if (h.read16) return h.read16(addr >>> 0) & 0xffff;
    return (h.read8(addr >>> 0) & 0xff) | ((h.read8((addr + 1) >>> 0) & 0xff) << 8);
  }

  read32(addr: number): number {
    if ((addr & 0xfff) > 0xffc) return (this.read16(addr) | (this.read16(addr + 2) << 16));
    addr &= this.a20Mask;
    const off = this.readOffset[addr >>> PAGE_SHIFT];
    if (off >= 0) {
      const i = off + (addr & 0xfff), b = this.bytes;
      return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    }
    const h = this.mmio[addr >>> PAGE_SHIFT];
    if (!h) return -1;
    if (h.read32) return h.read32(addr >>> 0) | 0;
    return this.read16Mmio(h, addr) | (this.read16Mmio(h, addr + 2) << 16);
  }

  private read16Mmio(h: MmioHandler, addr: number): number {
    if (h.read16) return h.read16(addr >>> 0) & 0xffff;
    return (h.read8(addr >>> 0) & 0xff) | ((h.read8((addr + 1) >>> 0) & 0xff) << 8);
  }

  write8(addr: number, value: number): void {
    addr &= this.a20Mask;
    const off = this.writeOffset[addr >>> PAGE_SHIFT];
    if (off >= 0) {
      this.bytes[off + (addr & 0xfff)] = value;
      if (this.codeChunks[off >>> PAGE_SHIFT] !== 0) this.codeWritten(off + (addr & 0xfff), 1);
      return;
    }
    const h = this.mmio[addr >>> PAGE_SHIFT];
    if (h) h.write8(addr >>> 0, value & 0xff);
  }

  write16(addr: number, value: number): void {
    if ((addr & 0xfff) === 0xfff) { this.write8(addr, value); this.write8(addr + 1, value >> 8); return; }
    addr &= this.a20Mask;
    const off = this.writeOffset[addr >>> PAGE_SHIFT];
    if (off >= 0) {
      const i = off + (addr & 0xfff);
      this.bytes[i] = value; this.bytes[i + 1] = value >> 8;
      if (this.codeChunks[off >>> PAGE_SHIFT] !== 0) this.codeWritten(i, 2);
      return;
    }
    const h = this.mmio[addr >>> PAGE_SHIFT];
    if (!h) return;
    if (h.write16) h.write16(addr >>> 0, value & 0xffff);
    else { h.write8(addr >>> 0, value & 0xff); h.write8((addr + 1) >>> 0, (value >> 8) & 0xff); }
  }

  write32(addr: number, value: number): void {
    if ((addr & 0xfff) > 0xffc) { this.write16(addr, value); this.write16(addr + 2, value >> 16); return; }
    addr &= this.a20Mask;
    const off = this.writeOffset[addr >>> PAGE_SHIFT];
    if (off >= 0) {
      const i = off + (addr & 0xfff), b = this.bytes;
      b[i] = value; b[i + 1] = value >> 8; b[i + 2] = value >> 16; b[i + 3] = value >> 24;
      if (this.codeChunks[off >>> PAGE_SHIFT] !== 0) this.codeWritten(i, 4);
      return;
    }
    const h = this.mmio[addr >>> PAGE_SHIFT];
    if (!h) return;
    if (h.write32) h.write32(addr >>> 0, value >>> 0);
    else { this.write16(addr, value); this.write16(addr + 2, value >> 16); }
  }

  /** Copy bytes into physical memory (loaders, DMA). Goes through the same routing as the CPU. */
  writeBytes(addr: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.write8((addr + i) >>> 0, data[i]);
  }
  readBytes(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8((addr + i) >>> 0);
    return out;
  }
}
