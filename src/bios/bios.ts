// soulvm's BIOS: the ROM image, POST, and the services behind the ROM's trap stubs.
//
// POST lays out what firmware leaves behind for a guest (IVT, BIOS data area, EBDA, CMOS
// configuration bytes, initialised PICs, PIT and video), then INT 19h boots the first
// bootable drive in the boot order (or hands over to a loader hook, for direct kernel boot).

import type { Cpu } from '../cpu/cpu.ts';
import { Reg, Seg } from '../cpu/cpu.ts';
import { defineState, type StateDesc } from '../state/state.ts';
import type { BlockDevice } from '../disk/block-device.ts';
import { buildRom, ENTRY, BIOS_SEGMENT, BIOS_DATE, BIOS_VERSION, ROM_BASE, ROM_SIZE, TRAP_PORT, type RomLayout, type Service } from './rom.ts';
import { BDA, Ctx, IF } from './context.ts';
import { Video } from './video.ts';
import { Disks, floppyDrive, hardDrive, type BiosDrive } from './disk.ts';
import { SystemServices, EBDA_SEGMENT, EBDA_KIB, CONVENTIONAL_KIB } from './system.ts';
import { Keyboard } from './keyboard.ts';
import type { CdromBoot } from './ata-bios.ts';
import { PM_BASE, SCI_IRQ, ROUTABLE_IRQS, type PciBios } from './pci-bios.ts';
import { acpiArea, buildAcpiTables } from './acpi.ts';
import { buildSmbios } from './smbios.ts';
import { publishTables, RSDP_ADDRESS, SMBIOS_ENTRY, SMBIOS_TABLE, SMBIOS_TABLE_END } from './tables.ts';
import { cpuid } from '../cpu/system.ts';

export type BootDevice = 'floppy' | 'hd' | 'cdrom';

export interface BiosOptions {
  /** Drives A: and B: (raw floppy images). */
  floppies?: (BlockDevice | null)[];
  /** Hard disks 80h, 81h, ... */
  hardDisks?: BlockDevice[];
  /** Order INT 19h tries (default floppy, hard disk, CD-ROM; absent drives are skipped). */
  bootOrder?: BootDevice[];
  /** The ATAPI CD-ROM: El Torito boot, and INT 13h for its drive number. */
  cdrom?: CdromBoot;
  /** The PCI BIOS: bus set-up in POST and INT 1Ah B1xxh. */
  pciBios?: PciBios;
  /** Virtual time in ns (INT 15h/86h waits); default: the CPU's instruction count as ns. */
  now?: () => number;
  /** The A20 gate (INT 15h/24xxh, block moves); default: the memory bus's gate directly. */
  setA20?: (on: boolean) => void;
  /** Replaces the disk bootstrap: called from INT 19h to set up and jump to a loaded kernel. */
  bootHook?: (c: Ctx) => void;
  /** Called when INT 18h finds nothing to boot. */
  onBootFailure?: (message: string) => void;
  /** SMBIOS: the system's UUID (16 bytes; default all zero, "not present") and serial number. */
  systemUuid?: Uint8Array;
  serialNumber?: string;
  /** SMBIOS: the processor's speed in MHz (default 1000). */
  cpuMhz?: number;
}

const TICKS_PER_DAY = 0x1800b0;
const COM_PORTS = [0x3f8, 0x2f8, 0x3e8, 0x2e8];

export class Bios {
  readonly rom: RomLayout;
  readonly video: Video;
  readonly disks: Disks;
  readonly keyboard = new Keyboard();
  readonly system: SystemServices;
  private readonly ctx: Ctx;
  private readonly bootOrder: BootDevice[];
  /** The reason the last bootstrap failed, when it did. */
  bootFailure: string | null = null;
  private serialDeadline = 0;
  /** What a service that waits (INT 14h receive, INT 15h/86h) keeps between its retries. */
  readonly stateDesc: StateDesc = defineState('bios', 1, { serialDeadline: 'f64', system: { struct: SystemServices.state } });

  constructor(readonly cpu: Cpu, readonly options: BiosOptions = {}) {
    this.rom = buildRom();
    this.ctx = new Ctx(cpu);
    this.video = new Video(cpu.mem, cpu.io);
    const floppies: (BiosDrive | null)[] = (options.floppies ?? []).slice(0, 2).map((d, i) => (d ? floppyDrive(d, `floppy ${'AB'[i]}:`) : null));
    this.disks = new Disks(floppies, (options.hardDisks ?? []).slice(0, 4).map(hardDrive));
    this.bootOrder = options.bootOrder ?? ['floppy', 'hd', 'cdrom'];
    const mem = cpu.mem;
    this.system = new SystemServices({
      ramSize: mem.ramSize,
      now: options.now ?? (() => cpu.instructionCount),
      setA20: options.setA20 ?? ((on) => mem.setA20(on)),
      a20: () => mem.a20Enabled,
    });
  }

  /** Map the ROM (below 1 MiB and below 4 GiB) and claim the trap port. */
  install(): void {
    this.cpu.mem.mapRom(this.rom.image, ROM_BASE, (0x100000000 - ROM_SIZE) >>> 0);
    this.cpu.io.map(TRAP_PORT, TRAP_PORT, { write8: () => this.trap() });
  }

  private trap(): void {
    const cpu = this.cpu;
    if (cpu.segBase[Seg.CS] !== BIOS_SEGMENT << 4 || cpu.protectedMode && !cpu.vm86) return;
    const site = this.rom.traps.get(cpu.eip & 0xffff);
    if (site) this.service(site.service, site.retry);
  }

  private service(s: Service, retry: boolean): void {
    const c = this.ctx;
    switch (s) {
      case 'post': this.post(c); return;
      case 'int08': this.timerTick(c); return;
      case 'int09': this.keyboard.int09(c); return;
      case 'int10': this.video.int10(c); return;
      case 'int11': c.ax = c.bda16(BDA.equipment); return;
      case 'int12': c.ax = c.bda16(BDA.memKiB); return;
      case 'int13':
        if (this.options.cdrom && c.dl === this.options.cdrom.drive) this.options.cdrom.int13(c);
        else this.disks.int13(c);
        return;
      case 'int40': this.disks.int13(c, true); return;
      case 'int14': this.serial(c, retry); return;
      case 'int15': this.system.int15(c, retry); return;
      case 'int16': this.keyboard.int16(c); return;
      case 'int17': c.ah = 0x01; return; // no printer: time-out
      case 'int18': this.noBootDevice(c); return;
      case 'int19': this.bootstrap(c); return;
      case 'int1a':
        if (c.ah === 0xb1 && this.options.pciBios) this.options.pciBios.int1a(c);
        else this.clock(c);
        return;
    }
  }

  // ---- POST -----------------------------------------------------------------------------

  private post(c: Ctx): void {
    const cpu = this.cpu, mem = cpu.mem, io = cpu.io;
    // A CPU reset with a CMOS shutdown code asks to resume at the BDA's 40:67 vector (286-style
    // return from protected mode, and how an AP or a warm restart can skip POST).
    const shutdown = this.cmos(0x0f);
    this.setCmos(0x0f, 0);
    if (shutdown === 0x05 || shutdown === 0x0a) {
      if (shutdown === 0x05) { io.write8(0x20, 0x20); io.write8(0xa0, 0x20); }
      c.jump(mem.read16(0x469), mem.read16(0x467));
      return;
    }

    for (let a = 0; a < 0x500; a += 4) mem.write32(a, 0);
    for (let a = EBDA_SEGMENT * 16; a < 0xa0000; a += 4) mem.write32(a, 0);

    // The interrupt vector table.
    const iret = (BIOS_SEGMENT << 16) | ENTRY.iret;
    for (let v = 0; v < 256; v++) mem.write32(v * 4, (v >= 0x60 && v < 0x68) ? 0 : iret);
    for (const [v, off] of this.rom.vectors) mem.write32(v * 4, (BIOS_SEGMENT << 16) | off);
    mem.write32(0x1d * 4, (BIOS_SEGMENT << 16) | ENTRY.videoParams);
    mem.write32(0x1e * 4, (BIOS_SEGMENT << 16) | ENTRY.diskParams);
    mem.write32(0x1f * 4, 0);
    mem.write32(0x43 * 4, (BIOS_SEGMENT << 16) | ENTRY.font8x8);

    // BIOS data area and EBDA.
    let comCount = 0;
    const comPorts: { base: number; irq: number }[] = [];
    for (const [i, port] of COM_PORTS.entries()) {
      io.write8(port + 7, 0x5a); // a 16550's scratch register reads back what was written
      if (io.read8(port + 7) === 0x5a) {
        c.setBda16(BDA.com + comCount * 2, port); c.setBda8(BDA.comTimeout + comCount, 1); comCount++;
        comPorts.push({ base: port, irq: i & 1 ? 3 : 4 });
      }
    }
    const floppyCount = this.disks.floppies.filter(Boolean).length;
    let equipment = 0x0020 /* 80x25 colour */ | (comCount << 9);
    if (floppyCount) equipment |= 0x0001 | ((floppyCount - 1) << 6);
    if (cpu.fpu) equipment |= 0x0002;
    c.setBda16(BDA.equipment, equipment);
    c.setBda16(BDA.memKiB, CONVENTIONAL_KIB);
    c.setBda16(BDA.ebdaSeg, EBDA_SEGMENT);
    mem.write8(EBDA_SEGMENT * 16, EBDA_KIB);
    c.setBda16(BDA.kbdHead, 0x1e); c.setBda16(BDA.kbdTail, 0x1e);
    c.setBda16(BDA.kbdBufStart, 0x1e); c.setBda16(BDA.kbdBufEnd, 0x3e);
    c.setBda8(BDA.kbdFlags3, 0x10); // 101/102-key keyboard
    c.setBda8(BDA.diskCount, this.disks.hardDisks.length);
    for (let i = 0; i < 3; i++) c.setBda8(BDA.lptTimeout + i, 0x14);
    // Fixed disk parameter tables for drives 80h and 81h (INT 41h / 46h) in the EBDA.
    this.disks.hardDisks.slice(0, 2).forEach((d, i) => {
      const off = 0x3d + i * 0x10, at = EBDA_SEGMENT * 16 + off;
      mem.write16(at, d.chs.cylinders); mem.write8(at + 2, d.chs.heads);
      mem.write16(at + 5, 0xffff); mem.write8(at + 8, d.chs.heads > 8 ? 0x08 : 0);
      mem.write16(at + 12, d.chs.cylinders); mem.write8(at + 14, d.chs.sectors);
      mem.write32((i ? 0x46 : 0x41) * 4, (EBDA_SEGMENT << 16) | off);
    });

    // The PICs: vectors 08h and 70h, cascade on IRQ 2; timer, keyboard, cascade, floppy, FPU, disks enabled.
    io.write8(0x20, 0x11); io.write8(0x21, 0x08); io.write8(0x21, 0x04); io.write8(0x21, 0x01);
    io.write8(0xa0, 0x11); io.write8(0xa1, 0x70); io.write8(0xa1, 0x02); io.write8(0xa1, 0x01);
    io.write8(0x21, 0xb8); io.write8(0xa1, 0x9f);
    // PIT channel 0: mode 3, divisor 65536 (18.2 Hz); channel 1: the DRAM refresh rate.
    io.write8(0x43, 0x36); io.write8(0x40, 0); io.write8(0x40, 0);
    io.write8(0x43, 0x54); io.write8(0x41, 18);

    // PCI: BARs, interrupt lines and PIRQ routing, then the $PIR table and the BIOS32 directory.
    this.options.pciBios?.post();
    this.publishFirmwareTables(comPorts);

    this.writeCmosConfig();
    this.video.setMode(3);
    c.setBda32(BDA.ticks, this.rtcTicks());

    // The bootstrap (INT 19h, next in the ROM) runs on a stack below the boot sector.
    cpu.setSegmentReal(Seg.SS, 0);
    cpu.regs[4] = 0x7c00;
    cpu.setSegmentReal(Seg.DS, 0x40);
    cpu.setSegmentReal(Seg.ES, 0);
  }

  /**
   * ACPI and SMBIOS, on a board with the PIIX4 (the PCI BIOS found its router and power
   * management function): the tables at the top of RAM and in the F segment, and ACPI mode
   * on from the start (SCI_EN; there is no SMI_CMD to switch it).
   */
  private publishFirmwareTables(comPorts: { base: number; irq: number }[]): void {
    const pciBios = this.options.pciBios;
    if (!pciBios) return;
    const fns = pciBios.functions();
    const pm = fns.find((f) => f.vendor === 0x8086 && f.device === 0x7113);
    if (!pm || pciBios.router < 0) return;
    const pmBase = pciBios.pci.configRead(0, pm.devfn, 0x40, 4) & 0xffc0;
    if (pmBase !== PM_BASE) return;
    const cpu = this.cpu, mem = cpu.mem, io = cpu.io;
    const ramSize = mem.ramSize;
    const acpi = buildAcpiTables({
      ramSize, pmBase, sciIrq: SCI_IRQ, isaBridge: pciBios.router, routing: pciBios.routes(fns),
      routableIrqs: ROUTABLE_IRQS, comPorts,
    });
    const area = acpiArea(ramSize);
    mem.writeBytes(area.base, acpi.data);
    mem.writeBytes(area.nvsBase, acpi.nvs);

    const saved = [cpu.regs[Reg.EAX], cpu.regs[Reg.EBX], cpu.regs[Reg.ECX], cpu.regs[Reg.EDX]];
    cpu.regs[Reg.EAX] = 1;
    cpuid(cpu);
    const signature = cpu.regs[Reg.EAX] >>> 0, features = cpu.regs[Reg.EDX] >>> 0;
    [cpu.regs[Reg.EAX], cpu.regs[Reg.EBX], cpu.regs[Reg.ECX], cpu.regs[Reg.EDX]] = saved;
    const [mm, dd, yy] = BIOS_DATE.split('/');
    const smbios = buildSmbios({
      biosVendor: 'soulvm', biosVersion: `soulvm ${BIOS_VERSION}`, biosDate: `${mm}/${dd}/20${yy}`, ramSize,
      cpuSignature: signature, cpuFeatures: features, cpuMhz: this.options.cpuMhz ?? 1000,
      uuid: this.options.systemUuid ?? new Uint8Array(16), serialNumber: this.options.serialNumber ?? 'None',
    }, SMBIOS_TABLE);
    if (SMBIOS_TABLE + smbios.table.length > SMBIOS_TABLE_END) throw new RangeError('SMBIOS table does not fit the F segment');
    publishTables(pciBios.pci, mem, [
      { at: RSDP_ADDRESS, bytes: acpi.rsdp },
      { at: SMBIOS_ENTRY, bytes: smbios.entry },
      { at: SMBIOS_TABLE, bytes: smbios.table },
    ]);
    io.write16(pmBase + 4, io.read16(pmBase + 4) | 1); // PMCNTRL.SCI_EN
    io.write8(0x4d1, io.read8(0x4d1) | (1 << (SCI_IRQ - 8))); // the SCI is level-triggered (ELCR)
  }

  private cmos(index: number): number { this.cpu.io.write8(0x70, index); return this.cpu.io.read8(0x71); }
  private setCmos(index: number, v: number): void { this.cpu.io.write8(0x70, index); this.cpu.io.write8(0x71, v); }

  /** The configuration bytes a BIOS setup keeps in CMOS: drives, equipment, memory sizes, checksum. */
  private writeCmosConfig(): void {
    const f = this.disks.floppies;
    this.setCmos(0x10, ((f[0]?.floppyType ?? 0) << 4) | (f[1]?.floppyType ?? 0));
    const hd = this.disks.hardDisks;
    this.setCmos(0x12, (hd[0] ? 0xf0 : 0) | (hd[1] ? 0x0f : 0));
    this.setCmos(0x19, hd[0] ? 47 : 0); this.setCmos(0x1a, hd[1] ? 47 : 0); // type 47: user-defined
    const floppyCount = f.filter(Boolean).length;
    this.setCmos(0x14, (floppyCount ? ((floppyCount - 1) << 6) | 1 : 0) | (this.cpu.fpu ? 0x02 : 0)); // display bits 00: VGA
    const ext = Math.min((this.cpu.mem.ramSize - 0x100000) >>> 10, 0xffff);
    this.setCmos(0x15, 640 & 0xff); this.setCmos(0x16, 640 >> 8);
    this.setCmos(0x17, ext & 0xff); this.setCmos(0x18, ext >> 8);
    this.setCmos(0x30, ext & 0xff); this.setCmos(0x31, ext >> 8);
    const above16 = Math.max(0, this.cpu.mem.ramSize - 0x1000000) >>> 16;
    this.setCmos(0x34, above16 & 0xff); this.setCmos(0x35, (above16 >> 8) & 0xff);
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.cmos(i);
    this.setCmos(0x2e, (sum >> 8) & 0xff); this.setCmos(0x2f, sum & 0xff);
  }

  // ---- time -----------------------------------------------------------------------------

  private bcd(v: number): number { return (this.cmos(0x0b) & 0x04) ? v : (v >> 4) * 10 + (v & 0x0f); }
  private toCmos(v: number): number { return (this.cmos(0x0b) & 0x04) ? v : ((Math.floor(v / 10) << 4) | (v % 10)); }
  private fromBcdReg(index: number): number { return this.bcd(this.cmos(index)); }

  /** Ticks since midnight according to the RTC (18.2065 Hz: 1193182 / 65536). */
  private rtcTicks(): number {
    let hours = this.cmos(0x04);
    const pm = (hours & 0x80) !== 0 && !(this.cmos(0x0b) & 0x02);
    hours = this.bcd(hours & 0x7f) % 24 + (pm ? 12 : 0);
    const s = (hours * 60 + this.fromBcdReg(0x02)) * 60 + this.fromBcdReg(0x00);
    return Number.isFinite(s) && s >= 0 && s < 86400 ? Math.floor(s * 1193182 / 65536) : 0;
  }

  private timerTick(c: Ctx): void {
    let t = c.bda32(BDA.ticks) + 1;
    if (t >= TICKS_PER_DAY) { t = 0; c.setBda8(BDA.midnight, 1); }
    c.setBda32(BDA.ticks, t);
    const motor = c.bda8(BDA.floppyMotorCount);
    if (motor) { c.setBda8(BDA.floppyMotorCount, motor - 1); if (motor === 1) c.setBda8(BDA.floppyMotor, c.bda8(BDA.floppyMotor) & 0xf0); }
  }

  /** INT 1Ah: the tick count and the RTC's time, date and alarm (values in BCD). */
  private clock(c: Ctx): void {
    const toBcd = (i: number) => { const v = this.cmos(i); return (this.cmos(0x0b) & 0x04) ? ((Math.floor(v / 10) << 4) | (v % 10)) : v; };
    switch (c.ah) {
      case 0x00: { const t = c.bda32(BDA.ticks); c.cx = t >>> 16; c.dx = t & 0xffff; c.al = c.bda8(BDA.midnight); c.setBda8(BDA.midnight, 0); c.carry(false); return; }
      case 0x01: c.setBda32(BDA.ticks, (c.cx << 16) | c.dx); c.setBda8(BDA.midnight, 0); c.carry(false); return;
      case 0x02: c.ch = toBcd(0x04); c.cl = toBcd(0x02); c.dh = toBcd(0x00); c.dl = this.cmos(0x0b) & 1; c.carry(false); return;
      case 0x03: this.setRtc([[0x04, c.ch], [0x02, c.cl], [0x00, c.dh]]); c.carry(false); return;
      case 0x04: c.ch = toBcd(0x32); c.cl = toBcd(0x09); c.dh = toBcd(0x08); c.dl = toBcd(0x07); c.carry(false); return;
      case 0x05: this.setRtc([[0x32, c.ch], [0x09, c.cl], [0x08, c.dh], [0x07, c.dl]]); c.carry(false); return;
      case 0x06: // alarm at CH:CL:DH, with the alarm interrupt enabled
        if (this.cmos(0x0b) & 0x20) { c.carry(true); return; }
        this.setRtc([[0x05, c.ch], [0x03, c.cl], [0x01, c.dh]]);
        this.setCmos(0x0b, this.cmos(0x0b) | 0x20);
        c.carry(false); return;
      case 0x07: this.setCmos(0x0b, this.cmos(0x0b) & ~0x20); c.carry(false); return;
      default: c.status(0x86); return; // PCI BIOS (B1xxh) and others: not present
    }
  }

  /** Write BCD values to RTC registers with the update cycle held (status B SET bit). */
  private setRtc(values: [number, number][]): void {
    const b = this.cmos(0x0b);
    this.setCmos(0x0b, b | 0x80);
    for (const [i, bcdValue] of values) this.setCmos(i, this.toCmos((bcdValue >> 4) * 10 + (bcdValue & 0x0f)));
    this.setCmos(0x0b, b & 0x7f);
  }

  // ---- serial ports (INT 14h) -------------------------------------------------------------

  private serial(c: Ctx, retry: boolean): void {
    const io = this.cpu.io;
    const base = c.dx < 4 ? c.bda16(BDA.com + c.dx * 2) : 0;
    if (!base) { c.ah = 0x80; return; }
    const lsr = () => io.read8(base + 5);
    switch (c.ah) {
      case 0x00: { // initialise: AL = baud (bits 7-5), parity, stop bits, word length
        const divisors = [1047, 768, 384, 192, 96, 48, 24, 12];
        io.write8(base + 3, 0x80);
        const d = divisors[c.al >> 5];
        io.write8(base, d & 0xff); io.write8(base + 1, d >> 8);
        io.write8(base + 3, c.al & 0x1f);
        io.write8(base + 1, 0);
        c.ah = lsr(); c.al = io.read8(base + 6);
        return;
      }
      case 0x01: // send AL
        if (lsr() & 0x20) { io.write8(base, c.al); c.ah = lsr(); }
        else c.ah = lsr() | 0x80;
        return;
      case 0x02: { // receive into AL, waiting up to the port's time-out (seconds in BDA 7Ch)
        const ticks = this.ctx.bda32(BDA.ticks);
        if (!retry) this.serialDeadline = ticks + Math.max(1, c.bda8(BDA.comTimeout + c.dx)) * 18;
        const s = lsr();
        if (s & 0x01) { c.al = io.read8(base); c.ah = s & 0x1e; return; }
        if (ticks < this.serialDeadline) { c.wait(); return; }
        c.ah = s | 0x80;
        return;
      }
      case 0x03: c.ah = lsr(); c.al = io.read8(base + 6); return;
      default: c.ah = 0x80;
    }
  }

  // ---- bootstrap --------------------------------------------------------------------------

  private bootstrap(c: Ctx): void {
    this.bootFailure = null;
    if (this.options.bootHook) { this.options.bootHook(c); return; }
    const reasons: string[] = [];
    for (const dev of this.bootOrder) {
      if (dev === 'cdrom') {
        const cd = this.options.cdrom;
        if (!cd) continue;
        const why = cd.boot(c);
        if (why) { reasons.push(`CD-ROM: ${why}`); continue; }
        c.cpu.setFlag(IF, true);
        return;
      }
      const dl = dev === 'floppy' ? 0x00 : 0x80;
      if (!this.disks.drive(dl)) continue;
      const why = this.disks.loadBootSector(c, dl);
      if (why) { reasons.push(`${dev === 'floppy' ? 'floppy A:' : 'hard disk 0'}: ${why}`); continue; }
      c.dl = dl;
      c.cpu.setSegmentReal(Seg.DS, 0); c.cpu.setSegmentReal(Seg.ES, 0);
      c.cpu.setFlag(IF, true);
      c.jump(0, 0x7c00);
      return;
    }
    this.bootFailure = reasons.length ? reasons.join('; ') : 'no boot drive';
  }

  /** What INT 18h reports: why nothing booted. */
  bootFailureMessage(): string { return `no bootable device (${this.bootFailure ?? 'INT 18h called'})`; }

  private noBootDevice(c: Ctx): void {
    const msg = `No bootable device: ${this.bootFailure ?? 'INT 18h called'}.`;
    for (const ch of msg + '\r\n') this.video.teletype(ch.charCodeAt(0));
    this.options.onBootFailure?.(msg);
    void c;
  }
}
