// Intel 82443BX host bridge, PCI 00:00.0 (8086:7190), after the 440BX AGPset datasheet
// (order 290633), section 3.3: the registers a BIOS and an OS look at.
//
// - PAM0-PAM6 (0x59-0x5F) decide for each piece of 0xC0000-0xFFFFF whether reads and writes
//   go to DRAM (shadow) or to the PCI/ISA ROMs. The machine keeps a ROM's bytes where its
//   shadow copy would be, so "write enable" makes those bytes writable and "read enable" is
//   recorded only: shadowing a ROM and then reading it returns the same bytes either way.
// - DRB0-DRB7 (0x60-0x67): cumulative DRAM row boundaries in 8 MiB units, preset from the RAM
//   size as the BIOS would program them after sizing the memory.

import type { MemoryBus } from '../../bus/memory.ts';
import { PciDevice, overlaps } from './pci-device.ts';
import type { PciBus } from './pci-bus.ts';

const PAM0 = 0x59;
const DRB0 = 0x60;

export class I440bx extends PciDevice {
  readonly stateDesc = this.pciState('i440bx', 1, {}, () => this.applyPam());

  constructor(bus: PciBus, private readonly mem: MemoryBus) {
    super(bus, 0x00, { vendorId: 0x8086, deviceId: 0x7190, classCode: 0x060000, revision: 0x03 });
    // Power-on values (datasheet 3.3): status has fast back-to-back and medium DEVSEL; the command
    // register decodes memory and may be a bus master.
    this.set16(0x06, 0x0210);
    this.set16(0x04, 0x0006);
    this.setWritable(0x50, 4, 0xffffffff); // NBXCFG
    this.config[0x50] = 0x0c; this.config[0x51] = 0x02; this.config[0x52] = 0x00; this.config[0x53] = 0xff;
    this.writeMask[0x57] = 0xff;          // DRAMC
    this.config[0x57] = 0x01;
    this.writeMask[0x58] = 0xff;          // DRAMT
    this.config[0x58] = 0x03;
    this.writeMask[PAM0] = 0x30;          // only the high nibble exists in PAM0
    for (let r = PAM0 + 1; r <= PAM0 + 6; r++) this.writeMask[r] = 0x33;
    for (let r = DRB0; r < DRB0 + 8; r++) this.writeMask[r] = 0xff;
    this.writeMask[0x72] = 0x78;          // SMRAM (D_OPEN, D_CLS, D_LCK, G_SMRAME); C_BASE_SEG fixed at 010b
    this.config[0x72] = 0x02;
    this.setDramRows();
  }

  override reset(): void {
    super.reset();
    this.set16(0x04, 0x0006);
    for (let r = PAM0; r <= PAM0 + 6; r++) this.config[r] = 0;
    this.setDramRows();
    this.applyPam();
  }

  /** RAM fills rows of at most 256 MiB each (the largest 440BX row); unused rows repeat the top. */
  private setDramRows(): void {
    let left = Math.floor(this.mem.ramSize / (8 << 20)), top = 0;
    for (let r = 0; r < 8; r++) {
      const row = Math.min(left, 32);
      left -= row;
      top = Math.min(top + row, 0xff);
      this.config[DRB0 + r] = top;
    }
  }

  protected override configWritten(offset: number, size: number): void {
    super.configWritten(offset, size);
    if (overlaps(offset, size, PAM0, 7)) this.applyPam();
  }

  /** Whether writes to `addr` (in 0xC0000-0xFFFFF) reach the shadow copy. */
  shadowWritable(addr: number): boolean {
    return (this.pamField(addr) & 2) !== 0;
  }

  /** Whether reads of `addr` come from the shadow copy (RE bit). */
  shadowReadable(addr: number): boolean {
    return (this.pamField(addr) & 1) !== 0;
  }

  private pamField(addr: number): number {
    if (addr >= 0xf0000) return (this.config[PAM0] >>> 4) & 3;
    if (addr < 0xc0000) return 0;
    const i = (addr - 0xc0000) >>> 14; // 16 KiB pieces, two per register
    return (this.config[PAM0 + 1 + (i >>> 1)] >>> (4 * (i & 1))) & 3;
  }

  private applyPam(): void {
    this.mem.setRomWritable(0xf0000, 0x10000, this.shadowWritable(0xf0000));
    for (let a = 0xc0000; a < 0xf0000; a += 0x4000) this.mem.setRomWritable(a, 0x4000, this.shadowWritable(a));
  }
}
