// A fixed-size byte FIFO on a typed array, with its state declared for save/restore.

import { defineState, type StateDesc } from '../state/state.ts';

export class ByteFifo {
  readonly data: Uint8Array;
  head = 0;
  count = 0;

  constructor(readonly capacity: number) { this.data = new Uint8Array(capacity); }

  static state(capacity: number): StateDesc {
    return defineState(`fifo${capacity}`, 1, { data: { bytes: capacity }, head: { type: 'u16', max: capacity - 1 }, count: { type: 'u16', max: capacity } });
  }

  get empty(): boolean { return this.count === 0; }
  get full(): boolean { return this.count === this.capacity; }

  push(v: number): boolean {
    if (this.count === this.capacity) return false;
    this.data[(this.head + this.count) % this.capacity] = v;
    this.count++;
    return true;
  }

  /** The oldest byte, or -1 when empty. */
  shift(): number {
    if (this.count === 0) return -1;
    const v = this.data[this.head];
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return v;
  }

  peek(): number { return this.count ? this.data[this.head] : -1; }
  clear(): void { this.head = 0; this.count = 0; }
}
