// PIIX4 function 1, the IDE controller (8086:7111), after the 82371AB datasheet 4.2 and 5.7:
// both channels in compatibility mode (0x1F0-0x1F7/0x3F6 on IRQ 14, 0x170-0x177/0x376 on
// IRQ 15; programming interface 80h: bus-master capable, not switchable to native mode) and
// the bus-master registers in the 16-byte I/O space of BMIBA (BAR 4): primary at +0,
// secondary at +8.
//
// A channel's ports are decoded while PCI I/O space is enabled and its IDETIM "IDE decode
// enable" bit (bit 15 of 0x40 or 0x42) is set; the BIOS sets both, and Linux's ata_piix
// refuses a channel whose bit is clear. The timing registers are storage only.

import type { IrqSink } from '../../bus/interrupts.ts';
import { irqLine } from '../../bus/interrupts.ts';
import { CMD_IO, PciDevice, overlaps } from '../pci/pci-device.ts';
import type { PciBus } from '../pci/pci-bus.ts';
import { BusMaster } from './bus-master.ts';
import { IdeChannel } from './ide-channel.ts';
import type { IdeDevice } from './ide-device.ts';
import type { StateDesc } from '../../state/state.ts';

const IDETIM = 0x40;
const DECODE_ENABLE = 0x80; // in the high byte of IDETIM

export interface PiixIdeOptions {
  /** The PIC pair's inputs (IRQ 14 and 15). */
  irqs: IrqSink;
  /** Master and slave of the primary channel. */
  primary?: [IdeDevice | undefined, IdeDevice | undefined];
  /** Master and slave of the secondary channel. */
  secondary?: [IdeDevice | undefined, IdeDevice | undefined];
  /** PIIX4 slot (function 1 of it); 7 by default, as on the 440BX boards. */
  slot?: number;
}

export class PiixIde extends PciDevice {
  readonly channels: [IdeChannel, IdeChannel];
  readonly busMasters: [BusMaster, BusMaster];
  readonly stateDesc: StateDesc;

  constructor(bus: PciBus, options: PiixIdeOptions) {
    super(bus, ((options.slot ?? 7) << 3) | 1, { vendorId: 0x8086, deviceId: 0x7111, classCode: 0x010180, revision: 0x01 });
    this.set16(0x06, 0x0280);
    this.setWritable(IDETIM, 4, 0xf3fff3ff);  // IDETIM primary/secondary
    this.writeMask[0x44] = 0xff;              // SIDETIM
    this.writeMask[0x48] = 0x0f;              // UDMACTL
    this.setWritable(0x4a, 2, 0x3333);        // UDMATIM
    const mastering = () => this.busMasterEnabled;
    const io = bus.io;
    this.channels = [
      new IdeChannel({ io, commandBase: 0x1f0, controlPort: 0x3f6, irq: irqLine(options.irqs, 14), devices: options.primary ?? [undefined, undefined] }),
      new IdeChannel({ io, commandBase: 0x170, controlPort: 0x376, irq: irqLine(options.irqs, 15), devices: options.secondary ?? [undefined, undefined] }),
    ];
    this.busMasters = [
      new BusMaster(bus.mem, () => this.channels[0].busMasterStarted(), mastering),
      new BusMaster(bus.mem, () => this.channels[1].busMasterStarted(), mastering),
    ];
    this.channels[0].attachBusMaster(this.busMasters[0]);
    this.channels[1].attachBusMaster(this.busMasters[1]);
    this.stateDesc = this.pciState('piix-ide', 1, {
      primary: { struct: this.channels[0].stateDesc }, secondary: { struct: this.channels[1].stateDesc },
      bm0: { struct: BusMaster.state }, bm1: { struct: BusMaster.state },
    }, () => this.updateDecode());
    this.defineBar(4, {
      kind: 'io', size: 16, handlers: {
        read8: (off) => this.busMasters[off >>> 3].readReg(off & 7),
        write8: (off, v) => this.busMasters[off >>> 3].writeReg(off & 7, v),
      },
    });
  }

  get primary(): IdeChannel { return this.channels[0]; }
  get secondary(): IdeChannel { return this.channels[1]; }
  get bm0(): BusMaster { return this.busMasters[0]; }
  get bm1(): BusMaster { return this.busMasters[1]; }

  override reset(): void {
    super.reset();
    for (let o = IDETIM; o < 0x4c; o++) this.config[o] = 0;
    for (const bm of this.busMasters) bm.reset();
    for (const ch of this.channels) ch.reset();
    this.updateDecode();
  }

  protected override configWritten(offset: number, size: number): void {
    super.configWritten(offset, size);
    if (overlaps(offset, size, 0x04, 1) || overlaps(offset, size, IDETIM, 4)) this.updateDecode();
  }

  private updateDecode(): void {
    const io = (this.get16(0x04) & CMD_IO) !== 0;
    this.channels[0].setDecode(io && (this.config[IDETIM + 1] & DECODE_ENABLE) !== 0);
    this.channels[1].setDecode(io && (this.config[IDETIM + 3] & DECODE_ENABLE) !== 0);
  }
}
