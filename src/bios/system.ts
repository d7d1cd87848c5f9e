// INT 15h system services: memory maps (E820h, E801h, 88h), the A20 gate, the configuration
// table, waits and extended-memory block moves.

import { type Ctx } from './context.ts';
import { Seg } from '../cpu/cpu.ts';
import { ENTRY, BIOS_SEGMENT, ROM_BASE } from './rom.ts';
import { defineState, type StateDesc } from '../state/state.ts';
import { ACPI_AREA_SIZE, ACPI_NVS_SIZE, E820_ACPI, E820_NVS } from './acpi.ts';

export const E820_RAM = 1, E820_RESERVED = 2;
export interface E820Entry { base: number; length: number; type: number }

/** Where the EBDA sits (1 KiB just below 640 KiB) and so where conventional memory ends. */
export const EBDA_SEGMENT = 0x9fc0;
export const EBDA_KIB = 1;
export const CONVENTIONAL_KIB = 639;

/** The end of the RAM an OS may use: the ACPI tables take the top 64 KiB. */
export function usableRamTop(ramSize: number): number { return ramSize - ACPI_AREA_SIZE; }

/**
 * The memory map for `ramSize` bytes of RAM: low RAM, EBDA, ROM area, extended RAM, the ACPI
 * tables (data, then NVS) at its top, the ROM alias at 4 GiB.
 */
export function e820Map(ramSize: number): E820Entry[] {
  const top = usableRamTop(ramSize);
  return [
    { base: 0, length: EBDA_SEGMENT * 16, type: E820_RAM },
    { base: EBDA_SEGMENT * 16, length: 0xa0000 - EBDA_SEGMENT * 16, type: E820_RESERVED },
    { base: ROM_BASE, length: 0x100000 - ROM_BASE, type: E820_RESERVED },
    { base: 0x100000, length: top - 0x100000, type: E820_RAM },
    { base: top, length: ACPI_AREA_SIZE - ACPI_NVS_SIZE, type: E820_ACPI },
    { base: ramSize - ACPI_NVS_SIZE, length: ACPI_NVS_SIZE, type: E820_NVS },
    { base: 0x100000000 - (0x100000 - ROM_BASE), length: 0x100000 - ROM_BASE, type: E820_RESERVED },
  ];
}

const SMAP = 0x534d4150;
const UNSUPPORTED = 0x86;

export interface SystemHooks {
  ramSize: number;
  /** Virtual time in ns (for AH=86h). */
  now(): number;
  setA20(on: boolean): void;
  a20(): boolean;
}

export class SystemServices {
  private waitUntil = 0;
  /** An INT 15h/86h wait in progress. */
  static readonly state: StateDesc = defineState('bios-system', 1, { waitUntil: 'f64' });
  constructor(private readonly h: SystemHooks) {}

  int15(c: Ctx, retry: boolean): void {
    const ramSize = usableRamTop(this.h.ramSize);
    switch (c.ah) {
      case 0x24: // A20 gate
        switch (c.al) {
          case 0x00: this.h.setA20(false); c.status(0); return;
          case 0x01: this.h.setA20(true); c.status(0); return;
          case 0x02: c.al = this.h.a20() ? 1 : 0; c.status(0); return;
          case 0x03: c.bx = 0x0003; c.status(0); return; // keyboard controller and port 92h
        }
        c.status(UNSUPPORTED); return;
      case 0x4f: c.carry(true); return; // keyboard intercept: pass every scan code on
      case 0x86: { // wait CX:DX microseconds
        const now = this.h.now();
        if (!retry) this.waitUntil = now + ((c.cx << 16) | c.dx) * 1000;
        if (now < this.waitUntil) { c.wait(); return; }
        c.status(0); return;
      }
      case 0x87: this.blockMove(c); return;
      case 0x88: // extended memory in KiB, at most 63 MiB
        c.ax = Math.min(ramSize - 0x100000, 0x3f00000) >>> 10; c.carry(false); return;
      case 0x90: case 0x91: c.ah = 0; c.carry(false); return; // device busy / interrupt complete
      case 0xc0: // configuration table at ES:BX
        c.cpu.setSegmentReal(Seg.ES, BIOS_SEGMENT); c.bx = ENTRY.configTable; c.status(0); return;
      case 0xe8:
        if (c.al === 0x01) { // E801h: KiB 1-16 MiB in AX/CX, 64 KiB blocks above 16 MiB in BX/DX
          const below16 = Math.min(ramSize, 0x1000000) - 0x100000;
          const above16 = Math.max(0, ramSize - 0x1000000);
          c.ax = c.cx = below16 >>> 10; c.bx = c.dx = above16 >>> 16; c.carry(false); return;
        }
        if (c.ax === 0xe820 && c.edx === SMAP) { this.e820(c); return; }
        break;
    }
    c.status(UNSUPPORTED);
  }

  private e820(c: Ctx): void {
    const map = e820Map(this.h.ramSize);
    const i = c.ebx;
    if (i >= map.length || c.ecx < 20) { c.status(UNSUPPORTED); return; }
    const e = map[i];
    const p = c.lin(Seg.ES, c.di);
    c.write32(p, e.base >>> 0); c.write32(p + 4, Math.floor(e.base / 0x100000000));
    c.write32(p + 8, e.length >>> 0); c.write32(p + 12, Math.floor(e.length / 0x100000000));
    c.write32(p + 16, e.type);
    c.eax = SMAP; c.ecx = 20;
    c.ebx = i + 1 < map.length ? i + 1 : 0;
    c.carry(false);
  }

  /** AH=87h: copy CX words between the bases of the descriptors at ES:SI+10h (source) and +18h (target). */
  private blockMove(c: Ctx): void {
    const gdt = c.lin(Seg.ES, c.si);
    const base = (d: number) => (c.read16(d + 2) | (c.read8(d + 4) << 16) | (c.read8(d + 7) << 24)) >>> 0;
    const src = base(gdt + 0x10), dst = base(gdt + 0x18);
    const bytes = c.cx * 2;
    if (c.cx > 0x8000) { c.status(0x01); return; }
    // The move runs with A20 on, as the BIOS's protected-mode copy does, and restores it.
    const mem = c.cpu.mem;
    const a20 = this.h.a20();
    this.h.setA20(true);
    mem.writeBytes(dst, mem.readBytes(src, bytes));
    this.h.setA20(a20);
    c.status(0);
  }
}
