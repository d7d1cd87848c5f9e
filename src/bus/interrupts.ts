// Interrupt wiring between devices, interrupt controllers and the CPU.

/** What the CPU asks of its interrupt controller (the 8259 pair; later an APIC). */
export interface InterruptController {
  /** True when an unmasked request is waiting for the CPU. */
  hasInterrupt(): boolean;
  /** The INTA cycle: returns the vector and moves the request to in-service. */
  acknowledge(): number;
}

/** A device's interrupt output pin. Edge-triggered inputs see raise() after lower() as an edge. */
export interface IrqLine {
  raise(): void;
  lower(): void;
}

/** A sink that accepts levels for numbered inputs, e.g. the PIC pair's IRQ 0-15. */
export interface IrqSink {
  setIrq(irq: number, level: boolean): void;
}

/** An IrqLine bound to one input of a sink. */
export function irqLine(sink: IrqSink, irq: number): IrqLine {
  return { raise: () => sink.setIrq(irq, true), lower: () => sink.setIrq(irq, false) };
}
