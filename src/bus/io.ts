// The I/O port space: 65536 ports, each with optional 8/16/32-bit handlers.
// A wide access with no handler of its own width is split into narrower ones (low port first),
// which is what the ISA bus does for devices that only decode byte accesses.

export type PortRead = (port: number) => number;
export type PortWrite = (port: number, value: number) => void;

/** What a device declares for a range of ports (MAME-style address map entry). */
export interface PortHandlers {
  read8?: PortRead;
  write8?: PortWrite;
  read16?: PortRead;
  write16?: PortWrite;
  read32?: PortRead;
  write32?: PortWrite;
}

const unmappedRead: PortRead = () => -1; // open bus: all ones, masked to width by callers
const unmappedWrite: PortWrite = () => {};

export class IoBus {
  private readonly r8: PortRead[] = new Array(0x10000).fill(unmappedRead);
  private readonly w8: PortWrite[] = new Array(0x10000).fill(unmappedWrite);
  private readonly r16: (PortRead | undefined)[] = new Array(0x10000).fill(undefined);
  private readonly w16: (PortWrite | undefined)[] = new Array(0x10000).fill(undefined);
  private readonly r32: (PortRead | undefined)[] = new Array(0x10000).fill(undefined);
  private readonly w32: (PortWrite | undefined)[] = new Array(0x10000).fill(undefined);

  /** Declare handlers for ports first..last inclusive. Later declarations replace earlier ones. */
  map(first: number, last: number, h: PortHandlers): void {
    for (let p = first; p <= last; p++) {
      if (h.read8) this.r8[p] = h.read8;
      if (h.write8) this.w8[p] = h.write8;
      if (h.read16) this.r16[p] = h.read16;
      if (h.write16) this.w16[p] = h.write16;
      if (h.read32) this.r32[p] = h.read32;
      if (h.write32) this.w32[p] = h.write32;
    }
  }

  /** Remove every handler from ports first..last (e.g. when a PCI BAR moves). */
  unmap(first: number, last: number): void {
    for (let p = first; p <= last; p++) {
      this.r8[p] = unmappedRead; this.w8[p] = unmappedWrite;
      this.r16[p] = undefined; this.w16[p] = undefined;
      this.r32[p] = undefined; this.w32[p] = undefined;
    }
  }

  read8(port: number): number {
    return this.r8[port & 0xffff](port & 0xffff) & 0xff;
  }
  read16(port: number): number {
    port &= 0xffff;
    const h = this.r16[port];
    if (h) return h(port) & 0xffff;
    return this.read8(port) | (this.read8(port + 1) << 8);
  }
  read32(port: number): number {
    port &= 0xffff;
    const h = this.r32[port];
    if (h) return h(port) >>> 0;
    return (this.read16(port) | (this.read16(port + 2) << 16)) >>> 0;
  }
  write8(port: number, value: number): void {
    this.w8[port & 0xffff](port & 0xffff, value & 0xff);
  }
  write16(port: number, value: number): void {
    port &= 0xffff;
    const h = this.w16[port];
    if (h) { h(port, value & 0xffff); return; }
    this.write8(port, value);
    this.write8(port + 1, value >>> 8);
  }
  write32(port: number, value: number): void {
    port &= 0xffff;
    const h = this.w32[port];
    if (h) { h(port, value >>> 0); return; }
    this.write16(port, value);
    this.write16(port + 2, value >>> 16);
  }
}
