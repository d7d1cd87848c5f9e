// The BIOS side of PCI: POST-time configuration, the PCI IRQ routing table and the PCI BIOS.
//
// POST (PCI BIOS Specification 2.1 and what PC BIOSes of the 440BX era do):
//   - route PIRQA-D to IRQ 10, 10, 11, 11 in the PIIX4 and make those IRQs level-triggered (ELCR);
//   - size every BAR of every function on bus 0 and place it: I/O from C000h up, memory from
//     E0000000h up, largest first so each is naturally aligned; enable decoding;
//   - the PIIX4's own functions: IDE decode enable and bus mastering, power management I/O at
//     B000h with SCI on IRQ 9;
//   - write each function's interrupt line from its pin, its slot and the PIRQ routing;
//   - open the F segment's shadow through the 440BX PAM register, write the $PIR table, the
//     BIOS32 service directory ("_32_") and its 32-bit entry points into the area reserved for
//     them (PCI_BIOS_AREA), keep the segment's byte sum as it was, and write-protect it again.
// Services: INT 1Ah AX=B1xxh in real mode, and the same functions through the BIOS32 "$PCI"
// service for 32-bit protected-mode callers: present (01h), find device (02h), find class
// (03h), configuration reads and writes (08h-0Dh), IRQ routing options (0Eh), set IRQ (0Fh).

import type { IoBus } from '../bus/io.ts';
import type { MemoryBus } from '../bus/memory.ts';
import { type Cpu, Reg, Seg } from '../cpu/cpu.ts';
import type { PciBus } from '../devices/pci/pci-bus.ts';
import { pirqForPin } from '../devices/pci/pci-bus.ts';
import { CF, type Ctx } from './context.ts';
import { checksum, put16, put32, publishTables, PCI_TABLES, PCI_TABLES_SIZE } from './tables.ts';

/** F-segment bytes the PCI BIOS owns: BIOS32 header and entry stubs, then $PIR. */
export const PCI_BIOS_AREA = PCI_TABLES;
export const PCI_BIOS_AREA_SIZE = PCI_TABLES_SIZE;
/** The port the 32-bit entry stubs trap through (the ROM's real-mode trap port is E5h). */
export const BIOS32_TRAP_PORT = 0xe6;
/** PIRQA-D route to these ISA IRQs. */
export const PIRQ_IRQS = [10, 10, 11, 11];
const IO_BASE = 0xc000;
const MEM_BASE = 0xe0000000;
/** Where POST puts the PIIX4's power management registers, and the SCI's IRQ. */
export const PM_BASE = 0xb000;
export const SCI_IRQ = 9;
/** ISA IRQs the PIRQ lines may be routed to: 3-7, 9-12, 14, 15. */
export const ROUTABLE_IRQS = 0xdef8;

const BIOS32_HEADER = PCI_BIOS_AREA;            // 16 bytes, paragraph aligned
const DIR_ENTRY = PCI_BIOS_AREA + 0x10;         // out BIOS32_TRAP_PORT, al ; retf
const PCI_ENTRY = PCI_BIOS_AREA + 0x13;         // out BIOS32_TRAP_PORT, al ; retf
const PIR_TABLE = PCI_BIOS_AREA + 0x20;

// Status codes (AH).
const SUCCESSFUL = 0x00, FUNC_NOT_SUPPORTED = 0x81, BAD_VENDOR_ID = 0x83, DEVICE_NOT_FOUND = 0x86;
const BAD_REGISTER_NUMBER = 0x87, SET_FAILED = 0x88, BUFFER_TOO_SMALL = 0x89;

interface PciFunction { devfn: number; vendor: number; device: number; classCode: number }

/** Which PIRQ line (0-3 for A-D) pin `pin` (0-3 for INTA#-INTD#) of a slot drives. */
export interface PirqRoute { slot: number; pin: number; pirq: number }

/** A BAR found while sizing. */
interface BarRequest { devfn: number; reg: number; io: boolean; size: number; is64: boolean }

export class PciBios {

  constructor(readonly pci: PciBus, private readonly io: IoBus, private readonly mem: MemoryBus) {}

  // ---- POST ----

  /** Configure the bus as the BIOS leaves it for the OS, and publish the tables. Call once in POST. */
  post(): void {
    const fns = this.functions();
    const router = this.router;
    if (router >= 0) {
      PIRQ_IRQS.forEach((irq, i) => this.write8(router, 0x60 + i, irq));
      for (const irq of new Set(PIRQ_IRQS)) this.setLevelTriggered(irq);
    }
    this.placeBars(fns);
    for (const f of fns) this.setupFunction(f);
    this.publishTables(fns);
  }

  /** Every function on bus 0 (functions 1-7 only when function 0 says it is multi-function). */
  functions(): PciFunction[] {
    const out: PciFunction[] = [];
    for (let slot = 0; slot < 32; slot++) {
      for (let fn = 0; fn < 8; fn++) {
        const devfn = (slot << 3) | fn;
        const id = this.pci.configRead(0, devfn, 0, 4);
        if ((id & 0xffff) === 0xffff) { if (fn === 0) break; continue; }
        out.push({ devfn, vendor: id & 0xffff, device: id >>> 16, classCode: this.pci.configRead(0, devfn, 8, 4) >>> 8 });
        if (fn === 0 && !(this.pci.configRead(0, devfn, 0x0e, 1) & 0x80)) break;
      }
    }
    return out;
  }

  private placeBars(fns: PciFunction[]): void {
    const bars: BarRequest[] = [];
    for (const f of fns) {
      if ((this.pci.configRead(0, f.devfn, 0x0e, 1) & 0x7f) !== 0) continue; // bridges: not here
      for (let i = 0; i < 6; i++) {
        const reg = 0x10 + i * 4;
        const old = this.pci.configRead(0, f.devfn, reg, 4);
        this.pci.configWrite(0, f.devfn, reg, 0xffffffff, 4);
        const probe = this.pci.configRead(0, f.devfn, reg, 4);
        this.pci.configWrite(0, f.devfn, reg, old, 4);
        if (probe === 0) continue;
        const io = (probe & 1) !== 0;
        const mask = io ? (probe & ~3) | 0xffff0000 : probe & ~0xf;
        const size = (~mask + 1) >>> 0;
        const is64 = !io && (probe & 6) === 4;
        if (size > 0) bars.push({ devfn: f.devfn, reg, io, size, is64 });
        if (is64) i++;
      }
    }
    bars.sort((a, b) => b.size - a.size);
    let ioNext = IO_BASE, memNext = MEM_BASE;
    for (const b of bars) {
      if (b.io) {
        const at = align(ioNext, b.size);
        if (at + b.size > 0x10000) continue; // no room: leave it unassigned (decoding stays off)
        this.pci.configWrite(0, b.devfn, b.reg, at | 1, 4);
        ioNext = at + b.size;
      } else {
        const at = align(memNext, Math.max(b.size, 0x1000));
        if (at + b.size > 0xfec00000) continue; // the APIC and the ROM live above
        this.pci.configWrite(0, b.devfn, b.reg, at, 4);
        if (b.is64) this.pci.configWrite(0, b.devfn, b.reg + 4, 0, 4);
        memNext = at + b.size;
      }
    }
  }

  private setupFunction(f: PciFunction): void {
    const { devfn } = f;
    let cmd = this.pci.configRead(0, devfn, 0x04, 2);
    for (let i = 0; i < 6; i++) {
      const v = this.pci.configRead(0, devfn, 0x10 + i * 4, 4);
      if (v === 0) continue;
      cmd |= (v & 1) ? 0x0001 : 0x0002;
    }
    if (f.classCode >>> 8 === 0x0300) cmd |= 0x0003; // VGA decodes its legacy ranges
    if (f.vendor === 0x8086 && f.device === 0x7111) {
      this.pci.configWrite(0, devfn, 0x40, 0x80008000, 4); // IDE decode enable, both channels
      cmd |= 0x0005;
    }
    if (f.vendor === 0x8086 && f.device === 0x7113) {
      this.pci.configWrite(0, devfn, 0x40, PM_BASE | 1, 4);
      this.write8(devfn, 0x80, this.pci.configRead(0, devfn, 0x80, 1) | 1);
      this.write8(devfn, 0x3c, SCI_IRQ);
    } else {
      const pin = this.pci.configRead(0, devfn, 0x3d, 1);
      if (pin >= 1 && pin <= 4) this.write8(devfn, 0x3c, this.irqFor(devfn >>> 3, pin - 1));
    }
    this.pci.configWrite(0, devfn, 0x04, cmd, 2);
  }

  /** The ISA IRQ pin `pin` (0-3) of slot `slot` reaches through the PIRQ router, or 0xFF. */
  irqFor(slot: number, pin: number): number {
    const router = this.router;
    if (router < 0) return 0xff;
    const v = this.pci.configRead(0, router, 0x60 + pirqForPin(slot, pin), 1);
    return v & 0x80 ? 0xff : v & 0x0f;
  }

  private setLevelTriggered(irq: number): void {
    const port = irq < 8 ? 0x4d0 : 0x4d1;
    this.io.write8(port, this.io.read8(port) | (1 << (irq & 7)));
  }

  private write8(devfn: number, reg: number, v: number): void { this.pci.configWrite(0, devfn, reg, v, 1); }

  // ---- tables ----

  /**
   * The device/function of the PIRQ router (the PIIX4's ISA bridge), or -1. Found on the bus
   * each time, so that the PCI BIOS keeps no state of its own (nothing to save or restore).
   */
  get router(): number {
    return this.functions().find((f) => f.vendor === 0x8086 && f.device === 0x7110)?.devfn ?? -1;
  }

  /** Every slot's four pins and the PIRQ line each drives: the one routing that $PIR and ACPI's _PRT describe. */
  routes(fns: PciFunction[] = this.functions()): PirqRoute[] {
    const slots = [...new Set(fns.map((f) => f.devfn >>> 3))];
    return slots.flatMap((slot) => [0, 1, 2, 3].map((pin) => ({ slot, pin, pirq: pirqForPin(slot, pin) })));
  }

  /** The PCI IRQ routing table ($PIR, PCI IRQ Routing Table Specification 1.0). */
  pirTable(fns: PciFunction[] = this.functions()): Uint8Array {
    const routes = this.routes(fns);
    const slots = [...new Set(routes.map((r) => r.slot))];
    const size = 32 + 16 * slots.length;
    const t = new Uint8Array(size);
    t.set([0x24, 0x50, 0x49, 0x52]); // "$PIR"
    put16(t, 4, 0x0100);
    put16(t, 6, size);
    t[8] = 0;
    t[9] = Math.max(this.router, 0);
    put16(t, 10, 0);                    // no IRQs reserved for PCI alone
    put16(t, 12, 0x8086); put16(t, 14, 0x7110); // a PIIX4-compatible router
    slots.forEach((slot, i) => {
      const e = 32 + 16 * i;
      t[e] = 0; t[e + 1] = slot << 3;
      for (const r of routes) {
        if (r.slot !== slot) continue;
        t[e + 2 + r.pin * 3] = 0x60 + r.pirq; // link value: the PIRQRC register
        put16(t, e + 3 + r.pin * 3, ROUTABLE_IRQS);
      }
      t[e + 14] = slot; // slot number (0 = built in)
    });
    t[31] = checksum(t);
    return t;
  }

  /** The BIOS32 service directory header for an entry point at `entry` (physical). */
  static bios32Header(entry: number): Uint8Array {
    const h = new Uint8Array(16);
    h.set([0x5f, 0x33, 0x32, 0x5f]); // "_32_"
    put32(h, 4, entry);
    h[8] = 0;  // revision
    h[9] = 1;  // length in paragraphs
    h[10] = checksum(h);
    return h;
  }

  /** Write the tables into the F segment's shadow (tables.ts). */
  private publishTables(fns: PciFunction[]): void {
    const area = new Uint8Array(PCI_BIOS_AREA_SIZE);
    area.set(PciBios.bios32Header(DIR_ENTRY), BIOS32_HEADER - PCI_BIOS_AREA);
    const stub = [0xe6, BIOS32_TRAP_PORT, 0xcb]; // out imm8, al ; retf
    area.set(stub, DIR_ENTRY - PCI_BIOS_AREA);
    area.set(stub, PCI_ENTRY - PCI_BIOS_AREA);
    const pir = this.pirTable(fns);
    if (PIR_TABLE - PCI_BIOS_AREA + pir.length > PCI_BIOS_AREA_SIZE) return; // cannot happen on bus 0 with 32 slots
    area.set(pir, PIR_TABLE - PCI_BIOS_AREA);
    publishTables(this.pci, this.mem, [{ at: PCI_BIOS_AREA, bytes: area }]);
  }

  // ---- services ----

  /** INT 1Ah with AH = B1h, from real mode (or virtual-8086 mode). */
  int1a(c: Ctx): void {
    this.call(c.cpu, (on) => c.setFlagOut(CF, on), false);
  }

  /** Claim the 32-bit trap port (call once when the machine is built, next to the BIOS's install). */
  install(cpu: Cpu): void {
    this.io.map(BIOS32_TRAP_PORT, BIOS32_TRAP_PORT, { write8: () => this.trap32(cpu) });
  }

  /** A 32-bit far call reached one of the stubs: the directory or the $PCI service. */
  private trap32(cpu: Cpu): void {
    if (cpu.cpl !== 0) return;
    // Callers reach the stubs through their own mapping (Linux: PAGE_OFFSET + physical): compare physical addresses.
    const next = cpu.translate((cpu.segBase[Seg.CS] + cpu.eip) | 0, false, false) >>> 0;
    const setCarry = (on: boolean) => cpu.setFlag(CF, on);
    if (next === DIR_ENTRY + 2) {
      const regs = cpu.regs;
      if (regs[Reg.EBX] !== 0) { regs[Reg.EAX] = (regs[Reg.EAX] & ~0xff) | 0x81; return; }
      if ((regs[Reg.EAX] >>> 0) !== 0x49435024) { regs[Reg.EAX] = (regs[Reg.EAX] & ~0xff) | 0x80; return; } // "$PCI"
      regs[Reg.EAX] &= ~0xff;
      regs[Reg.EBX] = PCI_BIOS_AREA;
      regs[Reg.ECX] = 0x10000;
      regs[Reg.EDX] = PCI_ENTRY - PCI_BIOS_AREA;
    } else if (next === PCI_ENTRY + 2) {
      this.call(cpu, setCarry, true);
    }
  }

  /** One PCI BIOS function, AX = B1xxh, registers as the specification lays them out. */
  private call(cpu: Cpu, setCarry: (on: boolean) => void, pm32: boolean): void {
    const r = cpu.regs;
    const ah = (r[Reg.EAX] >>> 8) & 0xff, al = r[Reg.EAX] & 0xff;
    const status = (s: number) => { r[Reg.EAX] = (r[Reg.EAX] & ~0xff00) | (s << 8); setCarry(s !== SUCCESSFUL); };
    if (ah !== 0xb1) { status(FUNC_NOT_SUPPORTED); return; }
    const bx = r[Reg.EBX] & 0xffff, bus = bx >>> 8, devfn = bx & 0xff;
    const reg = r[Reg.EDI] & 0xffff;
    const configAccess = (size: 1 | 2 | 4): boolean => {
      if (reg > 0xff || (reg & (size - 1))) { status(BAD_REGISTER_NUMBER); return false; }
      return true;
    };
    switch (al) {
      case 0x01:
        r[Reg.EDX] = 0x20494350; // "PCI "
        r[Reg.EAX] = (r[Reg.EAX] & ~0xffff) | 0x0001; // configuration mechanism #1
        r[Reg.EBX] = (r[Reg.EBX] & ~0xffff) | 0x0210; // version 2.10
        r[Reg.ECX] = r[Reg.ECX] & ~0xff;              // last bus 0
        setCarry(false);
        return;
      case 0x02: {
        const vendor = r[Reg.EDX] & 0xffff, device = r[Reg.ECX] & 0xffff;
        if (vendor === 0xffff) { status(BAD_VENDOR_ID); return; }
        return this.found(this.functions().filter((f) => f.vendor === vendor && f.device === device), r, status);
      }
      case 0x03: {
        const cls = r[Reg.ECX] & 0xffffff;
        return this.found(this.functions().filter((f) => f.classCode === cls), r, status);
      }
      case 0x08: if (configAccess(1)) { r[Reg.ECX] = (r[Reg.ECX] & ~0xff) | this.pci.configRead(bus, devfn, reg, 1); status(SUCCESSFUL); } return;
      case 0x09: if (configAccess(2)) { r[Reg.ECX] = (r[Reg.ECX] & ~0xffff) | this.pci.configRead(bus, devfn, reg, 2); status(SUCCESSFUL); } return;
      case 0x0a: if (configAccess(4)) { r[Reg.ECX] = this.pci.configRead(bus, devfn, reg, 4) | 0; status(SUCCESSFUL); } return;
      case 0x0b: if (configAccess(1)) { this.pci.configWrite(bus, devfn, reg, r[Reg.ECX] & 0xff, 1); status(SUCCESSFUL); } return;
      case 0x0c: if (configAccess(2)) { this.pci.configWrite(bus, devfn, reg, r[Reg.ECX] & 0xffff, 2); status(SUCCESSFUL); } return;
      case 0x0d: if (configAccess(4)) { this.pci.configWrite(bus, devfn, reg, r[Reg.ECX] >>> 0, 4); status(SUCCESSFUL); } return;
      case 0x0e: return this.routingOptions(cpu, status, pm32);
      case 0x0f: return this.setIrq(r, status);
      default: status(FUNC_NOT_SUPPORTED);
    }
  }

  private found(matches: PciFunction[], r: Int32Array, status: (s: number) => void): void {
    const f = matches[r[Reg.ESI] & 0xffff];
    if (!f) { status(DEVICE_NOT_FOUND); return; }
    r[Reg.EBX] = (r[Reg.EBX] & ~0xffff) | f.devfn; // bus 0 in BH
    status(SUCCESSFUL);
  }

  /**
   * 0Eh: copy the routing table's slot entries to the caller's buffer. ES:(E)DI points to
   * { u16 size; buffer pointer } where the pointer is offset16:segment16 in real mode and
   * offset32:selector16 in 32-bit mode (the selector taken to be the caller's DS).
   */
  private routingOptions(cpu: Cpu, status: (s: number) => void, pm32: boolean): void {
    const r = cpu.regs;
    const req = (cpu.segBase[Seg.ES] + (pm32 ? r[Reg.EDI] : r[Reg.EDI] & 0xffff)) >>> 0;
    const entries = this.pirTable().subarray(32);
    const size = cpu.readLin16(req);
    cpu.writeLin16(req, entries.length);
    if (size < entries.length) { status(BUFFER_TOO_SMALL); return; }
    let dest: number;
    if (pm32) dest = (cpu.segBase[Seg.DS] + cpu.readLin32(req + 2)) >>> 0;
    else dest = ((cpu.readLin16(req + 4) << 4) + cpu.readLin16(req + 2)) >>> 0;
    for (let i = 0; i < entries.length; i++) cpu.writeLin8((dest + i) | 0, entries[i]);
    r[Reg.EBX] = r[Reg.EBX] & ~0xffff; // no IRQ is reserved for PCI alone
    status(SUCCESSFUL);
  }

  /** 0Fh: route the PIRQ that pin CL (0Ah-0Dh) of device BH:BL uses to IRQ CH. */
  private setIrq(r: Int32Array, status: (s: number) => void): void {
    const pin = (r[Reg.ECX] & 0xff) - 0x0a, irq = (r[Reg.ECX] >>> 8) & 0xff, devfn = r[Reg.EBX] & 0xff;
    const router = this.router;
    if (pin < 0 || pin > 3 || irq > 15 || !((ROUTABLE_IRQS >>> irq) & 1) || router < 0) { status(SET_FAILED); return; }
    this.write8(router, 0x60 + pirqForPin(devfn >>> 3, pin), irq);
    this.setLevelTriggered(irq);
    status(SUCCESSFUL);
  }
}

function align(v: number, a: number): number { return Math.ceil(v / a) * a; }
