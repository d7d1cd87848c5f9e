import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/bus/io.ts';
import { MemoryBus } from '../../src/bus/memory.ts';
import { Cpu, Reg, Seg } from '../../src/cpu/cpu.ts';
import { Ctx, CF } from '../../src/bios/context.ts';
import { PicPair } from '../../src/devices/pic.ts';
import { PciBus } from '../../src/devices/pci/pci-bus.ts';
import { PciDevice } from '../../src/devices/pci/pci-device.ts';
import { I440bx } from '../../src/devices/pci/i440bx.ts';
import { Piix4Isa } from '../../src/devices/pci/piix4-isa.ts';
import { Piix4Pm } from '../../src/devices/pci/piix4-pm.ts';
import { PiixIde } from '../../src/devices/ide/piix-ide.ts';
import { PciBios, PCI_BIOS_AREA, BIOS32_TRAP_PORT } from '../../src/bios/pci-bios.ts';

class Nic extends PciDevice {
  readonly stateDesc = this.pciState('nic', 1);
  constructor(bus: PciBus, devfn: number) {
    super(bus, devfn, { vendorId: 0x1011, deviceId: 0x0009, classCode: 0x020000, interruptPin: 1 });
    this.defineBar(0, { kind: 'io', size: 128, handlers: {} });
    this.defineBar(1, { kind: 'mem', size: 128, handler: { read8: () => 0x5a, write8: () => {} } });
  }
}

function machine() {
  const io = new IoBus(), mem = new MemoryBus(32 << 20), pci = new PciBus(io, mem);
  const pic = new PicPair(io);
  const rom = new Uint8Array(0x20000);
  rom[0x1fff0] = 0xea; rom[0x1ffff] = 0x16; // some bytes, and a segment that sums to zero
  mem.mapRom(rom, 0xe0000);
  new I440bx(pci, mem);
  new Piix4Isa(pci, { irqs: pic });
  const ide = new PiixIde(pci, { irqs: pic });
  const pm = new Piix4Pm(pci, { nowNs: () => 0 });
  const nic = new Nic(pci, 0x10);  // slot 2
  const nic2 = new Nic(pci, 0x18); // slot 3
  const cpu = new Cpu(mem, io);
  const bios = new PciBios(pci, io, mem);
  bios.install(cpu);
  return { io, mem, pci, pic, ide, pm, nic, nic2, cpu, bios };
}

function fSegmentSum(mem: MemoryBus): number {
  let s = 0;
  for (let a = 0xf0000; a < 0x100000; a++) s += mem.read8(a);
  return s & 0xff;
}

describe('PCI BIOS POST', () => {
  it('places BARs aligned without overlap, enables decoding and sets interrupt lines from the PIRQ routing', () => {
    const { io, pci, ide, pm, nic, nic2, bios, mem } = machine();
    bios.post();
    expect(nic.barAddress(0)).toBe(0xc000);          // 128 bytes, largest I/O first
    expect(nic2.barAddress(0)).toBe(0xc080);
    expect(ide.barAddress(4)).toBe(0xc100);
    expect(nic.barAddress(1) >>> 0).toBe(0xe0000000);
    expect(nic2.barAddress(1) >>> 0).toBe(0xe0001000);
    expect(mem.read8(0xe0000005)).toBe(0x5a);
    expect(pm.pmBase).toBe(0xb000);
    expect(pci.configRead(0, 0x39, 0x40, 4)).toBe(0x80008000);
    expect(pci.configRead(0, 0x39, 0x04, 2) & 5).toBe(5);
    expect(pci.configRead(0, 0x10, 0x3c, 1)).toBe(10); // slot 2 INTA -> PIRQB -> IRQ 10
    expect(pci.configRead(0, 0x18, 0x3c, 1)).toBe(11); // slot 3 INTA -> PIRQC -> IRQ 11
    expect(pci.configRead(0, 0x3b, 0x3c, 1)).toBe(9);
    expect(io.read8(0x4d1) & 0x0c).toBe(0x0c);          // IRQ 10 and 11 level-triggered
    expect(io.read16(0x1f7)).not.toBe(undefined);
  });

  it('publishes $PIR and _32_ in the F segment with valid checksums, keeping the segment sum, read-only after', () => {
    const { mem, bios } = machine();
    expect(fSegmentSum(mem)).toBe(0);
    bios.post();
    expect(fSegmentSum(mem)).toBe(0);
    let pir = -1;
    for (let a = 0xf0000; a < 0x100000; a += 16) if (mem.read32(a) === 0x52495024) { pir = a; break; }
    expect(pir).toBeGreaterThan(0);
    const size = mem.read16(pir + 6);
    expect(size).toBe(32 + 16 * 4);                   // slots 0, 2, 3, 7
    let sum = 0;
    for (let i = 0; i < size; i++) sum += mem.read8(pir + i);
    expect(sum & 0xff).toBe(0);
    expect(mem.read8(pir + 9)).toBe(0x38);            // router: PIIX4 function 0
    expect(mem.read16(pir + 14)).toBe(0x7110);
    const slot2 = pir + 32 + 16;
    expect(mem.read8(slot2 + 1)).toBe(0x10);
    expect([mem.read8(slot2 + 2), mem.read8(slot2 + 5), mem.read8(slot2 + 8), mem.read8(slot2 + 11)]).toEqual([0x61, 0x62, 0x63, 0x60]);
    expect(mem.read32(PCI_BIOS_AREA)).toBe(0x5f32335f);  // "_32_"
    sum = 0;
    for (let i = 0; i < 16; i++) sum += mem.read8(PCI_BIOS_AREA + i);
    expect(sum & 0xff).toBe(0);
    mem.write8(pir, 0);
    expect(mem.read8(pir)).toBe(0x24);                 // write-protected again
  });
});

describe('PCI BIOS services', () => {
  function realMode() {
    const m = machine();
    m.bios.post();
    const { cpu, mem } = m;
    cpu.setSegmentReal(Seg.SS, 0);
    cpu.regs16[8] = 0x7000;
    mem.write16(0x7004, 0x0202);
    const c = new Ctx(cpu);
    const call = (ax: number, set: (c: Ctx) => void = () => {}) => {
      c.ax = ax; set(c);
      m.bios.int1a(c);
      return { ah: c.ah, cf: (mem.read16(0x7004) & CF) !== 0 };
    };
    return { ...m, c, call };
  }

  it('INT 1Ah B101h..B10Dh: presence, finding devices and classes, configuration access', () => {
    const { c, call, cpu } = realMode();
    expect(call(0xb101)).toEqual({ ah: 0, cf: false });
    expect(c.edx).toBe(0x20494350);
    expect([c.al, c.bx, c.cl]).toEqual([1, 0x0210, 0]);
    expect(call(0xb102, (c) => { c.cx = 0x7111; c.dx = 0x8086; c.si = 0; })).toEqual({ ah: 0, cf: false });
    expect(c.bx).toBe(0x0039);
    expect(call(0xb102, (c) => { c.cx = 0x0009; c.dx = 0x1011; c.si = 1; }).ah).toBe(0);
    expect(c.bx).toBe(0x0018);
    expect(call(0xb102, (c) => { c.cx = 0x0009; c.dx = 0x1011; c.si = 2; })).toEqual({ ah: 0x86, cf: true });
    expect(call(0xb102, (c) => { c.dx = 0xffff; }).ah).toBe(0x83);
    expect(call(0xb103, (c) => { c.ecx = 0x010180; c.si = 0; }).ah).toBe(0);
    expect(c.bx).toBe(0x0039);
    expect(call(0xb10a, (c) => { c.bx = 0x0000; c.di = 0; }).ah).toBe(0);
    expect(c.ecx).toBe(0x71908086);
    expect(call(0xb109, (c) => { c.bx = 0x0000; c.di = 1; })).toEqual({ ah: 0x87, cf: true });
    expect(call(0xb108, (c) => { c.bx = 0x0010; c.di = 0x3d; }).ah).toBe(0);
    expect(c.cl).toBe(1);
    call(0xb10b, (c) => { c.bx = 0x0010; c.di = 0x3c; c.cl = 0x0e; });
    expect(call(0xb108, (c) => { c.bx = 0x0010; c.di = 0x3c; }).ah).toBe(0);
    expect(c.cl).toBe(0x0e);
    expect(call(0xb10a, (c) => { c.bx = 0x0100; c.di = 0; }).ah).toBe(0); // bus 1: nothing there
    expect(c.ecx).toBe(0xffffffff);
    expect(call(0xb199).ah).toBe(0x81);
    void cpu;
  });

  it('INT 1Ah B10Eh returns the routing entries and B10Fh reroutes a PIRQ', () => {
    const { c, call, cpu, mem, pci } = realMode();
    cpu.setSegmentReal(Seg.ES, 0x0200); c.di = 0;
    mem.write16(0x2000, 10); mem.write16(0x2002, 0x100); mem.write16(0x2004, 0x0200);
    expect(call(0xb10e).ah).toBe(0x89);
    expect(mem.read16(0x2000)).toBe(64);
    mem.write16(0x2000, 64);
    expect(call(0xb10e).ah).toBe(0);
    expect(mem.read8(0x2100 + 16 + 1)).toBe(0x10);
    expect(call(0xb10f, (c) => { c.bx = 0x0010; c.cx = (5 << 8) | 0x0a; }).ah).toBe(0);
    expect(pci.configRead(0, 0x38, 0x61, 1)).toBe(5);
    expect(call(0xb10f, (c) => { c.bx = 0x0010; c.cx = (2 << 8) | 0x0a; }).ah).toBe(0x88);
  });

  it('the BIOS32 directory finds $PCI, whose 32-bit entry answers like INT 1Ah', () => {
    const { cpu, io, mem, bios } = machine();
    bios.post();
    const entry = mem.read32(PCI_BIOS_AREA + 4);
    expect([mem.read8(entry), mem.read8(entry + 1), mem.read8(entry + 2)]).toEqual([0xe6, BIOS32_TRAP_PORT, 0xcb]);
    // The CPU executes `out E6h, al` at the entry: the handler sees EIP just past it.
    const callAt = (addr: number) => { cpu.segBase[Seg.CS] = 0; cpu.eip = addr + 2; io.write8(BIOS32_TRAP_PORT, 0); };
    cpu.regs[Reg.EAX] = 0x49435024; cpu.regs[Reg.EBX] = 0;
    callAt(entry);
    expect(cpu.regs[Reg.EAX] & 0xff).toBe(0);
    const base = cpu.regs[Reg.EBX] >>> 0, pciEntry = base + cpu.regs[Reg.EDX];
    cpu.regs[Reg.EAX] = 0x12345678; cpu.regs[Reg.EBX] = 0;
    callAt(entry);
    expect(cpu.regs[Reg.EAX] & 0xff).toBe(0x80);      // unknown service
    cpu.regs[Reg.EAX] = 0xb101;
    callAt(pciEntry);
    expect(cpu.regs[Reg.EDX] >>> 0).toBe(0x20494350);
    expect(cpu.regs[Reg.EAX] & 0xffff).toBe(0x0001);
    cpu.regs[Reg.EAX] = 0xb10a; cpu.regs[Reg.EBX] = 0x0039; cpu.regs[Reg.EDI] = 0;
    callAt(pciEntry);
    expect(cpu.regs[Reg.ECX] >>> 0).toBe(0x71118086);
    cpu.regs[Reg.EAX] = 0xb101; cpu.regs[Reg.EDX] = 0;
    cpu.eip = 0x1234; io.write8(BIOS32_TRAP_PORT, 0);   // from anywhere else: ignored
    expect(cpu.regs[Reg.EDX]).toBe(0);
  });
});

describe('PCI BIOS from 32-bit protected mode on the CPU', () => {
  it('a paged kernel calls the BIOS32 directory and $PCI through PAGE_OFFSET mappings, as Linux does', () => {
    const { cpu, mem, bios } = machine();
    bios.post();
    const put = (at: number, bytes: number[]) => bytes.forEach((b, i) => mem.write8(at + i, b));
    // GDT: null, flat 32-bit code (08h), flat data (10h); GDTR image at 7F0h.
    put(0x800, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x92, 0xcf, 0]);
    put(0x7f0, [23, 0, 0x00, 0x08, 0, 0]);
    // Page tables: the first 4 MiB both at 0 and at C0000000h (PAGE_OFFSET).
    for (let i = 0; i < 1024; i++) mem.write32(0x11000 + i * 4, (i << 12) | 3);
    mem.write32(0x10000, 0x11003);
    mem.write32(0x10000 + 768 * 4, 0x11003);
    // Real mode: lgdt, cr3, PE|PG, far jump to 08:1100.
    put(0x1000, [0x0f, 0x01, 0x16, 0xf0, 0x07, 0x66, 0xb8, 0x00, 0x00, 0x01, 0x00, 0x0f, 0x22, 0xd8,
      0x0f, 0x20, 0xc0, 0x66, 0x0d, 0x01, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0xea, 0x00, 0x11, 0x08, 0x00]);
    put(0x1100, [
      0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, // ds = es = ss = 10h
      0xbc, 0x00, 0x90, 0x00, 0x00,                               // mov esp, 9000h
      0xb8, 0x24, 0x50, 0x43, 0x49, 0x31, 0xdb,                   // eax = "$PCI", ebx = 0
      0xff, 0x1d, 0x00, 0x12, 0x00, 0x00,                         // call far [1200h]: the directory
      0xa3, 0x00, 0x13, 0x00, 0x00,                               // results at 1300h: eax, ebx, edx
      0x89, 0x1d, 0x04, 0x13, 0x00, 0x00, 0x89, 0x15, 0x08, 0x13, 0x00, 0x00,
      0x89, 0xd8, 0x01, 0xd0, 0x05, 0x00, 0x00, 0x00, 0xc0,       // eax = PAGE_OFFSET + base + offset
      0xa3, 0x10, 0x12, 0x00, 0x00, 0x66, 0xc7, 0x05, 0x14, 0x12, 0x00, 0x00, 0x08, 0x00,
      0xb8, 0x01, 0xb1, 0x00, 0x00,                               // eax = B101h
      0xff, 0x1d, 0x10, 0x12, 0x00, 0x00,                         // call far [1210h]: $PCI
      0x89, 0x15, 0x0c, 0x13, 0x00, 0x00,                         // edx -> 130Ch
      0x9c, 0x58, 0xa3, 0x10, 0x13, 0x00, 0x00,                   // eflags -> 1310h
      0x89, 0x1d, 0x14, 0x13, 0x00, 0x00,                         // ebx -> 1314h
      0xf4,
    ]);
    mem.write32(0x1200, (0xc0000000 + mem.read32(PCI_BIOS_AREA + 4)) >>> 0);
    mem.write16(0x1204, 0x08);
    cpu.setSegmentReal(Seg.CS, 0);
    cpu.eip = 0x1000;
    cpu.run(1000);
    expect(cpu.halted).toBe(true);
    expect(mem.read32(0x1300) & 0xff).toBe(0);              // service found
    expect(mem.read32(0x1304)).toBe(PCI_BIOS_AREA);
    expect(mem.read32(0x130c)).toBe(0x20494350);            // "PCI "
    expect(mem.read32(0x1310) & 1).toBe(0);                 // CF clear
    expect(mem.read32(0x1314) & 0xffff).toBe(0x0210);
  });
});

describe('the assembled chipset', () => {
  it('boots up as the BIOS leaves it: disks answer on their channels, the CD on the secondary master', async () => {
    const { Chipset } = await import('../../src/devices/pci/chipset.ts');
    const { MemoryDisk, AtaPorts } = await import('../ide/helpers.ts');
    const { saveAll, loadAll } = await import('../../src/state/state.ts');
    const io = new IoBus(), mem = new MemoryBus(32 << 20), pic = new PicPair(io);
    mem.mapRom(new Uint8Array(0x20000), 0xe0000);
    let offs = 0;
    const hda = new MemoryDisk(1000).fillPattern();
    const chipset = new Chipset({ io, mem, irqs: pic, nowNs: () => 0, hda, cdrom: null, onPowerOff: () => { offs++; } });
    new PciBios(chipset.pci, io, mem).post();
    const primary = new AtaPorts(io), secondary = new AtaPorts(io, 0x170, 0x376);
    primary.lba28(0, 3, 1);
    primary.command(0x20);
    primary.status();
    expect(primary.readBytes(512)[0]).toBe(hda.bytes[3 * 512]);
    secondary.select(0);
    expect([secondary.reg(4), secondary.reg(5)]).toEqual([0x14, 0xeb]);
    expect(chipset.cdrom?.hasMedia).toBe(false);
    primary.set(2, 8); primary.command(0xc6);   // multiple mode, forgotten by a hardware reset
    const blob = saveAll(chipset.statefuls);
    chipset.reset();
    expect(io.read8(0x1f7)).toBe(0xff);         // decoding off until the BIOS runs again
    loadAll(chipset.statefuls, blob);
    primary.command(0xec); primary.status();
    expect(primary.readWords(256)[59]).toBe(0x108);
    chipset.reset();
    new PciBios(chipset.pci, io, mem).post();
    primary.command(0xec); primary.status();
    expect(primary.readWords(256)[59]).toBe(0);
    io.write16(0xb004, 0x2000);
    expect(offs).toBe(1);
  });
});
