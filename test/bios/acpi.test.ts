// The ACPI and SMBIOS tables POST leaves for the OS, found as an OS finds them (the RSDP and the
// SMBIOS entry point by scanning the F segment), checked field by field, and handed to real
// parsers: ACPICA's iasl disassembles the DSDT and the FADT and recompiles the DSDT (package
// acpica-tools), and dmidecode decodes the SMBIOS structures (package dmidecode).
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc.ts';
import { e820Map } from '../../src/bios/system.ts';
import { E820_ACPI, E820_NVS } from '../../src/bios/acpi.ts';
import { nameString, pkgLength, eisaId } from '../../src/bios/aml.ts';

const MiB = 1 << 20;
let m: PcMachine;
let dir: string;

function sum(bytes: Uint8Array): number { let s = 0; for (const b of bytes) s += b; return s & 0xff; }
const ascii = (b: Uint8Array) => String.fromCharCode(...b);
function scan(sig: string, from: number, to: number): number {
  for (let a = from; a < to; a += 16) if (ascii(m.mem.readBytes(a, sig.length)) === sig) return a;
  return -1;
}
function tableAt(addr: number): Uint8Array { return m.mem.readBytes(addr, m.mem.read32(addr + 4)); }
function rsdp(): number { return scan('RSD PTR ', 0xe0000, 0x100000); }
function tables(): { rsdt: number; fadt: number; dsdt: number; facs: number } {
  const rsdt = m.mem.read32(rsdp() + 16);
  const fadt = m.mem.read32(rsdt + 36);
  return { rsdt, fadt, dsdt: m.mem.read32(fadt + 40), facs: m.mem.read32(fadt + 36) };
}
function iasl(args: string[]): string {
  return execFileSync('iasl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'soulvm-acpi-'));
  m = new PcMachine({ memoryMiB: 128 });
  // POST, then INT 19h finds nothing to boot: the tables are in place.
  expect((await m.run({ maxInstructions: 1e6 })).stop).toBe('boot-failed');
  return () => rmSync(dir, { recursive: true, force: true });
});

describe('AML encoding', () => {
  it('encodes package lengths, names and EISA ids as the specification says', () => {
    expect(pkgLength(0x3e)).toEqual([0x3f]);
    expect(pkgLength(0x3f)).toEqual([0x41, 0x04]);          // 0x41 bytes: two-byte form
    expect(pkgLength(0x1000)).toEqual([0x83, 0x00, 0x01]);  // 0x1003: more than 12 bits, two bytes follow
    expect(nameString('\\_SB.PCI0')).toEqual([0x5c, 0x2e, ...'_SB_PCI0'].map((c) => typeof c === 'string' ? c.charCodeAt(0) : c));
    expect(nameString('^ISA')).toEqual([0x5e, 0x49, 0x53, 0x41, 0x5f]);
    expect(eisaId('PNP0A03')).toEqual([0x0c, 0x41, 0xd0, 0x0a, 0x03]);
    expect(() => nameString('TOOLONG')).toThrow(/name segment/);
  });
});

describe('ACPI tables', () => {
  it('puts the RSDP on a 16-byte boundary in the BIOS area with a valid checksum, pointing at the RSDT', () => {
    const at = rsdp();
    expect(at).toBeGreaterThanOrEqual(0xe0000);
    expect(at % 16).toBe(0);
    const r = m.mem.readBytes(at, 20);
    expect(sum(r)).toBe(0);
    expect(r[15]).toBe(0); // ACPI 1.0
    expect(ascii(tableAt(tables().rsdt).subarray(0, 4))).toBe('RSDT');
  });

  it('gives every table a valid length and checksum, inside E820 ACPI memory (FACS in NVS, 64-byte aligned)', () => {
    const t = tables();
    const map = e820Map(m.mem.ramSize);
    const inType = (addr: number, len: number, type: number) => map.some((e) => e.type === type && addr >= e.base && addr + len <= e.base + e.length);
    for (const [sig, addr] of [['RSDT', t.rsdt], ['FACP', t.fadt], ['DSDT', t.dsdt]] as const) {
      const tb = tableAt(addr);
      expect(ascii(tb.subarray(0, 4))).toBe(sig);
      expect(sum(tb), sig).toBe(0);
      expect(inType(addr, tb.length, E820_ACPI), sig).toBe(true);
    }
    expect(tableAt(t.rsdt).length).toBe(36 + 4);
    expect(tableAt(t.fadt).length).toBe(116);
    expect(ascii(m.mem.readBytes(t.facs, 4))).toBe('FACS');
    expect(m.mem.read32(t.facs + 4)).toBe(64);
    expect(t.facs % 64).toBe(0);
    expect(inType(t.facs, 64, E820_NVS)).toBe(true);
    // The RAM the OS may use ends below the tables.
    const usable = map.filter((e) => e.type === 1).map((e) => e.base + e.length);
    expect(Math.max(...usable)).toBeLessThanOrEqual(t.rsdt);
  });

  it('points the FADT at the PIIX4 power management registers, with the SCI on its interrupt line and ACPI on', () => {
    const f = tables().fadt, mem = m.mem;
    const pmBase = m.chipset.pm.pmBase;
    expect(pmBase).toBeGreaterThan(0);
    expect(mem.read16(f + 46)).toBe(9);                         // SCI_INT
    expect(m.chipset.pm.readConfig(0x3c, 1)).toBe(9);           // the PM function's interrupt line
    expect(mem.read32(f + 48)).toBe(0);                         // no SMI_CMD: ACPI mode is fixed...
    expect(m.io.read16(pmBase + 4) & 1).toBe(1);                // ...so SCI_EN is already set
    expect(mem.read32(f + 56)).toBe(pmBase);                    // PM1a_EVT_BLK
    expect(mem.read32(f + 64)).toBe(pmBase + 4);                // PM1a_CNT_BLK
    expect(mem.read32(f + 76)).toBe(pmBase + 8);                // PM_TMR_BLK
    expect(mem.read32(f + 80)).toBe(pmBase + 0x0c);             // GPE0_BLK
    expect([mem.read8(f + 88), mem.read8(f + 89), mem.read8(f + 91), mem.read8(f + 92)]).toEqual([4, 2, 4, 4]);
    expect(m.io.read8(0x4d1) & 0x02).toBe(0x02);                // IRQ 9 level-triggered
    // The PM timer the FADT names counts at 3.58 MHz.
    const a = m.io.read32(pmBase + 8);
    m.clock.advance(1_000_000); // 1,000,000 instructions at 5 ns: 5 ms
    const b = m.io.read32(pmBase + 8);
    expect(Math.abs(((b - a) & 0xffffff) - 5e6 * 3579545 / 1e9)).toBeLessThan(1);
  });

  it('writes a DSDT that ACPICA disassembles and recompiles without errors, describing the board', () => {
    const t = tables();
    writeFileSync(join(dir, 'dsdt.dat'), tableAt(t.dsdt));
    writeFileSync(join(dir, 'facp.dat'), tableAt(t.fadt));
    iasl(['-d', 'dsdt.dat', 'facp.dat']);
    const dsl = readFileSync(join(dir, 'dsdt.dsl'), 'utf8');
    const facp = readFileSync(join(dir, 'facp.dsl'), 'utf8');
    expect(facp).toMatch(/PM1A Event Block Address : 0000B000/);
    expect(facp).toMatch(/PM Timer Block Address : 0000B008/);
    expect(facp).toMatch(/SCI Interrupt : 0009/);
    expect(dsl).toMatch(/Name \(\\_S5, Package \(0x04\)[\s\S]*?Zero,\s*Zero,/);
    expect(dsl).toMatch(/Device \(PCI0\)\s*\{\s*Name \(_HID, EisaId \("PNP0A03"\)/);
    expect(dsl).toMatch(/OperationRegion \(PIRQ, PCI_Config, 0x60, 0x04\)/);
    for (const hid of ['PNP0000', 'PNP0100', 'PNP0B00', 'PNP0303', 'PNP0501', 'PNP0C02', 'PNP0C04']) expect(dsl).toContain(`EisaId ("${hid}")`);
    for (const link of ['LNKA', 'LNKB', 'LNKC', 'LNKD']) expect(dsl).toMatch(new RegExp(`Device \\(${link}\\)[\\s\\S]*?_SRS`));
    // The recompiled disassembly is a valid table (iasl exits non-zero on any error).
    writeFileSync(join(dir, 'again.dsl'), dsl);
    expect(iasl(['-p', 'again', 'again.dsl'])).toMatch(/Compilation successful\. 0 Errors/);
  });

  it('routes every slot and pin in _PRT to the same PIRQ link as the $PIR table', () => {
    const dsl = (() => {
      writeFileSync(join(dir, 'prt.dat'), tableAt(tables().dsdt));
      iasl(['-d', 'prt.dat']);
      return readFileSync(join(dir, 'prt.dsl'), 'utf8');
    })();
    const prt = [...dsl.matchAll(/Package \(0x04\)\s*\{\s*(0x[0-9A-F]+|Zero|One),\s*(0x[0-9A-F]+|Zero|One),\s*\\_SB\.LNK([A-D]),\s*Zero/g)]
      .map(([, adr, pin, link]) => {
        const n = (s: string) => (s === 'Zero' ? 0 : s === 'One' ? 1 : parseInt(s, 16));
        return `${n(adr) >>> 16}:${n(pin)}:${link}`;
      });
    const pirAt = scan('$PIR', 0xf0000, 0x100000);
    const pir: string[] = [];
    const size = m.mem.read16(pirAt + 6);
    for (let e = pirAt + 32; e < pirAt + size; e += 16) {
      const slot = m.mem.read8(e + 1) >>> 3;
      for (let pin = 0; pin < 4; pin++) pir.push(`${slot}:${pin}:${'ABCD'[m.mem.read8(e + 2 + pin * 3) - 0x60]}`);
    }
    expect(prt.length).toBeGreaterThan(0);
    expect(prt.sort()).toEqual(pir.sort());
  });
});

describe('SMBIOS', () => {
  it('publishes an entry point with valid checksums and structures dmidecode decodes as Virtual Server 2005 R2', () => {
    const at = scan('_SM_', 0xf0000, 0x100000);
    expect(at).toBeGreaterThan(0);
    const ep = m.mem.readBytes(at, 0x1f);
    expect(sum(ep)).toBe(0);
    expect(ascii(ep.subarray(0x10, 0x15))).toBe('_DMI_');
    expect(sum(ep.subarray(0x10))).toBe(0);
    const tableLen = ep[0x16] | (ep[0x17] << 8);
    const table = m.mem.readBytes(m.mem.read32(at + 0x18), tableLen);
    // dmidecode's dump format: the entry point at offset 0 with the table moved to offset 32.
    const dump = new Uint8Array(32 + tableLen);
    dump.set(ep);
    dump.set([32, 0, 0, 0], 0x18);
    dump[0x15] = 0; dump[0x15] = (256 - sum(dump.subarray(0x10, 0x1f))) & 0xff;
    dump[4] = 0; dump[4] = (256 - sum(dump.subarray(0, 0x1f))) & 0xff;
    dump.set(table, 32);
    writeFileSync(join(dir, 'dmi.bin'), dump);
    const out = execFileSync('dmidecode', ['--from-dump', join(dir, 'dmi.bin')], { encoding: 'utf8' });
    expect(out).toMatch(/SMBIOS 2\.4 present/);
    expect(out).toMatch(/System Information\s+Manufacturer: Microsoft Corporation\s+Product Name: Virtual Machine\s+Version: VS2005R2/);
    expect(out).toMatch(/BIOS Information\s+Vendor: soulvm[\s\S]*?Release Date: 11\/24\/2026[\s\S]*?ACPI is supported/);
    expect(out).toMatch(/Processor Information[\s\S]*?Family: Pentium II[\s\S]*?Signature: Type 0, Family 6, Model 3, Stepping 3/);
    expect(out).toMatch(/Memory Device[\s\S]*?Size: 128 MB/);
    expect(out).toMatch(/Memory Array Mapped Address\s+Starting Address: 0x00000000000\s+Ending Address: 0x00007FFFFFF/);
    expect(out).not.toMatch(/<OUT OF SPEC>|Invalid entry|wrong/i);
  });
});
