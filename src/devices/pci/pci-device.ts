// A PCI function: its 256-byte configuration space and its base address registers.
//
// A subclass states its identity and BARs and implements what its BARs decode; this class does
// the rest of what the PCI Local Bus Specification 2.2 (chapter 6) requires of every function:
// read-only vs writable bits (by mask, so BAR sizing by writing all ones falls out), write-1-to-
// clear status bits, the command register gating I/O and memory decoding and INTx, moving a BAR
// remaps its handlers on the I/O or memory bus, and the interrupt pin through the bus's routing.

import type { PortHandlers } from '../../bus/io.ts';
import type { MmioHandler } from '../../bus/memory.ts';
import type { PciBus } from './pci-bus.ts';
import { defineState, type FieldSpec, type StateDesc } from '../../state/state.ts';

// Configuration header offsets (type 0).
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const CMD_IO = 0x0001;
export const CMD_MEMORY = 0x0002;
export const CMD_BUS_MASTER = 0x0004;
export const CMD_INTX_DISABLE = 0x0400;
const STATUS_INTERRUPT = 0x0008;

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  /** Base class, subclass and programming interface as one 24-bit number, e.g. 0x010180. */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** Bit 7 set on function 0 of a multi-function device. */
  headerType?: number;
  /** 1-4 for INTA#-INTD#, 0 for none. */
  interruptPin?: number;
}

/** An I/O BAR: handlers receive the offset inside the BAR, not the port number. */
export interface IoBar { kind: 'io'; size: number; handlers: PortHandlers }
/** A memory BAR: handlers receive the offset inside the BAR, not the physical address. */
export interface MemBar { kind: 'mem'; size: number; prefetchable?: boolean; handler: MmioHandler }
export type BarSpec = IoBar | MemBar;

/** Thrown for impossible device declarations (a programming error, not guest input). */
export class PciDeclarationError extends Error {}

export abstract class PciDevice {
  readonly config = new Uint8Array(256);
  /** Bits the guest may change. */
  protected readonly writeMask = new Uint8Array(256);
  /** Bits the guest clears by writing one. */
  protected readonly clearMask = new Uint8Array(256);
  private readonly bars: (BarSpec | undefined)[] = new Array(6);
  /** Where each BAR is decoded now (-1: not decoded). */
  private readonly barMapped = new Int32Array(6).fill(-1);
  private intxLevel = false;
  readonly bus: PciBus;
  /** Saved state: subclasses with more state build theirs with pciState(). */
  abstract readonly stateDesc: StateDesc;

  constructor(bus: PciBus, readonly devfn: number, id: PciIdentity) {
    this.bus = bus;
    const c = this.config;
    this.set16(PCI_VENDOR_ID, id.vendorId);
    this.set16(PCI_DEVICE_ID, id.deviceId);
    c[PCI_REVISION] = id.revision ?? 0;
    c[PCI_CLASS_PROG] = id.classCode & 0xff;
    c[PCI_CLASS_PROG + 1] = (id.classCode >>> 8) & 0xff;
    c[PCI_CLASS_PROG + 2] = (id.classCode >>> 16) & 0xff;
    c[PCI_HEADER_TYPE] = id.headerType ?? 0;
    this.set16(PCI_SUBSYSTEM_VENDOR_ID, id.subsystemVendorId ?? 0);
    this.set16(PCI_SUBSYSTEM_ID, id.subsystemId ?? 0);
    c[PCI_INTERRUPT_PIN] = id.interruptPin ?? 0;
    this.setWritable(PCI_COMMAND, 2, CMD_IO | CMD_MEMORY | CMD_BUS_MASTER | 0x0040 /* parity */ | 0x0100 /* SERR */ | CMD_INTX_DISABLE);
    this.clearMask[PCI_STATUS + 1] = 0xf9; // error bits 15:11 and 8
    this.writeMask[PCI_INTERRUPT_LINE] = 0xff;
    this.writeMask[0x0c] = 0xff; // cache line size
    this.writeMask[0x0d] = 0xff; // latency timer
    bus.add(this);
  }

  get slot(): number { return this.devfn >>> 3; }
  get fn(): number { return this.devfn & 7; }

  /** Declare BAR `index` (0-5). Call from the subclass constructor. */
  protected defineBar(index: number, bar: BarSpec): void {
    const size = bar.size;
    if (index < 0 || index > 5 || size < 4 || (size & (size - 1)) || (bar.kind === 'io' && size > 256)) {
      throw new PciDeclarationError(`bad BAR ${index}: ${bar.kind} size ${size}`);
    }
    this.bars[index] = bar;
    const off = PCI_BAR0 + index * 4;
    const typeBits = bar.kind === 'io' ? 1 : (bar.prefetchable ? 0x08 : 0);
    // I/O BARs decode 16 bits (x86 has 64K ports); the upper half is hardwired to zero.
    const mask = bar.kind === 'io' ? (0xffff & ~(size - 1) & ~3) : (~(Math.max(size, 16) - 1) & ~0xf);
    this.set32(off, typeBits);
    this.setWritable(off, 4, mask >>> 0);
  }

  // ---- configuration space access (the bus calls these) ----

  readConfig(offset: number, size: 1 | 2 | 4): number {
    const c = this.config;
    if (size === 1) return c[offset];
    if (size === 2) return c[offset] | (c[offset + 1] << 8);
    return (c[offset] | (c[offset + 1] << 8) | (c[offset + 2] << 16) | (c[offset + 3] << 24)) >>> 0;
  }

  writeConfig(offset: number, value: number, size: 1 | 2 | 4): void {
    for (let i = 0; i < size; i++) {
      const o = offset + i, v = (value >>> (8 * i)) & 0xff;
      const wm = this.writeMask[o], cm = this.clearMask[o];
      this.config[o] = ((this.config[o] & ~wm) | (v & wm)) & ~(v & cm);
    }
    this.configWritten(offset, size);
  }

  /** Reacts to a guest write of `size` bytes at `offset`. Subclasses extend it for their registers. */
  protected configWritten(offset: number, size: number): void {
    if (overlaps(offset, size, PCI_COMMAND, 2) || overlaps(offset, size, PCI_BAR0, 24)) this.updateMappings();
    if (overlaps(offset, size, PCI_COMMAND + 1, 1)) this.updateIntx();
  }

  /** Back to power-on: command register cleared (no decoding), BARs zero, no interrupt. */
  reset(): void {
    this.set16(PCI_COMMAND, 0);
    this.set16(PCI_STATUS, this.get16(PCI_STATUS) & 0x0010);
    for (let i = 0; i < 6; i++) {
      const bar = this.bars[i];
      if (bar) this.set32(PCI_BAR0 + i * 4, bar.kind === 'io' ? 1 : (bar.prefetchable ? 8 : 0));
    }
    this.config[PCI_INTERRUPT_LINE] = 0;
    this.updateMappings();
    this.setIntx(false);
  }

  /** Where BAR `index` is decoded now, or -1. */
  barAddress(index: number): number { return this.barMapped[index]; }

  /** The configured address of BAR `index`, decoded or not. */
  barBase(index: number): number {
    const v = this.get32(PCI_BAR0 + index * 4);
    return this.bars[index]?.kind === 'io' ? v & 0xfffc : (v & ~0xf) >>> 0;
  }

  barSpec(index: number): BarSpec | undefined { return this.bars[index]; }

  get busMasterEnabled(): boolean { return (this.get16(PCI_COMMAND) & CMD_BUS_MASTER) !== 0; }

  /** Drive this function's INTx pin (level-sensitive, active while `level` is true). */
  setIntx(level: boolean): void {
    this.intxLevel = level;
    this.updateIntx();
  }

  private updateIntx(): void {
    const pin = this.config[PCI_INTERRUPT_PIN];
    if (!pin) return;
    const st = this.get16(PCI_STATUS);
    this.set16(PCI_STATUS, this.intxLevel ? st | STATUS_INTERRUPT : st & ~STATUS_INTERRUPT);
    const asserted = this.intxLevel && !(this.get16(PCI_COMMAND) & CMD_INTX_DISABLE);
    this.bus.driveIntx(this, pin - 1, asserted);
  }

  /** Map each BAR where its register says, if the command register enables its kind of decoding. */
  protected updateMappings(): void {
    const cmd = this.get16(PCI_COMMAND);
    for (let i = 0; i < 6; i++) {
      const bar = this.bars[i];
      if (!bar) continue;
      const base = this.barBase(i);
      let want = -1;
      if (bar.kind === 'io') {
        if ((cmd & CMD_IO) && base !== 0 && base + bar.size <= 0x10000) want = base;
      } else if ((cmd & CMD_MEMORY) && base !== 0 && base + bar.size <= 0x100000000) {
        want = base | 0;
      }
      if (want === this.barMapped[i]) continue;
      if (this.barMapped[i] !== -1) this.unmapBar(bar, this.barMapped[i] >>> 0);
      this.barMapped[i] = want;
      if (want !== -1) this.mapBar(bar, want >>> 0);
    }
  }

  private mapBar(bar: BarSpec, base: number): void {
    if (bar.kind === 'io') {
      const h = bar.handlers, wrapped: PortHandlers = {};
      if (h.read8) { const f = h.read8; wrapped.read8 = (p) => f(p - base); }
      if (h.write8) { const f = h.write8; wrapped.write8 = (p, v) => f(p - base, v); }
      if (h.read16) { const f = h.read16; wrapped.read16 = (p) => f(p - base); }
      if (h.write16) { const f = h.write16; wrapped.write16 = (p, v) => f(p - base, v); }
      if (h.read32) { const f = h.read32; wrapped.read32 = (p) => f(p - base); }
      if (h.write32) { const f = h.write32; wrapped.write32 = (p, v) => f(p - base, v); }
      this.bus.io.map(base, base + bar.size - 1, wrapped);
    } else {
      this.bus.mem.mapMmio(base, bar.size, offsetMmio(bar.handler, base, bar.size));
    }
  }

  private unmapBar(bar: BarSpec, base: number): void {
    if (bar.kind === 'io') this.bus.io.unmap(base, base + bar.size - 1);
    else this.bus.mem.unmapMmio(base, bar.size);
  }

  /**
   * The saved state of a PCI function: its configuration space and INTx level, plus the
   * subclass's `fields`; after a load the BAR mappings and the interrupt are re-driven.
   */
  protected pciState(name: string, version: number, fields: Record<string, FieldSpec> = {}, postLoad?: () => void): StateDesc {
    return defineState(name, version, { config: { bytes: 256 }, intxLevel: 'bool', ...fields }, {
      postLoad: () => { this.updateMappings(); this.updateIntx(); postLoad?.(); },
    });
  }

  // ---- helpers for subclasses ----

  protected setWritable(offset: number, size: number, mask: number): void {
    for (let i = 0; i < size; i++) this.writeMask[offset + i] = (mask >>> (8 * i)) & 0xff;
  }
  protected get16(o: number): number { return this.config[o] | (this.config[o + 1] << 8); }
  protected set16(o: number, v: number): void { this.config[o] = v; this.config[o + 1] = v >>> 8; }
  protected get32(o: number): number { return this.readConfig(o, 4); }
  protected set32(o: number, v: number): void { this.set16(o, v & 0xffff); this.set16(o + 2, v >>> 16); }
}

export function overlaps(offset: number, size: number, reg: number, regSize: number): boolean {
  return offset < reg + regSize && reg < offset + size;
}

/**
 * MemoryBus maps whole 4 KiB pages; a BAR smaller than a page sees only its own bytes,
 * the rest of the page reads as all ones and ignores writes.
 */
function offsetMmio(h: MmioHandler, base: number, size: number): MmioHandler {
  const inside = (a: number) => ((a - base) >>> 0) < size;
  const out: MmioHandler = {
    read8: (a) => inside(a) ? h.read8(a - base) : 0xff,
    write8: (a, v) => { if (inside(a)) h.write8(a - base, v); },
  };
  if (h.read16) { const f = h.read16.bind(h); out.read16 = (a) => inside(a) ? f(a - base) : 0xffff; }
  if (h.write16) { const f = h.write16.bind(h); out.write16 = (a, v) => { if (inside(a)) f(a - base, v); }; }
  if (h.read32) { const f = h.read32.bind(h); out.read32 = (a) => inside(a) ? f(a - base) : -1; }
  if (h.write32) { const f = h.write32.bind(h); out.write32 = (a, v) => { if (inside(a)) f(a - base, v); }; }
  return out;
}
