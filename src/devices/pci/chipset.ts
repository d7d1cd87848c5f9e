// The Virtual PC board's PCI side in one call: bus 0 with the 440BX host bridge at 00:00.0 and
// the PIIX4 at 00:07 (ISA bridge .0, IDE .1, power management .3), the IDE drives placed as
// Virtual PC places them (hard disks on the primary channel and the secondary slave, the
// CD-ROM as secondary master), and the list of saved-state sections.

import type { IoBus } from '../../bus/io.ts';
import type { MemoryBus } from '../../bus/memory.ts';
import { irqLine, type IrqSink } from '../../bus/interrupts.ts';
import type { BlockDevice } from '../../disk/block-device.ts';
import type { Stateful } from '../../state/state.ts';
import { AtaDisk } from '../ide/ata-disk.ts';
import { AtapiCdrom } from '../ide/atapi-cdrom.ts';
import { PiixIde } from '../ide/piix-ide.ts';
import { I440bx } from './i440bx.ts';
import { PciBus } from './pci-bus.ts';
import { Piix4Isa } from './piix4-isa.ts';
import { Piix4Pm } from './piix4-pm.ts';

export interface ChipsetOptions {
  io: IoBus;
  mem: MemoryBus;
  /** The PIC pair's inputs. */
  irqs: IrqSink;
  /** Virtual time in ns (the PM timer). */
  nowNs: () => number;
  /** Primary master, primary slave and secondary slave hard disks. */
  hda?: BlockDevice;
  hdb?: BlockDevice;
  hdd?: BlockDevice;
  /** A CD-ROM drive as secondary master: a disc, or null for an empty drive; absent: no drive. */
  cdrom?: BlockDevice | null;
  /** The guest wrote SUS_EN with soft-off (ACPI S5). */
  onPowerOff?: () => void;
  /** The guest reset the machine through port 0xCF9. */
  onReset?: (hard: boolean) => void;
  /** The guest ejected the CD through START STOP UNIT. */
  onEject?: () => void;
}

export class Chipset {
  readonly pci: PciBus;
  readonly host: I440bx;
  readonly isa: Piix4Isa;
  readonly ide: PiixIde;
  readonly pm: Piix4Pm;
  readonly cdrom: AtapiCdrom | undefined;

  constructor(o: ChipsetOptions) {
    this.pci = new PciBus(o.io, o.mem);
    this.host = new I440bx(this.pci, o.mem);
    this.isa = new Piix4Isa(this.pci, { irqs: o.irqs, onReset: o.onReset });
    const disk = (d: BlockDevice | undefined) => (d ? new AtaDisk(d) : undefined);
    this.cdrom = o.cdrom !== undefined ? new AtapiCdrom(o.cdrom ?? undefined, { onEject: o.onEject }) : undefined;
    this.ide = new PiixIde(this.pci, {
      irqs: o.irqs,
      primary: [disk(o.hda), disk(o.hdb)],
      secondary: [this.cdrom, disk(o.hdd)],
    });
    this.pm = new Piix4Pm(this.pci, { nowNs: o.nowNs, sci: irqLine(o.irqs, 9), onPowerOff: o.onPowerOff });
  }

  /** The saved-state sections, in a fixed order. */
  get statefuls(): Stateful[] { return [this.pci, this.host, this.isa, this.ide, this.pm]; }

  /** Hardware reset of every PCI function (the IDE drives included). */
  reset(): void { this.pci.reset(); }
}
