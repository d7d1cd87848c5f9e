// One channel's bus-master IDE engine (82371AB datasheet 5.7.x, "Bus Master IDE Registers"):
//   +0 BMICX command: bit 0 start/stop, bit 3 direction (1 = device to memory)
//   +2 BMISX status:  bit 0 active (read-only), bit 1 error and bit 2 interrupt (write one to
//                     clear), bits 5-6 drive 0/1 DMA capable (software's scratch), bit 7 simplex 0
//   +4 BMIDTP physical region descriptor table pointer (dword aligned)
// A PRD is two dwords: memory address (bit 0 ignored), then byte count in bits 15:1 (0 means
// 64 KiB) and end-of-table in bit 31. The engine follows PRDs in memory until one has EOT; a
// table without EOT simply goes on into whatever memory follows, as the hardware does.
//
// Status after a transfer, as the datasheet's BMISX table says:
//   interrupt=1 active=0  the device finished and the PRD table was used up exactly;
//   interrupt=1 active=1  the device finished before the table was used up;
//   interrupt=0 active=0  the table ran out while the device still had data: the device waits
//                         with DRQ set until the driver gives up and resets it.

import type { MemoryBus } from '../../bus/memory.ts';
import { dmaFromMemory, dmaRead32, dmaToMemory } from '../pci/dma.ts';
import { defineState, type StateDesc } from '../../state/state.ts';

export const BM_START = 0x01;
export const BM_TO_MEMORY = 0x08;
export const BM_ACTIVE = 0x01;
export const BM_ERROR = 0x02;
export const BM_INTERRUPT = 0x04;

export class BusMaster {
  static readonly state: StateDesc = defineState('bus-master', 1, {
    command: 'u8', status: 'u8', prdTable: 'u32', prdNext: 'u32', addr: 'u32',
    left: { type: 'u32', max: 0x10000 }, last: 'bool',
  });
  command = 0;
  status = 0;
  prdTable = 0;
  /** The PRD being worked on: where its next byte goes and how many are left in it. */
  private prdNext = 0;
  private addr = 0;
  private left = 0;
  private last = false;

  /** `onStart` is called when the guest sets the start bit (the channel runs a waiting device). */
  constructor(private readonly mem: MemoryBus, private readonly onStart: () => void, private readonly mastering: () => boolean) {}

  reset(): void {
    this.command = 0; this.status = 0; this.prdTable = 0;
    this.left = 0; this.last = false;
  }

  get running(): boolean { return (this.status & BM_ACTIVE) !== 0 && this.mastering(); }

  readReg(off: number): number {
    switch (off) {
      case 0: return this.command;
      case 2: return this.status;
      case 4: case 5: case 6: case 7: return (this.prdTable >>> (8 * (off - 4))) & 0xff;
      default: return 0;
    }
  }

  writeReg(off: number, v: number): void {
    switch (off) {
      case 0: {
        const was = this.command & BM_START;
        this.command = v & (BM_START | BM_TO_MEMORY);
        if ((v & BM_START) && !was) {
          this.prdNext = this.prdTable; this.left = 0; this.last = false;
          this.status |= BM_ACTIVE;
          this.onStart();
        } else if (!(v & BM_START) && was) {
          this.status &= ~BM_ACTIVE; // stopping aborts whatever was in flight
        }
        return;
      }
      case 2: this.status = (this.status & ~(v & (BM_ERROR | BM_INTERRUPT)) & ~0x60) | (v & 0x60); return;
      case 4: case 5: case 6: case 7: {
        const sh = 8 * (off - 4);
        this.prdTable = ((this.prdTable & ~(0xff << sh)) | ((v & 0xff) << sh)) & ~3;
        this.prdTable >>>= 0;
        return;
      }
    }
  }

  /** The channel's interrupt line rose: latch the interrupt status bit. */
  interruptRaised(): void { this.status |= BM_INTERRUPT; }

  /** Load the next PRD when the current one is used up. False when the table has ended. */
  private nextPrd(): boolean {
    if (this.left > 0) return true;
    if (this.last) return false;
    const a = dmaRead32(this.mem, this.prdNext), b = dmaRead32(this.mem, this.prdNext + 4);
    this.prdNext = (this.prdNext + 8) >>> 0;
    this.addr = a & ~1;
    this.left = (b & 0xfffe) || 0x10000;
    this.last = (b & 0x80000000) !== 0;
    return true;
  }

  /**
   * Move up to `len` bytes between `buf` (from `start`) and memory along the PRDs, in the
   * direction given: device to memory when `toMemory`. Returns the bytes moved; fewer than
   * asked means the table ended (and the engine stopped, active cleared).
   */
  transfer(buf: Uint8Array, start: number, len: number, toMemory: boolean): number {
    let done = 0;
    while (done < len) {
      if (!this.nextPrd()) { this.status &= ~BM_ACTIVE; break; }
      const n = Math.min(this.left, len - done);
      if (toMemory) dmaToMemory(this.mem, this.addr, buf, start + done, n);
      else dmaFromMemory(this.mem, this.addr, buf, start + done, n);
      this.addr = (this.addr + n) >>> 0;
      this.left -= n;
      done += n;
    }
    return done;
  }

  /** The device finished its transfer: active stays set only if the PRD table has bytes left. */
  deviceDone(): void {
    if (this.left === 0 && this.last) this.status &= ~BM_ACTIVE;
  }
}
