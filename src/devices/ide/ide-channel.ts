// One IDE channel: the command block (8 ports) and control block (1 port) registers, two
// device positions, the device control register (nIEN, SRST, HOB) and the INTRQ line.
//
// ATA/ATAPI-6 chapter 6 and 9.2: writes to the command block reach both devices; the DEV bit
// of the device register selects which one answers reads and takes commands. When device 1 is
// absent, device 0 answers for it with a status of 00h; a channel with no device at all
// floats and reads as FFh. Reading the status register (not the alternate status) and
// writing the command register clear the device's interrupt; nIEN masks INTRQ to the host.

import type { IoBus } from '../../bus/io.ts';
import type { IrqLine } from '../../bus/interrupts.ts';
import type { BusMaster } from './bus-master.ts';
import { DEV_SELECT, IdeDevice, Pio, ST_BSY } from './ide-device.ts';
import { defineState, type StateDesc } from '../../state/state.ts';

const CTL_NIEN = 0x02;
const CTL_SRST = 0x04;
const CTL_HOB = 0x80;

/** An empty device position: keeps the register copies a real channel latches, answers nothing. */
class NoDevice extends IdeDevice {
  readonly isAtapi = false;
  readonly stateDesc = defineState('ide-none', 1, this.baseState());
  constructor() { super(2); }
  command(): void {}
  protected pioDone(): void {}
  runDma(): void {}
  override diagnose(): void { super.diagnose(); this.status = 0; }
}

export interface IdeChannelOptions {
  io: IoBus;
  /** First command block port: 0x1F0 (primary) or 0x170 (secondary). */
  commandBase: number;
  /** Device control / alternate status port: 0x3F6 or 0x376. */
  controlPort: number;
  /** INTRQ: IRQ 14 or 15 in compatibility mode. */
  irq: IrqLine;
  /** Device 0 (master) and device 1 (slave). */
  devices: [IdeDevice | undefined, IdeDevice | undefined];
}

export class IdeChannel {
  readonly devices: [IdeDevice, IdeDevice];
  readonly present: [boolean, boolean];
  selected = 0;
  deviceControl = 0;
  private irqOut = false;
  private readonly irq: IrqLine;
  private readonly io: IoBus;
  private readonly commandBase: number;
  private readonly controlPort: number;
  private decoding = false;
  busMaster: BusMaster | undefined;
  readonly stateDesc: StateDesc;

  constructor(options: IdeChannelOptions) {
    const [d0, d1] = options.devices;
    this.devices = [d0 ?? new NoDevice(), d1 ?? new NoDevice()];
    this.present = [d0 !== undefined, d1 !== undefined];
    this.devices[0].attach(this, 0);
    this.devices[1].attach(this, 1);
    this.irq = options.irq;
    this.io = options.io;
    this.commandBase = options.commandBase;
    this.controlPort = options.controlPort;
    this.stateDesc = defineState('ide-channel', 1, {
      selected: { type: 'u8', max: 1 }, deviceControl: 'u8', irqOut: 'bool',
      device0: { struct: this.devices[0].stateDesc }, device1: { struct: this.devices[1].stateDesc },
    });
    this.reset();
  }

  /**
   * Decode (or stop decoding) the channel's ports. The PIIX decodes them only while its IDE
   * decode enable bit and PCI I/O enable are set; a stand-alone channel is enabled once.
   */
  setDecode(enabled: boolean): void {
    if (enabled === this.decoding) return;
    this.decoding = enabled;
    const base = this.commandBase, io = this.io;
    if (!enabled) {
      io.unmap(base, base + 7);
      io.unmap(this.controlPort, this.controlPort);
      return;
    }
    io.map(base, base + 7, {
      read8: (p) => this.readRegister(p - base),
      write8: (p, v) => this.writeRegister(p - base, v),
    });
    io.map(base, base, {
      read16: () => this.current.readData16(),
      write16: (_p, v) => this.current.writeData16(v),
      read32: () => this.current.readData32(),
      write32: (_p, v) => this.current.writeData32(v),
    });
    io.map(this.controlPort, this.controlPort, {
      read8: () => this.statusOf(this.selected),
      write8: (_p, v) => this.writeControl(v),
    });
  }

  get current(): IdeDevice { return this.devices[this.selected]; }
  get device0(): IdeDevice { return this.devices[0]; }
  get device1(): IdeDevice { return this.devices[1]; }

  /** Hardware reset (power on, RESET-): both devices to their signatures, device 0 selected. */
  reset(): void {
    this.deviceControl = 0;
    this.selected = 0;
    for (const d of this.devices) d.powerOn();
    this.updateIrq();
  }

  /** Connect the bus-master engine (PiixIde does this). */
  attachBusMaster(bm: BusMaster): void { this.busMaster = bm; }

  /** The bus master's start bit was set: run the selected device's waiting DMA command. */
  busMasterStarted(): void {
    if (!this.busMaster?.running) return;
    for (const d of this.devices) if (d.dmaPending) { d.runDma(); return; }
  }

  /** EXECUTE DEVICE DIAGNOSTIC runs on both devices; device 0 reports for the pair. */
  executeDiagnostic(): void {
    for (let u = 0; u < 2; u++) if (this.present[u]) this.devices[u].diagnose();
    const reporter = this.present[0] ? this.devices[0] : this.current;
    reporter.irqPending = true;
    this.updateIrq();
  }

  /** A device asks to run DMA: now if the bus master is running, else when it starts. */
  dmaRequest(dev: IdeDevice): void {
    dev.dmaPending = true;
    if (this.busMaster?.running) dev.runDma();
  }

  private statusOf(unit: number): number {
    if (!this.present[0] && !this.present[1]) return 0xff;
    if (!this.present[unit]) return 0;
    return this.devices[unit].status;
  }

  readRegister(reg: number): number {
    if (!this.present[0] && !this.present[1]) return 0xff;
    const d = this.current, hob = (this.deviceControl & CTL_HOB) !== 0;
    switch (reg) {
      case 0: return d.readData16() & 0xff; // a byte read of the data port moves a whole word
      case 1: return hob ? d.hobFeature : d.error;
      case 2: return hob ? d.hobCount : d.count;
      case 3: return hob ? d.hobLbaLow : d.lbaLow;
      case 4: return hob ? d.hobLbaMid : d.lbaMid;
      case 5: return hob ? d.hobLbaHigh : d.lbaHigh;
      case 6: return d.device;
      default: {
        const st = this.statusOf(this.selected);
        d.clearIrq();
        return st;
      }
    }
  }

  writeRegister(reg: number, v: number): void {
    if (reg === 0) { this.current.writeData16(v | (v << 8)); return; }
    if (reg === 7) { this.writeCommand(v); return; }
    this.deviceControl &= ~CTL_HOB; // ATA-6 6.2: a command block write clears HOB
    for (const d of this.devices) {
      switch (reg) {
        case 1: d.hobFeature = d.feature; d.feature = v; break;
        case 2: d.hobCount = d.count; d.count = v; break;
        case 3: d.hobLbaLow = d.lbaLow; d.lbaLow = v; break;
        case 4: d.hobLbaMid = d.lbaMid; d.lbaMid = v; break;
        case 5: d.hobLbaHigh = d.lbaHigh; d.lbaHigh = v; break;
        case 6: d.device = v; break;
      }
    }
    if (reg === 6) {
      this.selected = (v & DEV_SELECT) ? 1 : 0;
      this.updateIrq();
    }
  }

  private writeCommand(cmd: number): void {
    this.deviceControl &= ~CTL_HOB;
    const d = this.current;
    if (!this.present[this.selected]) return;
    if ((d.status & ST_BSY) && cmd !== 0x08) return; // only DEVICE RESET gets through BSY
    d.clearIrq();
    d.pio = Pio.None;
    d.dmaPending = false;
    d.command(cmd);
  }

  writeControl(v: number): void {
    const was = this.deviceControl;
    this.deviceControl = v;
    if ((v & CTL_SRST) && !(was & CTL_SRST)) {
      for (const d of this.devices) { d.reset(); d.status = ST_BSY; }
    } else if (!(v & CTL_SRST) && (was & CTL_SRST)) {
      for (const d of this.devices) d.reset();
      this.selected = 0;
    }
    this.updateIrq();
  }

  /** Recompute INTRQ: the selected device's request unless nIEN masks it. */
  updateIrq(): void {
    const level = this.devices[this.selected].irqPending && !(this.deviceControl & CTL_NIEN);
    if (level === this.irqOut) return;
    this.irqOut = level;
    if (level) {
      this.busMaster?.interruptRaised();
      this.irq.raise();
    } else {
      this.irq.lower();
    }
  }

  /** INTRQ as the host sees it now. */
  get irqLevel(): boolean { return this.irqOut; }
}
