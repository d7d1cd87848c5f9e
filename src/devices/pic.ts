// Two Intel 8259A programmable interrupt controllers, cascaded as on every PC: the slave's
// INT output drives the master's IR2; the PIIX4's ELCR registers choose edge or level
// triggering per input (ICW1's LTIM bit is ignored, as PIIX4 datasheet 3.1.1 says).
// References: Intel 8259A datasheet (231468) "Interrupt sequence", "Programming the 8259A";
// Intel PIIX4 datasheet 4.1.13 (ELCR).

import type { IoBus } from '../bus/io.ts';
import type { InterruptController, IrqSink } from '../bus/interrupts.ts';
import { defineState, type StateDesc } from '../state/state.ts';

/** One 8259A. The pair drives its inputs and reads its output; nothing else touches it. */
export class Pic8259 {
  irr = 0;             // interrupt request register
  isr = 0;             // in-service register
  imr = 0;             // interrupt mask register
  elcr = 0;            // 1 = level-triggered input (PIIX4 ELCR)
  lines = 0;           // current input levels, for edge detection
  lowestPriority = 7;  // IR with the lowest priority (rotation moves it); highest is lowest+1
  vectorBase = 0;      // ICW2 & 0xF8
  cascade = 0;         // ICW3 as written
  initStep = 0;        // 0 = ready; 2..4 = next ICW expected
  needIcw4 = false;
  singleMode = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  readIsr = false;     // OCW3 RR/RIS: which register port A reads
  pollPending = false; // OCW3 P: the next read of port A is a poll
  icw4 = 0;

  constructor(readonly elcrMask: number, readonly isMaster: boolean) {}

  static readonly state: StateDesc = defineState('i8259', 1, {
    irr: 'u8', isr: 'u8', imr: 'u8', elcr: 'u8', lines: 'u8', lowestPriority: { type: 'u8', max: 7 },
    vectorBase: 'u8', cascade: 'u8', initStep: { type: 'u8', max: 4 }, needIcw4: 'bool', singleMode: 'bool',
    autoEoi: 'bool', rotateOnAutoEoi: 'bool', specialFullyNested: 'bool', specialMask: 'bool', readIsr: 'bool',
    pollPending: 'bool', icw4: 'u8',
  });

  reset(): void {
    this.irr = this.isr = this.imr = this.elcr = this.lines = 0;
    this.lowestPriority = 7;
    this.vectorBase = this.cascade = this.initStep = this.icw4 = 0;
    this.needIcw4 = this.singleMode = this.autoEoi = this.rotateOnAutoEoi = false;
    this.specialFullyNested = this.specialMask = this.readIsr = this.pollPending = false;
  }

  /** Drive input `n`. Edge inputs latch a request on a rising edge; level inputs follow the line. */
  setInput(n: number, level: boolean): void {
    const bit = 1 << n;
    if (level) {
      if (this.elcr & bit) this.irr |= bit;
      else if (!(this.lines & bit)) this.irr |= bit;
      this.lines |= bit;
    } else {
      // An edge request stays latched when the line falls (devices may pulse their line);
      // a level request goes away with the level.
      if (this.elcr & bit) this.irr &= ~bit;
      this.lines &= ~bit;
    }
  }

  /** Priority rank of the highest-priority bit set in `mask` (0 = highest), 8 when none. */
  private rank(mask: number): number {
    if (!mask) return 8;
    let rank = 0;
    while (!(mask & (1 << ((rank + this.lowestPriority + 1) & 7)))) rank++;
    return rank;
  }

  /** The IR this chip would present to the CPU now, or -1 (datasheet "Interrupt sequence"). */
  pending(): number {
    const request = this.rank(this.irr & ~this.imr);
    if (request === 8) return -1;
    let inService = this.isr;
    // Special mask mode: masked in-service levels no longer inhibit lower priorities.
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested mode: the master lets a higher slave request through while IR2 is in service.
    if (this.specialFullyNested && this.isMaster) inService &= ~(1 << 2);
    return request < this.rank(inService) ? (request + this.lowestPriority + 1) & 7 : -1;
  }

  /** INTA: move IR `n` from request to service. */
  acknowledge(n: number): void {
    const bit = 1 << n;
    if (!(this.elcr & bit)) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.lowestPriority = n;
    } else {
      this.isr |= bit;
    }
  }

  private highestInService(): number {
    const r = this.rank(this.isr);
    return r === 8 ? -1 : (r + this.lowestPriority + 1) & 7;
  }

  writeCommand(v: number): void {
    if (v & 0x10) {
      // ICW1: starts initialization (datasheet "Initialization command words").
      this.needIcw4 = (v & 0x01) !== 0;
      this.singleMode = (v & 0x02) !== 0;
      this.irr &= this.elcr;          // edge-sense latches reset: edges need a new transition
      this.imr = 0;
      this.isr = 0;
      this.lowestPriority = 7;
      this.specialMask = false;
      this.readIsr = false;
      this.pollPending = false;
      this.autoEoi = this.rotateOnAutoEoi = this.specialFullyNested = false;
      this.icw4 = 0;
      this.initStep = 2;
    } else if (v & 0x08) {
      // OCW3
      if (v & 0x04) this.pollPending = true;
      if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
      if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
    } else {
      // OCW2: R SL EOI in bits 7-5, level in bits 2-0.
      const level = v & 7;
      switch (v >> 5) {
        case 0: this.rotateOnAutoEoi = false; break;
        case 4: this.rotateOnAutoEoi = true; break;
        case 1: case 5: { // non-specific EOI, optionally rotating
          const n = this.highestInService();
          if (n >= 0) {
            this.isr &= ~(1 << n);
            if (v & 0x80) this.lowestPriority = n;
          }
          break;
        }
        case 3: this.isr &= ~(1 << level); break;                              // specific EOI
        case 7: this.isr &= ~(1 << level); this.lowestPriority = level; break; // rotate on specific EOI
        case 6: this.lowestPriority = level; break;                            // set priority
        case 2: break;                                                          // no operation
      }
    }
  }

  writeData(v: number): void {
    switch (this.initStep) {
      case 2:
        this.vectorBase = v & 0xf8;
        this.initStep = this.singleMode ? (this.needIcw4 ? 4 : 0) : 3;
        break;
      case 3:
        this.cascade = v;
        this.initStep = this.needIcw4 ? 4 : 0;
        break;
      case 4:
        this.icw4 = v;
        this.autoEoi = (v & 0x02) !== 0;
        this.specialFullyNested = (v & 0x10) !== 0;
        this.initStep = 0;
        break;
      default:
        this.imr = v; // OCW1
    }
  }

  writeElcr(v: number): void {
    this.elcr = v & this.elcrMask;
    // Level inputs now follow their lines.
    this.irr = (this.irr & ~this.elcr) | (this.lines & this.elcr);
  }
}

/**
 * The PC's master/slave 8259A pair: ports 0x20-0x21, 0xA0-0xA1 and the ELCR at 0x4D0-0x4D1.
 * It is the CPU's InterruptController and the IrqSink for IRQ 0-15.
 */
export class PicPair implements InterruptController, IrqSink {
  // PIIX4 4.1.13: IRQ 0, 1, 2, 8 and 13 are always edge triggered.
  readonly master = new Pic8259(0xf8, true);
  readonly slave = new Pic8259(0xde, false);

  readonly stateDesc: StateDesc = defineState('pic', 1, {
    master: { struct: Pic8259.state }, slave: { struct: Pic8259.state },
  }, { postLoad: (p: PicPair) => p.update() });

  /** `notifyCpu` is called whenever INT is asserted (the CPU's interruptPending). */
  constructor(io: IoBus, private readonly notifyCpu: () => void = () => {}) {
    const chip = (port: number) => (port & 0x80 ? this.slave : this.master);
    io.map(0x20, 0x21, { read8: p => this.read(chip(p), p), write8: (p, v) => this.write(chip(p), p, v) });
    io.map(0xa0, 0xa1, { read8: p => this.read(chip(p), p), write8: (p, v) => this.write(chip(p), p, v) });
    io.map(0x4d0, 0x4d1, {
      read8: p => (p & 1 ? this.slave : this.master).elcr,
      write8: (p, v) => { (p & 1 ? this.slave : this.master).writeElcr(v); this.update(); },
    });
  }

  reset(): void {
    this.master.reset();
    this.slave.reset();
  }

  setIrq(irq: number, level: boolean): void {
    if (irq >= 8) this.slave.setInput(irq - 8, level);
    else if (irq === 2) this.slave.setInput(1, level); // the ISA bus's IRQ2 pin is wired to IRQ9
    else this.master.setInput(irq, level);
    this.update();
  }

  /** Propagate the slave's INT to the master's IR2 and tell the CPU when INT is up. */
  private update(): void {
    this.master.setInput(2, this.slave.pending() >= 0);
    if (this.master.pending() >= 0) this.notifyCpu();
  }

  hasInterrupt(): boolean {
    return this.master.pending() >= 0;
  }

  acknowledge(): number {
    const m = this.master;
    const irq = m.pending();
    // A request that went away before INTA gives IR7 without setting ISR (datasheet step 4).
    if (irq < 0) return m.vectorBase | 7;
    m.acknowledge(irq);
    if (irq !== 2 || m.singleMode) return m.vectorBase | irq;
    const s = this.slave;
    const sirq = s.pending();
    let vector = s.vectorBase | 7; // spurious IRQ15: the master's IR2 is in service, the slave's is not
    if (sirq >= 0) { s.acknowledge(sirq); vector = s.vectorBase | sirq; }
    // The slave's INT falls during INTA; it rises again if another request is ready.
    m.setInput(2, false);
    this.update();
    return vector;
  }

  private read(chip: Pic8259, port: number): number {
    if (port & 1) return chip.imr;
    if (chip.pollPending) {
      // Poll: the read acts as INTA and returns 0x80 | level when a request is pending.
      chip.pollPending = false;
      const irq = chip.pending();
      if (irq < 0) return 0;
      chip.acknowledge(irq); // no cascade cycle: the slave is polled on its own
      this.update();
      return 0x80 | irq;
    }
    return chip.readIsr ? chip.isr : chip.irr;
  }

  private write(chip: Pic8259, port: number, v: number): void {
    if (port & 1) chip.writeData(v);
    else chip.writeCommand(v);
    this.update();
  }
}
