// The A20 gate as the chipset forms it: enabled while either the keyboard controller's output
// port bit 1 or port 0x92 bit 1 asks for it (PIIX4 datasheet, "A20GATE and fast A20").

import type { MemoryBus } from '../bus/memory.ts';

export type A20Source = 'keyboard' | 'port92';

export class A20Gate {
  private keyboard = false;
  private port92 = false;

  constructor(private readonly memory: MemoryBus) { this.apply(); }

  set(source: A20Source, enabled: boolean): void {
    if (source === 'keyboard') this.keyboard = enabled; else this.port92 = enabled;
    this.apply();
  }

  get enabled(): boolean { return this.keyboard || this.port92; }

  private apply(): void { this.memory.setA20(this.keyboard || this.port92); }
}
