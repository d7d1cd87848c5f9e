import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/bus/io.ts';
import { MemoryBus } from '../../src/bus/memory.ts';
import { PciBus, pirqForPin } from '../../src/devices/pci/pci-bus.ts';
import { PciDevice } from '../../src/devices/pci/pci-device.ts';
import { I440bx } from '../../src/devices/pci/i440bx.ts';
import { Piix4Isa } from '../../src/devices/pci/piix4-isa.ts';
import { Piix4Pm } from '../../src/devices/pci/piix4-pm.ts';
import { IrqRecorder, cfgRead, cfgWrite, cfgAddr } from '../ide/helpers.ts';

/** A small PCI function with a 32-byte I/O BAR and a 4 KiB memory BAR holding scratch registers. */
class ScratchDevice extends PciDevice {
  readonly regs = new Uint8Array(4096);
  readonly stateDesc = this.pciState('scratch', 1);
  constructor(bus: PciBus, devfn: number) {
    super(bus, devfn, { vendorId: 0x1234, deviceId: 0x5678, classCode: 0xff0000, interruptPin: 1 });
    this.defineBar(0, { kind: 'io', size: 32, handlers: { read8: (o) => this.regs[o], write8: (o, v) => { this.regs[o] = v; } } });
    this.defineBar(1, { kind: 'mem', size: 4096, handler: { read8: (o) => this.regs[o], write8: (o, v) => { this.regs[o] = v; } } });
  }
}

function machine() {
  const io = new IoBus(), mem = new MemoryBus(16 << 20), pci = new PciBus(io, mem), irqs = new IrqRecorder();
  const host = new I440bx(pci, mem);
  const isa = new Piix4Isa(pci, { irqs });
  return { io, mem, pci, irqs, host, isa };
}

describe('PCI configuration mechanism #1', () => {
  it('reads identity registers at every width and byte lane', () => {
    const { io } = machine();
    expect(cfgRead(io, 0, 0, 4)).toBe(0x71908086);
    expect(cfgRead(io, 0, 0, 2)).toBe(0x8086);
    expect(cfgRead(io, 0, 2, 2)).toBe(0x7190);
    expect(cfgRead(io, 0, 1, 1)).toBe(0x80);
    expect(cfgRead(io, 0, 3, 1)).toBe(0x71);
    expect(cfgRead(io, 0x38, 0x08, 4) >>> 8).toBe(0x060100); // PIIX4 ISA bridge class
    expect(cfgRead(io, 0x38, 0x0e, 1)).toBe(0x80);            // multi-function
  });

  it('keeps CONFIG_ADDRESS as a 32-bit register with reserved bits zero', () => {
    const { io } = machine();
    io.write32(0xcf8, 0xffffffff);
    expect(io.read32(0xcf8) >>> 0).toBe(0x80fffffc);
    io.write32(0xcf8, 0x12345678);
    expect(io.read32(0xcf8) >>> 0).toBe(0x00345678);
  });

  it('answers all ones for absent functions, other buses and with translation disabled', () => {
    const { io } = machine();
    expect(cfgRead(io, 0x08, 0, 4)).toBe(0xffffffff);
    io.write32(0xcf8, 0x80010000); // bus 1
    expect(io.read32(0xcfc) >>> 0).toBe(0xffffffff);
    io.write32(0xcf8, 0x00000000); // enable bit clear
    expect(io.read32(0xcfc) >>> 0).toBe(0xffffffff);
    expect(io.read16(0xcfe)).toBe(0xffff);
  });

  it('writes only writable bits and clears write-one-to-clear status bits', () => {
    const { io, pci } = machine();
    const dev = new ScratchDevice(pci, 0x10);
    cfgWrite(io, 0x10, 0x00, 0xffffffff, 4); // ids are read-only
    expect(cfgRead(io, 0x10, 0, 4)).toBe(0x56781234);
    cfgWrite(io, 0x10, 0x3c, 0x0b, 1);
    expect(cfgRead(io, 0x10, 0x3c, 2)).toBe(0x010b); // line writable, pin read-only
    dev.config[0x07] = 0xf9; // pretend error bits were set
    cfgWrite(io, 0x10, 0x06, 0x0800, 2);
    expect(cfgRead(io, 0x10, 0x06, 2)).toBe(0xf100);
    cfgWrite(io, 0x10, 0x04, 0xffff, 2);
    expect(cfgRead(io, 0x10, 0x04, 2)).toBe(0x0547);
  });
});

describe('PCI BARs', () => {
  it('sizes I/O and memory BARs by writing all ones', () => {
    const { io, pci } = machine();
    new ScratchDevice(pci, 0x10);
    cfgWrite(io, 0x10, 0x10, 0xffffffff, 4);
    expect(cfgRead(io, 0x10, 0x10, 4)).toBe(0x0000ffe1); // 32 bytes of I/O, upper half hardwired
    cfgWrite(io, 0x10, 0x14, 0xffffffff, 4);
    expect(cfgRead(io, 0x10, 0x14, 4)).toBe(0xfffff000); // 4 KiB of memory, 32-bit, not prefetchable
    expect(cfgRead(io, 0x10, 0x18, 4)).toBe(0);          // no BAR 2
    cfgWrite(io, 0x10, 0x18, 0xffffffff, 4);
    expect(cfgRead(io, 0x10, 0x18, 4)).toBe(0);
  });

  it('decodes a BAR only with its command bit, and moving it remaps the handlers', () => {
    const { io, mem, pci } = machine();
    const dev = new ScratchDevice(pci, 0x10);
    dev.regs[3] = 0x42;
    cfgWrite(io, 0x10, 0x10, 0x1000, 4);
    cfgWrite(io, 0x10, 0x14, 0xfebf0000, 4);
    expect(io.read8(0x1003)).toBe(0xff);            // I/O decoding is off
    expect(mem.read8(0xfebf0003)).toBe(0xff);
    cfgWrite(io, 0x10, 0x04, 0x0001, 2);
    expect(io.read8(0x1003)).toBe(0x42);
    expect(mem.read8(0xfebf0003)).toBe(0xff);       // memory decoding still off
    cfgWrite(io, 0x10, 0x04, 0x0003, 2);
    expect(mem.read8(0xfebf0003)).toBe(0x42);
    mem.write8(0xfebf0010, 0x99);
    expect(dev.regs[0x10]).toBe(0x99);
    expect(dev.barAddress(0)).toBe(0x1000);
    cfgWrite(io, 0x10, 0x10, 0x2001, 4);            // move the I/O BAR
    expect(io.read8(0x1003)).toBe(0xff);
    expect(io.read8(0x2003)).toBe(0x42);
    io.write8(0x201f, 7);
    expect(dev.regs[0x1f]).toBe(7);
    expect(io.read8(0x2020)).toBe(0xff);            // just past the BAR
    cfgWrite(io, 0x10, 0x14, 0xfec00000, 4);        // move the memory BAR
    expect(mem.read8(0xfebf0003)).toBe(0xff);
    expect(mem.read8(0xfec00003)).toBe(0x42);
    cfgWrite(io, 0x10, 0x04, 0x0000, 2);
    expect(io.read8(0x2003)).toBe(0xff);
    expect(mem.read8(0xfec00003)).toBe(0xff);
  });

  it('byte and word writes of a BAR take effect at the right lanes', () => {
    const { io, pci } = machine();
    const dev = new ScratchDevice(pci, 0x10);
    cfgWrite(io, 0x10, 0x04, 0x0001, 2);
    cfgWrite(io, 0x10, 0x11, 0x34, 1);
    expect(dev.barAddress(0)).toBe(0x3400);
    cfgWrite(io, 0x10, 0x10, 0x5621, 2);
    expect(dev.barAddress(0)).toBe(0x5620);
    expect(cfgRead(io, 0x10, 0x10, 4)).toBe(0x5621);
  });
});

describe('PCI interrupts through the PIIX4 PIRQ router', () => {
  it('swizzles INTx by slot and routes each PIRQ to its ISA IRQ, sharing wired-OR', () => {
    const { io, pci, irqs } = machine();
    const a = new ScratchDevice(pci, 0x10); // slot 2, INTA -> PIRQ B
    const b = new ScratchDevice(pci, 0x18); // slot 3, INTA -> PIRQ C
    expect(pirqForPin(2, 0)).toBe(1);
    expect(pirqForPin(3, 0)).toBe(2);
    a.setIntx(true);
    expect(irqs.level.some((l) => l)).toBe(false); // routing disabled at reset (80h)
    cfgWrite(io, 0x38, 0x61, 0x0b, 1);             // PIRQB -> IRQ 11
    expect(irqs.level[11]).toBe(true);
    cfgWrite(io, 0x38, 0x62, 0x0b, 1);             // PIRQC -> IRQ 11 too
    b.setIntx(true);
    a.setIntx(false);
    expect(irqs.level[11]).toBe(true);             // b still holds the shared line
    b.setIntx(false);
    expect(irqs.level[11]).toBe(false);
    a.setIntx(true);
    cfgWrite(io, 0x38, 0x61, 0x0a, 1);             // reroute: 11 drops, 10 rises
    expect(irqs.level[11]).toBe(false);
    expect(irqs.level[10]).toBe(true);
    cfgWrite(io, 0x38, 0x61, 0x02, 1);             // IRQ 2 is not routable
    expect(irqs.level[10]).toBe(false);
    expect(irqs.level[2]).toBe(false);
  });

  it('interrupt disable in the command register masks INTx; status bit 3 shows it pending', () => {
    const { io, pci, irqs } = machine();
    const a = new ScratchDevice(pci, 0x10);
    cfgWrite(io, 0x38, 0x61, 0x0b, 1);
    cfgWrite(io, 0x10, 0x04, 0x0400, 2);
    a.setIntx(true);
    expect(irqs.level[11]).toBe(false);
    expect(cfgRead(io, 0x10, 0x06, 2) & 8).toBe(8);
    cfgWrite(io, 0x10, 0x04, 0x0000, 2);
    expect(irqs.level[11]).toBe(true);
  });

  it('0xCF9 resets the machine on a rising edge of bit 2', () => {
    const io = new IoBus(), mem = new MemoryBus(16 << 20), pci = new PciBus(io, mem);
    const resets: boolean[] = [];
    new Piix4Isa(pci, { irqs: new IrqRecorder(), onReset: (hard) => resets.push(hard) });
    io.write8(0xcf9, 0x02);
    io.write8(0xcf9, 0x06);
    expect(resets).toEqual([true]);
    expect(io.read8(0xcf9)).toBe(0x02);
    io.write32(0xcf8, cfgAddr(0, 0)); // a 32-bit access at 0xCF8 is not the reset register
    expect(resets).toEqual([true]);
  });
});

describe('440BX host bridge', () => {
  it('reports DRAM row boundaries for the RAM size', () => {
    const { io } = machine(); // 16 MiB
    expect(cfgRead(io, 0, 0x60, 1)).toBe(2);
    expect(cfgRead(io, 0, 0x67, 1)).toBe(2);
    const io2 = new IoBus(), mem2 = new MemoryBus(512 << 20), pci2 = new PciBus(io2, mem2);
    new I440bx(pci2, mem2);
    expect([0, 1, 2, 3].map((r) => cfgRead(io2, 0, 0x60 + r, 1))).toEqual([32, 64, 64, 64]);
  });

  it('PAM write-enable makes shadowed ROM writable and read-only again', () => {
    const { io, mem, host } = machine();
    const rom = new Uint8Array(0x20000).fill(0x5a);
    mem.mapRom(rom, 0xe0000);
    mem.write8(0xf0000, 1);
    expect(mem.read8(0xf0000)).toBe(0x5a);
    cfgWrite(io, 0, 0x59, 0x30, 1); // F segment read/write
    expect(host.shadowWritable(0xf1234)).toBe(true);
    mem.write8(0xf0000, 1);
    expect(mem.read8(0xf0000)).toBe(1);
    mem.write8(0xe4000, 2);
    expect(mem.read8(0xe4000)).toBe(0x5a);          // E4000 still protected
    cfgWrite(io, 0, 0x5e, 0x20, 1);                 // PAM5 high nibble: E4000-E7FFF writable
    mem.write8(0xe4000, 2);
    expect(mem.read8(0xe4000)).toBe(2);
    mem.write8(0xe0000, 2);
    expect(mem.read8(0xe0000)).toBe(0x5a);
    cfgWrite(io, 0, 0x59, 0x10, 1);                 // F segment read-only
    mem.write8(0xf0000, 3);
    expect(mem.read8(0xf0000)).toBe(1);
    expect(cfgRead(io, 0, 0x59, 1)).toBe(0x10);
    cfgWrite(io, 0, 0x59, 0xff, 1);
    expect(cfgRead(io, 0, 0x59, 1)).toBe(0x30);     // reserved bits stay zero
  });
});

describe('PIIX4 power management', () => {
  function pmMachine() {
    const io = new IoBus(), mem = new MemoryBus(16 << 20), pci = new PciBus(io, mem);
    let now = 0, offs = 0;
    const sciLevels: boolean[] = [];
    const pm = new Piix4Pm(pci, {
      nowNs: () => now, onPowerOff: () => { offs++; },
      sci: { raise: () => sciLevels.push(true), lower: () => sciLevels.push(false) },
    });
    return { io, pm, setNow: (ns: number) => { now = ns; }, offs: () => offs, sciLevels };
  }

  it('maps the PM registers at PMBA only when PMREGMISC enables them', () => {
    const { io, pm } = pmMachine();
    expect(cfgRead(io, 0x3b, 0, 4)).toBe(0x71138086);
    cfgWrite(io, 0x3b, 0x40, 0xb001, 4);
    expect(cfgRead(io, 0x3b, 0x40, 4)).toBe(0xb001);
    expect(pm.pmBase).toBe(-1);
    expect(io.read16(0xb004)).toBe(0xffff);
    cfgWrite(io, 0x3b, 0x80, 1, 1);
    expect(pm.pmBase).toBe(0xb000);
    expect(io.read16(0xb004)).toBe(0);
  });

  it('counts the PM timer at 3.579545 MHz in 24 bits', () => {
    const { io, setNow } = pmMachine();
    cfgWrite(io, 0x3b, 0x40, 0xb001, 4);
    cfgWrite(io, 0x3b, 0x80, 1, 1);
    setNow(1e9);
    expect(io.read32(0xb008)).toBe(3579545);
    setNow(10e9);
    expect(io.read32(0xb008)).toBe(35795450 & 0xffffff);
  });

  it('powers off on SUS_EN with SUS_TYP 0 and raises SCI for the power button', () => {
    const { io, offs, pm, sciLevels } = pmMachine();
    cfgWrite(io, 0x3b, 0x40, 0xb001, 4);
    cfgWrite(io, 0x3b, 0x80, 1, 1);
    io.write16(0xb004, 0x0001);                 // SCI_EN
    io.write16(0xb002, 0x0100);                 // PWRBTN_EN
    pm.pressPowerButton();
    expect(sciLevels).toEqual([true]);
    expect(io.read16(0xb000) & 0x100).toBe(0x100);
    io.write16(0xb000, 0x0100);                 // write one to clear
    expect(sciLevels).toEqual([true, false]);
    io.write16(0xb004, 0x0001 | (5 << 10));     // SUS_TYP without SUS_EN: nothing
    expect(offs()).toBe(0);
    io.write16(0xb004, 0x2001);                 // SUS_EN, SUS_TYP 0: soft off
    expect(offs()).toBe(1);
    expect(io.read16(0xb004) & 0x2000).toBe(0); // SUS_EN is write-only
  });
});
