// Test fixtures for the IDE and PCI tests: a BlockDevice over a byte array, an interrupt
// controller stand-in that records levels, and a small PCI machine built the way pc.ts does.
import { IoBus } from '../../src/bus/io.ts';
import { MemoryBus } from '../../src/bus/memory.ts';
import type { IrqSink } from '../../src/bus/interrupts.ts';
import { type BlockDevice, DiskError, checkRange } from '../../src/disk/block-device.ts';
import { PciBus } from '../../src/devices/pci/pci-bus.ts';
import { I440bx } from '../../src/devices/pci/i440bx.ts';
import { Piix4Isa } from '../../src/devices/pci/piix4-isa.ts';
import { PiixIde } from '../../src/devices/ide/piix-ide.ts';
import type { IdeDevice } from '../../src/devices/ide/ide-device.ts';

/** A disk held in memory: a real BlockDevice, with counters for flushes and a failure switch. */
export class MemoryDisk implements BlockDevice {
  readonly bytes: Uint8Array;
  readonly sectorCount: number;
  flushes = 0;
  /** When set, reads and writes fail as a broken host file would. */
  failing = false;
  constructor(sectors: number, readonly sectorSize = 512, readonly readOnly = false) {
    this.sectorCount = sectors;
    this.bytes = new Uint8Array(sectors * sectorSize);
  }
  read(sector: number, buf: Uint8Array): void {
    checkRange(this, 'mem', sector, buf);
    if (this.failing) throw new DiskError('io', 'mem', 'read failed');
    buf.set(this.bytes.subarray(sector * this.sectorSize, sector * this.sectorSize + buf.length));
  }
  write(sector: number, data: Uint8Array): void {
    if (this.readOnly) throw new DiskError('read-only', 'mem', 'read-only');
    checkRange(this, 'mem', sector, data);
    if (this.failing) throw new DiskError('io', 'mem', 'write failed');
    this.bytes.set(data, sector * this.sectorSize);
  }
  flush(): void { this.flushes++; }
  close(): void {}
  /** Fill every sector with a pattern that names it: byte i of sector s is (s * 7 + i) & 0xff. */
  fillPattern(): this {
    for (let s = 0; s < this.sectorCount; s++) {
      for (let i = 0; i < this.sectorSize; i++) this.bytes[s * this.sectorSize + i] = (s * 7 + i + (i >> 8)) & 0xff;
    }
    return this;
  }
}

/** Records the level of each IRQ input and counts rising edges. */
export class IrqRecorder implements IrqSink {
  readonly level = new Array<boolean>(16).fill(false);
  readonly edges = new Array<number>(16).fill(0);
  setIrq(irq: number, level: boolean): void {
    if (level && !this.level[irq]) this.edges[irq]++;
    this.level[irq] = level;
  }
}

export interface TestPc {
  io: IoBus; mem: MemoryBus; pci: PciBus; irqs: IrqRecorder; host: I440bx; isa: Piix4Isa; ide: PiixIde;
}

export const BMIBA = 0xc000;

/** A 440BX + PIIX4 with IDE decoding on and bus master registers at 0xC000, as a BIOS leaves it. */
export function testPc(primary: [IdeDevice?, IdeDevice?] = [], secondary: [IdeDevice?, IdeDevice?] = [], ramMiB = 16): TestPc {
  const io = new IoBus(), mem = new MemoryBus(ramMiB << 20), pci = new PciBus(io, mem), irqs = new IrqRecorder();
  const host = new I440bx(pci, mem);
  const isa = new Piix4Isa(pci, { irqs });
  const ide = new PiixIde(pci, { irqs, primary: [primary[0], primary[1]], secondary: [secondary[0], secondary[1]] });
  cfgWrite(io, 0x39, 0x20, BMIBA, 4);
  cfgWrite(io, 0x39, 0x40, 0x80008000, 4);
  cfgWrite(io, 0x39, 0x04, 0x0005, 2);
  return { io, mem, pci, irqs, host, isa, ide };
}

export function cfgAddr(devfn: number, off: number): number {
  return (0x80000000 | (devfn << 8) | (off & 0xfc)) >>> 0;
}

export function cfgRead(io: IoBus, devfn: number, off: number, size: 1 | 2 | 4): number {
  io.write32(0xcf8, cfgAddr(devfn, off));
  const port = 0xcfc + (off & 3);
  return size === 1 ? io.read8(port) : size === 2 ? io.read16(port) : io.read32(port);
}

export function cfgWrite(io: IoBus, devfn: number, off: number, v: number, size: 1 | 2 | 4): void {
  io.write32(0xcf8, cfgAddr(devfn, off));
  const port = 0xcfc + (off & 3);
  if (size === 1) io.write8(port, v); else if (size === 2) io.write16(port, v); else io.write32(port, v);
}

/** Drives one IDE channel's ports the way a driver does. */
export class AtaPorts {
  constructor(readonly io: IoBus, readonly base = 0x1f0, readonly ctl = 0x3f6) {}
  select(unit: number, lbaMode = true): void { this.io.write8(this.base + 6, (lbaMode ? 0xe0 : 0xa0) | (unit << 4)); }
  status(): number { return this.io.read8(this.base + 7); }
  alt(): number { return this.io.read8(this.ctl); }
  error(): number { return this.io.read8(this.base + 1); }
  reg(n: number): number { return this.io.read8(this.base + n); }
  set(n: number, v: number): void { this.io.write8(this.base + n, v); }
  command(c: number): void { this.io.write8(this.base + 7, c); }
  control(v: number): void { this.io.write8(this.ctl, v); }
  /** LBA28 address and count, device bits from the current selection. */
  lba28(unit: number, lba: number, count: number): void {
    this.set(2, count); this.set(3, lba & 0xff); this.set(4, (lba >>> 8) & 0xff); this.set(5, (lba >>> 16) & 0xff);
    this.set(6, 0xe0 | (unit << 4) | ((lba >>> 24) & 0x0f));
  }
  /** LBA48: each register written twice, high-order byte first. */
  lba48(unit: number, lba: number, count: number): void {
    const hi = Math.floor(lba / 0x1000000);
    this.set(2, count >>> 8); this.set(3, hi & 0xff); this.set(4, (hi >>> 8) & 0xff); this.set(5, (hi >>> 16) & 0xff);
    this.set(2, count & 0xff); this.set(3, lba & 0xff); this.set(4, (lba >>> 8) & 0xff); this.set(5, (lba >>> 16) & 0xff);
    this.set(6, 0x40 | (unit << 4));
  }
  readBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 2) { const w = this.io.read16(this.base); out[i] = w; out[i + 1] = w >>> 8; }
    return out;
  }
  writeBytes(data: Uint8Array): void {
    for (let i = 0; i < data.length; i += 2) this.io.write16(this.base, data[i] | (data[i + 1] << 8));
  }
  readWords(n: number): Uint16Array {
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) out[i] = this.io.read16(this.base);
    return out;
  }
}

/** A disk too big to hold in memory: every sector reads as its own pattern until written. */
export class SparseDisk implements BlockDevice {
  readonly sectorSize = 512;
  readonly readOnly = false;
  readonly written = new Map<number, Uint8Array>();
  constructor(readonly sectorCount: number) {}
  static pattern(sector: number, i: number): number { return (sector * 13 + (sector / 0x1000000 | 0) + i) & 0xff; }
  read(sector: number, buf: Uint8Array): void {
    checkRange(this, 'sparse', sector, buf);
    for (let s = 0; s < buf.length / 512; s++) {
      const w = this.written.get(sector + s);
      for (let i = 0; i < 512; i++) buf[s * 512 + i] = w ? w[i] : SparseDisk.pattern(sector + s, i);
    }
  }
  write(sector: number, data: Uint8Array): void {
    checkRange(this, 'sparse', sector, data);
    for (let s = 0; s < data.length / 512; s++) this.written.set(sector + s, data.slice(s * 512, s * 512 + 512));
  }
  flush(): void {}
  close(): void {}
}

/** Write a PRD table at `table`: [address, byteCount (0 = 64 KiB), end-of-table] per entry. */
export function writePrds(mem: MemoryBus, table: number, prds: [number, number, boolean][]): void {
  prds.forEach(([addr, count, eot], i) => {
    mem.write32(table + 8 * i, addr);
    mem.write32(table + 8 * i + 4, (count & 0xffff) | (eot ? 0x80000000 : 0));
  });
}
