// ACPI 1.0b tables for the Virtual PC board (440BX + PIIX4), as PC firmware of its day laid
// them out: the RSDP in the BIOS's F segment, and the RSDT, FADT and DSDT at the top of RAM
// (E820 type 3, ACPI data) with the FACS above them (E820 type 4, ACPI NVS).
//   - FADT: the PIIX4 power management registers at PMBA (PM1a event block +0, control block
//     +4, PM timer +8, GPE0 +0Ch; 82371AB datasheet 7.1), SCI on IRQ 9, no SMI_CMD: ACPI is on
//     from power-up (POST sets SCI_EN), as on systems without legacy mode.
//   - DSDT: the processor, \_S5 (SUS_TYP 0 is soft off on the PIIX4), the PCI root bridge with
//     its resource windows and _PRT, the PIIX4's PIRQ routing registers (PCI config 60h-63h of
//     function 0) behind four PCI interrupt link devices, and the legacy ISA devices.
// References: ACPI Specification 1.0b (sections 5.2 tables, 6.4 resources, 16 AML), PCI
// Firmware Specification (_PRT), Microsoft "PCI IRQ Routing on a Multiprocessor ACPI System".

import * as A from './aml.ts';
import { checksum, put16, put32, putAscii } from './tables.ts';

export const E820_ACPI = 3, E820_NVS = 4;
/** The top 64 KiB of RAM hold the tables: 60 KiB of ACPI data, then 4 KiB of NVS for the FACS. */
export const ACPI_AREA_SIZE = 0x10000;
export const ACPI_NVS_SIZE = 0x1000;

export const OEM_ID = 'SOULVM';
export const OEM_TABLE_ID = 'SOULVMPC';

export interface AcpiRouting { slot: number; pin: number; pirq: number }

export interface AcpiConfig {
  ramSize: number;
  /** The PIIX4 power management I/O base (PMBA). */
  pmBase: number;
  sciIrq: number;
  /** Device/function of the PIIX4's ISA bridge, which holds the PIRQ route control registers. */
  isaBridge: number;
  /** The same slot/pin → PIRQ entries as the $PIR table. */
  routing: AcpiRouting[];
  /** ISA IRQs a PCI interrupt link can be routed to (bit mask, as in $PIR). */
  routableIrqs: number;
  /** The serial ports the board has. */
  comPorts: { base: number; irq: number }[];
}

/** Where the tables live for `ramSize` bytes of RAM. */
export function acpiArea(ramSize: number): { base: number; nvsBase: number } {
  return { base: ramSize - ACPI_AREA_SIZE, nvsBase: ramSize - ACPI_NVS_SIZE };
}

export interface AcpiTables {
  /** The RSDP, to be placed on a 16-byte boundary in E0000h-FFFFFh. */
  rsdp: Uint8Array;
  /** The ACPI data area, to be written at acpiArea().base. */
  data: Uint8Array;
  /** The NVS area (the FACS), at acpiArea().nvsBase. */
  nvs: Uint8Array;
  /** Physical addresses of each table, by signature. */
  addresses: Record<'RSDT' | 'FADT' | 'DSDT' | 'FACS', number>;
}

const HEADER = 36;
const RSDT_OFF = 0, FADT_OFF = 0x40, DSDT_OFF = 0x100;
const FADT_LENGTH = 116;

export function buildAcpiTables(cfg: AcpiConfig): AcpiTables {
  const { base, nvsBase } = acpiArea(cfg.ramSize);
  const dsdt = table('DSDT', 1, buildDsdt(cfg));
  if (DSDT_OFF + dsdt.length > nvsBase - base) throw new RangeError(`DSDT of ${dsdt.length} bytes does not fit the ACPI area`);
  const addresses = { RSDT: base + RSDT_OFF, FADT: base + FADT_OFF, DSDT: base + DSDT_OFF, FACS: nvsBase };

  const data = new Uint8Array(DSDT_OFF + dsdt.length);
  const rsdtBody = new Uint8Array(4);
  put32(rsdtBody, 0, addresses.FADT);
  data.set(table('RSDT', 1, [...rsdtBody]), RSDT_OFF);
  data.set(buildFadt(cfg, addresses.FACS, addresses.DSDT), FADT_OFF);
  data.set(dsdt, DSDT_OFF);

  // FACS (5.2.6): no checksum; the global lock and waking vector start at zero.
  const nvs = new Uint8Array(64);
  putAscii(nvs, 0, 'FACS');
  put32(nvs, 4, 64);

  // RSDP (5.2.4.3), ACPI 1.0 form: revision 0, 20 bytes.
  const rsdp = new Uint8Array(20);
  putAscii(rsdp, 0, 'RSD PTR ');
  putAscii(rsdp, 9, OEM_ID);
  rsdp[15] = 0;
  put32(rsdp, 16, addresses.RSDT);
  rsdp[8] = checksum(rsdp);
  return { rsdp, data, nvs, addresses };
}

/** A table with the standard header (5.2.5) and its checksum. */
function table(signature: string, revision: number, body: A.Aml): Uint8Array {
  const t = new Uint8Array(HEADER + body.length);
  putAscii(t, 0, signature);
  put32(t, 4, t.length);
  t[8] = revision;
  putAscii(t, 10, OEM_ID);
  putAscii(t, 16, OEM_TABLE_ID);
  put32(t, 24, 1);                 // OEM revision
  putAscii(t, 28, 'SLVM');         // creator
  put32(t, 32, 1);
  t.set(body, HEADER);
  t[9] = checksum(t);
  return t;
}

// FADT flags (5.2.8, table 5-9).
const WBINVD = 1 << 0, PROC_C1 = 1 << 2, SLP_BUTTON = 1 << 5;

function buildFadt(cfg: AcpiConfig, facs: number, dsdt: number): Uint8Array {
  const b = new Uint8Array(FADT_LENGTH - HEADER);
  const at = (o: number) => o - HEADER;
  put32(b, at(36), facs);
  put32(b, at(40), dsdt);
  b[at(44)] = 0;                          // INT_MODEL: dual 8259
  put16(b, at(46), cfg.sciIrq);
  put32(b, at(48), 0);                    // SMI_CMD: none, ACPI mode is fixed
  put32(b, at(56), cfg.pmBase);           // PM1a_EVT_BLK: PMSTS, PMEN
  put32(b, at(64), cfg.pmBase + 4);       // PM1a_CNT_BLK: PMCNTRL
  put32(b, at(76), cfg.pmBase + 8);       // PM_TMR_BLK: PMTMR
  put32(b, at(80), cfg.pmBase + 0x0c);    // GPE0_BLK: GPSTS, GPEN
  b[at(88)] = 4;                          // PM1_EVT_LEN
  b[at(89)] = 2;                          // PM1_CNT_LEN
  b[at(91)] = 4;                          // PM_TMR_LEN
  b[at(92)] = 4;                          // GPE0_BLK_LEN
  put16(b, at(96), 0x0fff);               // P_LVL2_LAT > 100: no C2
  put16(b, at(98), 0x0fff);               // P_LVL3_LAT > 1000: no C3
  b[at(106)] = 0;                         // DAY_ALRM, MON_ALRM: the RTC has no day or month alarm
  b[at(107)] = 0;
  b[at(108)] = 0x32;                      // CENTURY: CMOS byte 32h, which the RTC keeps current
  put32(b, at(112), WBINVD | PROC_C1 | SLP_BUTTON);
  return table('FACP', 1, [...b]);
}

const LINKS = ['LNKA', 'LNKB', 'LNKC', 'LNKD'];
const PIRQ_REGS = ['PRQA', 'PRQB', 'PRQC', 'PRQD'];
const PIRQ_DISABLED = 0x80;

function buildDsdt(cfg: AcpiConfig): A.Aml {
  const isaPath = '\\_SB.PCI0.ISA';
  const isaAdr = ((cfg.isaBridge >>> 3) << 16) | (cfg.isaBridge & 7);
  const prt = A.pkg(...cfg.routing.map((r) => A.pkg(A.int(((r.slot << 16) | 0xffff) >>> 0), A.int(r.pin), A.ref(`\\_SB.${LINKS[r.pirq]}`), A.int(0))));
  const pciCrs = A.resources(
    A.wordBusNumber(0x00, 0xff),
    A.ioPort(0x0cf8, 8),
    A.wordIo(0x0000, 0x0cf7),
    A.wordIo(0x0d00, 0xffff),
    A.dwordMemory(0x000a0000, 0x000bffff),
    A.dwordMemory(cfg.ramSize, 0xfebfffff),
  );
  const legacy = (nameSeg: string, hid: string, ...crs: A.Aml[]) =>
    A.device(nameSeg, A.name('_HID', A.eisaId(hid)), A.name('_CRS', A.resources(...crs)));
  const coms = cfg.comPorts.map((p, i) => A.device(`COM${i + 1}`,
    A.name('_HID', A.eisaId('PNP0501')), A.name('_UID', A.int(i + 1)),
    A.name('_CRS', A.resources(A.ioPort(p.base, 8), A.irqNoFlags(p.irq)))));

  return [
    ...A.scope('\\_PR', A.processor('CPU0', 0, 0, 0)),
    // Soft off: SUS_TYP 0 with SUS_EN (the PIIX4's PMCNTRL).
    ...A.name('\\_S5', A.pkg(A.int(0), A.int(0), A.int(0), A.int(0))),
    ...A.scope('\\_SB',
      A.device('PCI0',
        A.name('_HID', A.eisaId('PNP0A03')),
        A.name('_UID', A.int(0)),
        A.name('_CRS', pciCrs),
        A.name('_PRT', prt),
        A.device('ISA',
          A.name('_ADR', A.int(isaAdr)),
          A.opRegion('PIRQ', A.PciConfig, 0x60, 4),
          A.field('PIRQ', PIRQ_REGS.map((r) => [r, 8])),
          legacy('PIC', 'PNP0000', A.ioPort(0x20, 2), A.ioPort(0xa0, 2), A.irqNoFlags(2)),
          legacy('TMR', 'PNP0100', A.ioPort(0x40, 4), A.irqNoFlags(0)),
          legacy('RTC', 'PNP0B00', A.ioPort(0x70, 2), A.irqNoFlags(8)),
          legacy('SPKR', 'PNP0800', A.ioPort(0x61, 1)),
          legacy('KBD', 'PNP0303', A.ioPort(0x60, 1), A.ioPort(0x64, 1), A.irqNoFlags(1)),
          legacy('FPU', 'PNP0C04', A.ioPort(0xf0, 16), A.irqNoFlags(13)),
          ...coms,
          // Board resources no driver claims: the PM registers, ELCR, port 92h, the BIOS's
          // trap ports and the debug console.
          A.device('SYSR', A.name('_HID', A.eisaId('PNP0C02')), A.name('_UID', A.int(1)),
            A.name('_CRS', A.resources(A.ioPort(cfg.pmBase, 64), A.ioPort(0x4d0, 2), A.ioPort(0x92, 1),
              A.ioPort(0xe5, 2), A.ioPort(0xe9, 1)))),
        ),
      ),
      ...LINKS.map((link, i) => linkDevice(link, i + 1, `${isaPath}.${PIRQ_REGS[i]}`, cfg.routableIrqs)),
    ),
  ];
}

/** A PCI interrupt link (PNP0C0F) over one PIRQ route control register. */
function linkDevice(link: string, uid: number, reg: string, routable: number): A.Aml {
  const r = A.ref(reg);
  return A.device(link,
    A.name('_HID', A.eisaId('PNP0C0F')),
    A.name('_UID', A.int(uid)),
    A.name('_PRS', A.resources(A.irqLevelLowShared(routable))),
    A.method('_STA', 0,
      A.ifThen(A.and(r, A.int(PIRQ_DISABLED)), A.ret(A.int(0x09))), // present, disabled
      A.ret(A.int(0x0b))),                                             // present, enabled, functioning
    A.method('_DIS', 0, A.or(r, A.int(PIRQ_DISABLED), r)),
    A.method('_CRS', 0,
      A.name('BUF', A.resources(A.irqLevelLowShared(0))),
      A.createWordField(A.ref('BUF'), 1, 'IRQW'),
      A.ifThen(A.lnot(A.and(r, A.int(PIRQ_DISABLED))), A.shiftLeft(A.int(1), A.and(r, A.int(0x0f)), A.ref('IRQW'))),
      A.ret(A.ref('BUF'))),
    A.method('_SRS', 1,
      A.createWordField(A.arg0, 1, 'IRQW'),
      A.findSetRightBit(A.ref('IRQW'), A.local0),
      A.decrement(A.local0),
      A.store(A.local0, r)),
  );
}
