// The PC/AT's two 8237A DMA controllers (Intel 8237A-5 datasheet; the AT's wiring as the
// PIIX4 datasheet 4.4 and 5.4 documents it): DMA1 has the 8-bit channels 0-3 at ports 00h-0Fh,
// DMA2 the 16-bit channels 4-7 at C0h-DFh (every other port, word-spaced) with channel 4
// cascading DMA1; the page registers at 87h, 83h, 81h, 82h (channels 0-3) and 8Fh, 8Bh, 89h,
// 8Ah (4-7) give address bits 23-16 (16-bit channels shift their address one bit left and use
// page bits 7-1).
//
// Per controller: a base and a current address and word count per channel (16 bits each,
// written low byte then high byte through the byte pointer flip-flop), the mode register
// (channel, transfer type: verify/write/read, autoinitialize, decrement, demand/single/block/
// cascade), the command register, the request register, the mask register (set, cleared, or
// written at once; all set by reset and master clear), the status register (terminal count
// bits 0-3, cleared by reading; request bits 4-7) and the temporary register.
//
// Devices see the controller through two calls: `cascaded(ch)` says whether a bus-master ISA
// device on `ch` may take the bus (its channel is in cascade mode and unmasked: how an
// AHA-154x works), and `transfer(ch, ...)` moves data for a device using the controller's own
// addresses (single, block and demand modes; a floppy or a sound card).

import type { IoBus } from '../bus/io.ts';
import type { MemoryBus } from '../bus/memory.ts';
import { dmaFromMemory, dmaToMemory } from './pci/dma.ts';
import { defineState, type StateDesc } from '../state/state.ts';

const PAGE_PORTS = [0x87, 0x83, 0x81, 0x82, 0x8f, 0x8b, 0x89, 0x8a];
// Mode register fields.
const MODE_TYPE = 0x0c, TYPE_WRITE = 0x04, TYPE_READ = 0x08;
const MODE_AUTOINIT = 0x10, MODE_DECREMENT = 0x20;
const MODE_SELECT = 0xc0, MODE_CASCADE = 0xc0;

class Controller {
  static readonly state = defineState('i8237', 1, {
    baseAddress: { array: 'u16', length: 4 }, address: { array: 'u16', length: 4 },
    baseCount: { array: 'u16', length: 4 }, count: { array: 'u16', length: 4 },
    mode: { array: 'u8', length: 4 }, command: 'u8', status: 'u8', request: { type: 'u8', max: 15 },
    mask: { type: 'u8', max: 15 }, flipFlop: 'bool', temporary: 'u8',
  });
  readonly baseAddress = [0, 0, 0, 0];
  readonly address = [0, 0, 0, 0];
  readonly baseCount = [0, 0, 0, 0];
  readonly count = [0, 0, 0, 0];
  readonly mode = [0, 0, 0, 0];
  command = 0;
  status = 0;
  request = 0;
  mask = 0x0f;
  flipFlop = false;
  temporary = 0;

  masterClear(): void {
    this.command = 0; this.status = 0; this.request = 0; this.temporary = 0;
    this.flipFlop = false;
    this.mask = 0x0f;
  }

  /** Registers 0-15 of this controller (the port's index, whatever its spacing). */
  read(reg: number): number {
    if (reg < 8) {
      const ch = reg >>> 1, v = reg & 1 ? this.count[ch] : this.address[ch];
      const byte = this.flipFlop ? v >>> 8 : v & 0xff;
      this.flipFlop = !this.flipFlop;
      return byte;
    }
    switch (reg) {
      case 8: { const s = this.status; this.status &= 0xf0; return s; } // terminal counts clear on read
      case 13: return this.temporary;
      case 15: return 0xf0 | this.mask; // the PIIX4 lets the mask register be read back here
      default: return 0xff;
    }
  }

  write(reg: number, v: number): void {
    if (reg < 8) {
      const ch = reg >>> 1, count = (reg & 1) !== 0;
      const old = count ? this.baseCount[ch] : this.baseAddress[ch];
      const nv = this.flipFlop ? (old & 0xff) | (v << 8) : (old & 0xff00) | v;
      this.flipFlop = !this.flipFlop;
      // Writing the base register writes the current one too.
      if (count) { this.baseCount[ch] = nv; this.count[ch] = nv; } else { this.baseAddress[ch] = nv; this.address[ch] = nv; }
      return;
    }
    switch (reg) {
      case 8: this.command = v; return;
      case 9: { const bit = 1 << (v & 3); this.request = v & 4 ? this.request | bit : this.request & ~bit; return; }
      case 10: { const bit = 1 << (v & 3); this.mask = v & 4 ? this.mask | bit : this.mask & ~bit; return; }
      case 11: this.mode[v & 3] = v; return;
      case 12: this.flipFlop = false; return;
      case 13: this.masterClear(); return;
      case 14: this.mask = 0; return;
      case 15: this.mask = v & 0x0f; return;
    }
  }
}

export class Dma8237 {
  readonly stateDesc: StateDesc = defineState('dma8237', 1, {
    dma1: { struct: Controller.state }, dma2: { struct: Controller.state }, pages: { array: 'u8', length: 8 },
  });
  readonly dma1 = new Controller();
  readonly dma2 = new Controller();
  readonly pages = [0, 0, 0, 0, 0, 0, 0, 0];

  constructor(io: IoBus, private readonly mem: MemoryBus) {
    io.map(0x00, 0x0f, { read8: (p) => this.dma1.read(p & 0x0f), write8: (p, v) => this.dma1.write(p & 0x0f, v) });
    io.map(0xc0, 0xdf, {
      read8: (p) => ((p & 1) ? 0xff : this.dma2.read((p - 0xc0) >>> 1)),
      write8: (p, v) => { if (!(p & 1)) this.dma2.write((p - 0xc0) >>> 1, v); },
    });
    PAGE_PORTS.forEach((port, ch) => io.map(port, port, { read8: () => this.pages[ch], write8: (_p, v) => { this.pages[ch] = v; } }));
  }

  reset(): void {
    this.dma1.masterClear();
    this.dma2.masterClear();
  }

  private controller(ch: number): [Controller, number] { return ch < 4 ? [this.dma1, ch] : [this.dma2, ch - 4]; }

  /** Whether channel `ch` is unmasked (DMA1 channels also need channel 4, the cascade, unmasked). */
  private enabled(ch: number): boolean {
    const [c, n] = this.controller(ch);
    if (c.mask & (1 << n)) return false;
    if (c.command & 0x04) return false; // controller disabled
    return ch >= 4 || (!(this.dma2.mask & 1) && (this.dma2.mode[0] & MODE_SELECT) === MODE_CASCADE);
  }

  /** A bus-master device on channel `ch` may drive the bus: cascade mode, unmasked. */
  cascaded(ch: number): boolean {
    const [c, n] = this.controller(ch);
    return (c.mode[n] & MODE_SELECT) === MODE_CASCADE && this.enabled(ch);
  }

  /**
   * A device on channel `ch` moves up to `len` bytes of `buf` from `start` (to memory when the
   * channel's mode says write, from memory when read) through the channel's address and count.
   * Returns the bytes moved; the channel reaches terminal count when its count runs out
   * (status bit, autoinitialize reloads it, otherwise it masks itself).
   */
  transfer(ch: number, buf: Uint8Array, start: number, len: number): number {
    if (!this.enabled(ch)) return 0;
    const [c, n] = this.controller(ch);
    const mode = c.mode[n], type = mode & MODE_TYPE;
    if ((mode & MODE_SELECT) === MODE_CASCADE) return 0;
    const wide = ch >= 4, unit = wide ? 2 : 1;
    let moved = 0;
    while (moved + unit <= len) {
      const addr = wide
        ? ((this.pages[ch] & 0xfe) << 16) | (c.address[n] << 1)
        : (this.pages[ch] << 16) | c.address[n];
      if (type === TYPE_WRITE) dmaToMemory(this.mem, addr, buf, start + moved, unit);
      else if (type === TYPE_READ) dmaFromMemory(this.mem, addr, buf, start + moved, unit);
      // (verify transfers move nothing)
      moved += unit;
      c.address[n] = (c.address[n] + (mode & MODE_DECREMENT ? 0xffff : 1)) & 0xffff;
      c.count[n] = (c.count[n] + 0xffff) & 0xffff;
      if (c.count[n] === 0xffff) { // terminal count
        c.status |= 1 << n;
        c.request &= ~(1 << n);
        if (mode & MODE_AUTOINIT) { c.address[n] = c.baseAddress[n]; c.count[n] = c.baseCount[n]; }
        else c.mask |= 1 << n;
        break;
      }
    }
    return moved;
  }
}
