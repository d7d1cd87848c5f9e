// PIIX4 function 0, the PCI-to-ISA bridge (8086:7110), after the 82371AB datasheet
// (order 290562), section 4.1: the PIRQ route control registers and the reset control
// register at 0xCF9. Everything else in its configuration space is plain storage with the
// datasheet's reset values; the legacy devices behind the bridge are separate classes.
//
// PIRQRC[A:D] (0x60-0x63): bit 7 set disables routing; bits 3:0 choose the ISA IRQ (3-7,
// 9-12, 14, 15; other values route nowhere). PCI interrupts are level-triggered and active
// low; the PIC input they land on must be programmed level-sensitive through the ELCR
// (0x4D0/0x4D1), which the PIC itself implements. Several PIRQs may share one IRQ.

import type { IrqSink } from '../../bus/interrupts.ts';
import { PciDevice, overlaps } from './pci-device.ts';
import type { PciBus, PirqRouter } from './pci-bus.ts';

const PIRQRC = 0x60;
const ROUTABLE_IRQS = 0xdef8; // 3-7, 9-12, 14, 15

export interface Piix4IsaOptions {
  /** The PIC pair's inputs, where PIRQ lines are routed. */
  irqs: IrqSink;
  /** Reset control register 0xCF9: a 0->1 transition of bit 2; `hard` is bit 1 (system reset). */
  onReset?: (hard: boolean) => void;
  /** PCI slot of the PIIX4 (function 0 is here; IDE at function 1, power management at 3). */
  slot?: number;
}

export class Piix4Isa extends PciDevice implements PirqRouter {
  private readonly irqs: IrqSink;
  private readonly onReset: ((hard: boolean) => void) | undefined;
  private resetControl = 0;
  /** ISA IRQs this bridge drives high now (bit per IRQ). */
  private driven = 0;

  readonly stateDesc = this.pciState('piix4-isa', 1, { resetControl: 'u8', driven: 'u16' }, () => this.updateIrqs());

  constructor(bus: PciBus, options: Piix4IsaOptions) {
    super(bus, (options.slot ?? 7) << 3, {
      vendorId: 0x8086, deviceId: 0x7110, classCode: 0x060100, revision: 0x02, headerType: 0x80,
    });
    this.irqs = options.irqs;
    this.onReset = options.onReset;
    this.set16(0x04, 0x0007);
    this.set16(0x06, 0x0280);
    for (let o = 0x4c; o < 0x100; o++) this.writeMask[o] = 0xff;
    for (let i = 0; i < 4; i++) this.writeMask[PIRQRC + i] = 0x8f;
    this.powerOnValues();
    bus.setPirqRouter(this);
    bus.io.map(0xcf9, 0xcf9, {
      read8: () => this.resetControl,
      write8: (_p, v) => {
        const rising = (v & 4) && !(this.resetControl & 4);
        this.resetControl = v & 0x02; // RCPU reads back as zero: the reset is already under way
        if (rising) this.onReset?.((v & 2) !== 0);
      },
    });
  }

  private powerOnValues(): void {
    const c = this.config;
    c[0x4c] = 0x4d;                      // IORT
    c[0x4e] = 0x03; c[0x4f] = 0x00;      // XBCS: RTC and keyboard controller decode enabled
    for (let i = 0; i < 4; i++) c[PIRQRC + i] = 0x80;
    c[0x69] = 0x02;                      // TOM
    c[0x6a] = 0x00; c[0x6b] = 0x00;      // MSTAT
    c[0x70] = 0x80; c[0x71] = 0x80;      // MBIRQ0/1 disabled
    c[0x76] = 0x0c; c[0x77] = 0x0c;      // MBDMA
    c[0x80] = 0x00;                      // APICBASE
    c[0x82] = 0x00;                      // DLC
    c[0x90] = 0x00; c[0x91] = 0x00;      // PDMACFG
    c[0xb0] = 0x00; c[0xb1] = 0x00; c[0xb2] = 0x0f; c[0xb3] = 0x00; // GENCFG
    c[0xcb] = 0x21;                      // RTCCFG
  }

  override reset(): void {
    super.reset();
    this.set16(0x04, 0x0007);
    this.powerOnValues();
    this.resetControl = 0;
    this.updateIrqs();
  }

  protected override configWritten(offset: number, size: number): void {
    super.configWritten(offset, size);
    if (overlaps(offset, size, PIRQRC, 4)) this.updateIrqs();
  }

  /** The ISA IRQ PIRQ line `pirq` goes to, or -1 when routing is off. */
  pirqRoute(pirq: number): number {
    const v = this.config[PIRQRC + pirq];
    if (v & 0x80) return -1;
    const irq = v & 0x0f;
    return (ROUTABLE_IRQS >>> irq) & 1 ? irq : -1;
  }

  setPirq(_pirq: number, _level: boolean): void { this.updateIrqs(); }

  /** Recompute which ISA IRQs the PIRQ lines drive; tell the PIC only about changes. */
  private updateIrqs(): void {
    let want = 0;
    for (let p = 0; p < 4; p++) {
      const irq = this.pirqRoute(p);
      if (irq >= 0 && this.bus.pirqLevel(p)) want |= 1 << irq;
    }
    const changed = want ^ this.driven;
    this.driven = want;
    for (let irq = 0; irq < 16; irq++) {
      if (changed & (1 << irq)) this.irqs.setIrq(irq, (want & (1 << irq)) !== 0);
    }
  }
}
