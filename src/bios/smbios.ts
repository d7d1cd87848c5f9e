// SMBIOS 2.4 (DMTF DSP0134): the entry point and structure table that say what the machine is.
// The system is identified as Virtual Server 2005 R2's virtual machine identified itself
// ("Microsoft Corporation", "Virtual Machine", version "VS2005R2"); Linux's ata_piix reads the
// version to tell this machine from a Hyper-V one (whose IDE disks it would leave alone).

import { checksum, put16, put32, putAscii } from './tables.ts';

export interface SmbiosConfig {
  biosVendor: string;
  biosVersion: string;
  /** mm/dd/yyyy */
  biosDate: string;
  ramSize: number;
  /** CPUID leaf 1: EAX (signature) and EDX (features), the processor ID of type 4. */
  cpuSignature: number;
  cpuFeatures: number;
  /** Processor speed in MHz. */
  cpuMhz: number;
  /** 16 bytes; the system UUID. */
  uuid: Uint8Array;
  serialNumber: string;
}

export const SYSTEM_MANUFACTURER = 'Microsoft Corporation';
export const SYSTEM_PRODUCT = 'Virtual Machine';
export const SYSTEM_VERSION = 'VS2005R2';

/** One structure: the formatted area (type, length and handle filled in) and its strings. */
function structure(type: number, handle: number, formatted: number[], strings: string[]): number[] {
  const head = [type, 4 + formatted.length, handle & 0xff, handle >>> 8, ...formatted];
  const tail = strings.length ? strings.flatMap((s) => [...[...s].map((c) => c.charCodeAt(0) & 0x7f), 0]) : [0];
  return [...head, ...tail, 0];
}
const BIOS_CHARACTERISTICS = (1 << 4) | (1 << 7) | (1 << 15) | (1 << 16) | (1 << 19);
const w = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
const d = (v: number) => [...w(v & 0xffff), ...w(v >>> 16)];

export interface Smbios { entry: Uint8Array; table: Uint8Array; count: number }

/** The structure table, and the 31-byte entry point that points at `tableAddress`. */
export function buildSmbios(cfg: SmbiosConfig, tableAddress: number): Smbios {
  const ramKiB = Math.floor(cfg.ramSize / 1024), ramMiB = Math.floor(cfg.ramSize / (1 << 20));
  const structures = [
    // Type 0, BIOS: vendor, version, segment E000h, date, 128 KiB ROM; characteristics ISA,
    // PCI, boot from CD, selectable boot, EDD; ACPI supported; release 0.1, no EC.
    structure(0, 0x0000, [1, 2, ...w(0xe000), 3, 1, ...d(BIOS_CHARACTERISTICS), ...d(0), 0x01, 0x00, 0, 1, 0xff, 0xff],
      [cfg.biosVendor, cfg.biosVersion, cfg.biosDate]),
    // Type 1, system: manufacturer, product, version, serial, UUID, woken by the power switch.
    structure(1, 0x0100, [1, 2, 3, 4, ...cfg.uuid, 0x06, 0, 0], [SYSTEM_MANUFACTURER, SYSTEM_PRODUCT, SYSTEM_VERSION, cfg.serialNumber]),
    // Type 2, base board.
    structure(2, 0x0200, [1, 2, 3, 4], [SYSTEM_MANUFACTURER, SYSTEM_PRODUCT, '5.0', cfg.serialNumber]),
    // Type 3, chassis: desktop, states safe, no security.
    structure(3, 0x0300, [1, 0x03, 2, 3, 0, 0x03, 0x03, 0x03, 0x03], [SYSTEM_MANUFACTURER, SYSTEM_VERSION, cfg.serialNumber]),
    // Type 4, processor: central processor, Pentium II family, populated and enabled.
    structure(4, 0x0400, [1, 0x03, 0x0d, 2, ...d(cfg.cpuSignature), ...d(cfg.cpuFeatures), 0, 0x80 | 33,
      ...w(0), ...w(cfg.cpuMhz), ...w(cfg.cpuMhz), 0x41, 0x01, ...w(0xffff), ...w(0xffff), ...w(0xffff), 0, 0, 0],
      ['CPU 1', 'GenuineIntel']),
    // Type 16, physical memory array: system board, system memory, no ECC, one device.
    structure(16, 0x1000, [0x03, 0x03, 0x03, ...d(ramKiB), ...w(0xfffe), ...w(1)], []),
    // Type 17, memory device: 64-bit DIMM of SDRAM holding all of the RAM.
    structure(17, 0x1100, [...w(0x1000), ...w(0xfffe), ...w(64), ...w(64), ...w(ramMiB), 0x09, 0, 1, 2, 0x0f, ...w(0x0080), ...w(0), 0, 0, 0, 0],
      ['DIMM 0', 'BANK 0']),
    // Type 19, memory array mapped address: 0 up to the end of RAM.
    structure(19, 0x1300, [...d(0), ...d(ramKiB - 1), ...w(0x1000), 1], []),
    // Type 32, system boot information: no errors.
    structure(32, 0x2000, [0, 0, 0, 0, 0, 0, 0], []),
    structure(127, 0x7f00, [], []),
  ];
  const table = new Uint8Array(structures.flat());
  const maxSize = Math.max(...structures.map((s) => s.length));

  // The entry point (2.1+): "_SM_" with its checksum over 31 bytes, and the legacy "_DMI_" part.
  const e = new Uint8Array(0x1f);
  putAscii(e, 0, '_SM_');
  e[5] = 0x1f;
  e[6] = 2; e[7] = 4;
  put16(e, 8, maxSize);
  putAscii(e, 0x10, '_DMI_');
  put16(e, 0x16, table.length);
  put32(e, 0x18, tableAddress);
  put16(e, 0x1c, structures.length);
  e[0x1e] = 0x24;
  e[0x15] = checksum(e.subarray(0x10));
  e[4] = checksum(e);
  return { entry: e, table, count: structures.length };
}
