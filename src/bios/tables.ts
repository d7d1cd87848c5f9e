// The firmware tables area at F0000h: the first 4 KiB of the BIOS's F segment, which the ROM
// leaves free. POST writes the tables a guest looks for by scanning the F segment into its
// shadow RAM, opened for writing through the 440BX's PAM0 register and write-protected again,
// and keeps the segment's byte sum what it was (the ROM sums to zero, and some software checks).
//   F0000h  BIOS32 service directory, its entry stubs, $PIR   (pci-bios.ts)
//   F0400h  ACPI RSDP                                          (acpi.ts)
//   F0420h  SMBIOS entry point, then its structure table       (smbios.ts)
//   F0FFFh  the byte that keeps the segment's sum

import type { MemoryBus } from '../bus/memory.ts';
import type { PciBus } from '../devices/pci/pci-bus.ts';

export const TABLE_AREA = 0xf0000;
export const TABLE_AREA_SIZE = 0x1000;
export const PCI_TABLES = TABLE_AREA;
export const PCI_TABLES_SIZE = 0x400;
export const RSDP_ADDRESS = 0xf0400;
export const SMBIOS_ENTRY = 0xf0420;
export const SMBIOS_TABLE = 0xf0440;
/** The SMBIOS structures end before the sum byte. */
export const SMBIOS_TABLE_END = TABLE_AREA + TABLE_AREA_SIZE - 1;

export interface TableChunk { at: number; bytes: Uint8Array }

const PAM0 = 0x59;

/** Write `chunks` into the tables area (host bridge at 00:00.0), keeping the F segment's sum. */
export function publishTables(pci: PciBus, mem: MemoryBus, chunks: TableChunk[]): void {
  const old = mem.readBytes(TABLE_AREA, TABLE_AREA_SIZE);
  const area = old.slice();
  for (const { at, bytes } of chunks) {
    if (at < TABLE_AREA || at + bytes.length > TABLE_AREA + TABLE_AREA_SIZE - 1) {
      throw new RangeError(`table at ${at.toString(16)}h (${bytes.length} bytes) is outside the F-segment tables area`);
    }
    area.set(bytes, at - TABLE_AREA);
  }
  let delta = 0;
  for (let i = 0; i < area.length - 1; i++) delta += area[i] - old[i];
  area[area.length - 1] = (old[area.length - 1] - delta) & 0xff;
  const pam0 = pci.configRead(0, 0, PAM0, 1);
  pci.configWrite(0, 0, PAM0, pam0 | 0x30, 1);
  mem.writeBytes(TABLE_AREA, area);
  pci.configWrite(0, 0, PAM0, (pam0 & ~0x30) | 0x10, 1); // read-only shadow from now on
}

/** The byte that makes `b` sum to zero (computed with that byte itself zero). */
export function checksum(b: Uint8Array): number {
  let s = 0;
  for (const x of b) s += x;
  return (-s) & 0xff;
}

export function put16(b: Uint8Array, o: number, v: number): void { b[o] = v; b[o + 1] = v >>> 8; }
export function put32(b: Uint8Array, o: number, v: number): void { put16(b, o, v & 0xffff); put16(b, o + 2, v >>> 16); }
export function putAscii(b: Uint8Array, o: number, s: string): void { for (let i = 0; i < s.length; i++) b[o + i] = s.charCodeAt(i) & 0x7f; }
