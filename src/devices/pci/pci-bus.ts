// PCI bus 0 and configuration mechanism #1 (PCI Local Bus Specification 2.2, 3.2.2.3.2).
//
// CONFIG_ADDRESS at 0xCF8 is a 32-bit-only register: bit 31 enables translation, bits 23:16
// bus, 15:11 device, 10:8 function, 7:2 dword register. CONFIG_DATA at 0xCFC-0xCFF accesses
// that dword; a byte or word access at 0xCFC+n reaches byte lane n. Byte and word accesses to
// 0xCF8-0xCFB are not configuration cycles (0xCF9 is the PIIX reset control register).
// A configuration read of a function that is not there ends in master abort: all ones.
//
// Interrupts: each function's INTx pin is swizzled onto the four PIRQ lines by slot, the way
// the 440BX board wires them (PIRQ = (pin + slot - 1) mod 4), and the PIRQ router (the PIIX4
// ISA bridge) decides which ISA IRQ each PIRQ drives.

import type { IoBus } from '../../bus/io.ts';
import type { MemoryBus } from '../../bus/memory.ts';
import type { PciDevice } from './pci-device.ts';
import { defineState, type StateDesc } from '../../state/state.ts';

/** Where the four PIRQ lines go; the PIIX4 ISA bridge implements it. */
export interface PirqRouter {
  setPirq(pirq: number, level: boolean): void;
}

/** Which PIRQ line (0-3 for A-D) carries INTx pin `pin` (0-3 for A-D) of slot `slot`. */
export function pirqForPin(slot: number, pin: number): number {
  return (pin + slot - 1) & 3;
}

export class PciBus {
  private readonly functions: (PciDevice | undefined)[] = new Array(256);
  private configAddress = 0;
  /** How many asserted INTx pins drive each PIRQ line (PCI interrupts are wired-OR). */
  private readonly pirqCount = new Int32Array(4);
  /** Which (devfn, pin) pairs are asserted now (index devfn * 4 + pin), so a repeated level changes nothing. */
  private readonly asserted = new Uint8Array(256 * 4);
  private router: PirqRouter | undefined;

  readonly stateDesc: StateDesc = defineState('pci-bus', 1, { configAddress: 'u32' });

  constructor(readonly io: IoBus, readonly mem: MemoryBus) {
    io.map(0xcf8, 0xcf8, {
      read32: () => this.configAddress,
      write32: (_p, v) => { this.configAddress = v & 0x80fffffc; },
    });
    io.map(0xcfc, 0xcff, {
      read8: (p) => this.readData(p & 3, 1),
      write8: (p, v) => this.writeData(p & 3, v, 1),
      read16: (p) => (p & 3) === 3 ? this.readData(3, 1) | (this.readData(0, 1) << 8) : this.readData(p & 3, 2),
      write16: (p, v) => {
        if ((p & 3) === 3) { this.writeData(3, v & 0xff, 1); return; } // the upper byte falls off the dword
        this.writeData(p & 3, v, 2);
      },
    });
    io.map(0xcfc, 0xcfc, {
      read32: () => this.readData(0, 4),
      write32: (_p, v) => this.writeData(0, v, 4),
    });
  }

  /** Called by PciDevice's constructor. */
  add(dev: PciDevice): void {
    if (this.functions[dev.devfn]) throw new Error(`PCI function ${dev.slot}.${dev.fn} is already taken`);
    this.functions[dev.devfn] = dev;
  }

  setPirqRouter(router: PirqRouter): void { this.router = router; }

  /** The function at devfn (slot << 3 | function) on bus 0. */
  device(devfn: number): PciDevice | undefined { return this.functions[devfn]; }

  /** Every function, in devfn order. */
  devices(): PciDevice[] { return this.functions.filter((d): d is PciDevice => d !== undefined); }

  reset(): void {
    this.configAddress = 0;
    for (const d of this.devices()) d.reset();
  }

  /** A configuration read as the CPU would see it (also used by the PCI BIOS). */
  configRead(bus: number, devfn: number, offset: number, size: 1 | 2 | 4): number {
    const dev = bus === 0 ? this.functions[devfn] : undefined;
    if (!dev) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    return dev.readConfig(offset, size);
  }

  configWrite(bus: number, devfn: number, offset: number, value: number, size: 1 | 2 | 4): void {
    const dev = bus === 0 ? this.functions[devfn] : undefined;
    if (dev) dev.writeConfig(offset, value, size);
  }

  private readData(lane: number, size: 1 | 2 | 4): number {
    const a = this.configAddress;
    if (!(a & 0x80000000)) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    return this.configRead((a >>> 16) & 0xff, (a >>> 8) & 0xff, (a & 0xfc) + lane, size);
  }

  private writeData(lane: number, value: number, size: 1 | 2 | 4): void {
    const a = this.configAddress;
    if (!(a & 0x80000000)) return;
    this.configWrite((a >>> 16) & 0xff, (a >>> 8) & 0xff, (a & 0xfc) + lane, value, size);
  }

  /** A function's INTx pin changed level (PciDevice.setIntx calls this). */
  driveIntx(dev: PciDevice, pin: number, level: boolean): void {
    const key = dev.devfn * 4 + pin;
    if (level === (this.asserted[key] === 1)) return;
    this.asserted[key] = level ? 1 : 0;
    const pirq = pirqForPin(dev.slot, pin);
    const before = this.pirqCount[pirq] > 0;
    this.pirqCount[pirq] += level ? 1 : -1;
    const after = this.pirqCount[pirq] > 0;
    if (before !== after) this.router?.setPirq(pirq, after);
  }

  /** Whether PIRQ line `pirq` is asserted now. */
  pirqLevel(pirq: number): boolean { return this.pirqCount[pirq] > 0; }
}
