// VGA adapter, text modes: 256 KiB of video memory in four planes behind the 0xA0000-0xBFFFF
// window, and every register of the standard VGA (sequencer, CRTC, graphics controller,
// attribute controller, DAC) stored so that graphics modes can be added on top.
//
// CPU accesses follow the memory map, chain-4 and odd/even settings (text modes put characters
// in plane 0 and attributes in plane 1 at even offsets); planar writes honour the map mask but
// not yet the graphics controller's ALU, rotate and latches. Retrace status follows the
// standard 640x400 70 Hz timing in virtual time.
// References: IBM VGA Technical Reference ("Registers": CRTC 0Ah-0Fh cursor and start
// address, 12h/07h vertical display end, 13h offset; graphics 06h memory map select;
// input status #1 at 3xAh).

import type { IoBus } from '../bus/io.ts';
import type { MemoryBus } from '../bus/memory.ts';
import type { Scheduler } from '../machine/clock.ts';
import { defineState, type StateDesc } from '../state/state.ts';

const PLANE_SIZE = 0x10000;

/** Register values of the standard text modes (IBM VGA BIOS tables). */
const TEXT_MODES = {
  3: {
    misc: 0x67,
    seq: [0x03, 0x00, 0x03, 0x00, 0x02],
    crtc: [0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
      0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff],
    attr: [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
      0x0c, 0x00, 0x0f, 0x08, 0x00],
  },
  7: {
    misc: 0x66,
    seq: [0x03, 0x00, 0x03, 0x00, 0x02],
    crtc: [0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
      0x9c, 0x8e, 0x8f, 0x28, 0x0f, 0x96, 0xb9, 0xa3, 0xff],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0a, 0x00, 0xff],
    attr: [0x00, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x10, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18,
      0x0e, 0x00, 0x0f, 0x08, 0x00],
  },
} as const;

// Code page 437, the VGA's character set, as Unicode.
const CP437 =
  ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼' +
  ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~⌂' +
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■ ';

/** Standard 640x400 at 70 Hz: 449 lines of 31.778 us, 400 shown, retrace on lines 412-413. */
const LINE_NS = 31778, FRAME_LINES = 449, SHOWN_LINES = 400, RETRACE_START = 412, RETRACE_END = 414, HDISPLAY_NS = 25422;

export interface Cursor { row: number; col: number; visible: boolean }

export class Vga {
  readonly vram = new Uint8Array(4 * PLANE_SIZE); // plane p at p * 64 KiB
  misc = 0;
  featureControl = 0;
  seqIndex = 0;
  readonly seq = new Uint8Array(5);
  crtcIndex = 0;
  readonly crtc = new Uint8Array(25);
  gcIndex = 0;
  readonly gc = new Uint8Array(9);
  attrIndex = 0;          // including bit 5, palette address source
  attrDataNext = false;   // the 3C0 flip-flop: false = next write is an index
  readonly attr = new Uint8Array(21);
  pelMask = 0xff;
  dacWriteIndex = 0;
  dacReadIndex = 0;
  dacComponent = 0;
  dacReading = false;
  readonly dac = new Uint8Array(768);

  readonly stateDesc: StateDesc = defineState('vga', 1, {
    vram: { bytes: 4 * PLANE_SIZE }, misc: 'u8', featureControl: 'u8', seqIndex: 'u8', seq: { bytes: 5 },
    crtcIndex: 'u8', crtc: { bytes: 25 }, gcIndex: 'u8', gc: { bytes: 9 }, attrIndex: 'u8', attrDataNext: 'bool',
    attr: { bytes: 21 }, pelMask: 'u8', dacWriteIndex: 'u8', dacReadIndex: 'u8', dacComponent: { type: 'u8', max: 2 },
    dacReading: 'bool', dac: { bytes: 768 },
  });

  constructor(io: IoBus, memory: MemoryBus, private readonly scheduler: Scheduler) {
    memory.mapMmio(0xa0000, 0x20000, { read8: a => this.readMemory(a), write8: (a, v) => this.writeMemory(a, v) });
    io.map(0x3b4, 0x3b5, { read8: p => this.crtcRead(p, false), write8: (p, v) => this.crtcWrite(p, v, false) });
    io.map(0x3d4, 0x3d5, { read8: p => this.crtcRead(p, true), write8: (p, v) => this.crtcWrite(p, v, true) });
    io.map(0x3ba, 0x3ba, { read8: () => this.inputStatus1(false), write8: (_p, v) => { if (!this.colorPorts) this.featureControl = v; } });
    io.map(0x3da, 0x3da, { read8: () => this.inputStatus1(true), write8: (_p, v) => { if (this.colorPorts) this.featureControl = v; } });
    io.map(0x3c0, 0x3cf, { read8: p => this.read(p), write8: (p, v) => this.write(p, v) });
    // A 16-bit OUT to an index port (index in AL, data in AH) is split by the I/O bus, low port first.
    this.reset();
  }

  /** Power-on: the BIOS's mode 3 (80x25 color text), blank screen. */
  reset(): void {
    this.vram.fill(0);
    this.setTextMode(3);
    this.pelMask = 0xff;
    this.dacWriteIndex = this.dacReadIndex = this.dacComponent = 0;
    this.dacReading = false;
  }

  /** Program the registers of text mode 3 (80x25 color) or 7 (80x25 mono) and clear the screen. */
  setTextMode(mode: 3 | 7): void {
    const m = TEXT_MODES[mode];
    this.misc = m.misc;
    this.seq.set(m.seq);
    this.crtc.set(m.crtc);
    this.gc.set(m.gc);
    this.attr.set(m.attr);
    this.attrDataNext = false;
    this.attrIndex = 0x20;
    for (let i = 0; i < 0x4000; i++) { this.vram[i * 2] = 0x20; this.vram[PLANE_SIZE + i * 2] = 0x07; }
  }

  private get colorPorts(): boolean { return (this.misc & 1) !== 0; }

  // ---- memory ----

  /** Plane-space offset of a CPU address, or -1 outside the window the memory map selects. */
  private windowOffset(addr: number): number {
    const off = addr - 0xa0000;
    switch ((this.gc[6] >> 2) & 3) {
      case 0: return off;
      case 1: return off < 0x10000 ? off : -1;
      case 2: return off >= 0x10000 && off < 0x18000 ? off - 0x10000 : -1;
      default: return off >= 0x18000 ? off - 0x18000 : -1;
    }
  }

  private readMemory(addr: number): number {
    const off = this.windowOffset(addr);
    if (off < 0) return 0xff;
    if (this.seq[4] & 0x08) return this.vram[(off & 3) * PLANE_SIZE + ((off >> 2) & 0xffff)]; // chain 4
    if (this.gc[5] & 0x10) return this.vram[(off & 1) * PLANE_SIZE + (off & 0xfffe)];          // odd/even
    return this.vram[(this.gc[4] & 3) * PLANE_SIZE + (off & 0xffff)];                          // read map select
  }

  private writeMemory(addr: number, v: number): void {
    const off = this.windowOffset(addr);
    if (off < 0) return;
    const mask = this.seq[2];
    if (this.seq[4] & 0x08) {
      const plane = off & 3;
      if (mask & (1 << plane)) this.vram[plane * PLANE_SIZE + ((off >> 2) & 0xffff)] = v;
    } else if (!(this.seq[4] & 0x04)) { // odd/even: A0 picks plane 0/1 (or 2/3)
      const plane = off & 1;
      if (mask & (1 << plane)) this.vram[plane * PLANE_SIZE + (off & 0xfffe)] = v;
      if (mask & (4 << plane)) this.vram[(plane + 2) * PLANE_SIZE + (off & 0xfffe)] = v;
    } else {
      for (let p = 0; p < 4; p++) if (mask & (1 << p)) this.vram[p * PLANE_SIZE + (off & 0xffff)] = v;
    }
  }

  // ---- text screen ----

  get columns(): number { return this.crtc[0x01] + 1; }
  get rows(): number {
    const vde = this.crtc[0x12] | ((this.crtc[0x07] & 0x02) << 7) | ((this.crtc[0x07] & 0x40) << 3);
    const charHeight = (this.crtc[0x09] & 0x1f) + 1;
    return Math.floor((vde + 1) / charHeight);
  }
  /** Characters per text row in memory (CRTC offset register, in words × 2). */
  get pitch(): number { return this.crtc[0x13] * 2; }
  get startAddress(): number { return (this.crtc[0x0c] << 8) | this.crtc[0x0d]; }
  get graphicsMode(): boolean { return (this.gc[6] & 0x01) !== 0; }

  /** Character and attribute at a screen position. */
  cell(row: number, col: number): { char: number; attr: number } {
    const i = ((this.startAddress + row * this.pitch + col) * 2) & 0xffff;
    return { char: this.vram[i], attr: this.vram[PLANE_SIZE + i] };
  }

  /** The text screen, one line per row, trailing spaces removed (CP437 shown as Unicode). */
  screenText(): string {
    const lines: string[] = [];
    const cols = this.columns, rows = this.rows;
    for (let r = 0; r < rows; r++) {
      let line = '';
      const base = this.startAddress + r * this.pitch;
      for (let c = 0; c < cols; c++) line += CP437[this.vram[((base + c) * 2) & 0xffff]];
      lines.push(line.trimEnd());
    }
    return lines.join('\n');
  }

  get cursor(): Cursor {
    const pos = ((this.crtc[0x0e] << 8) | this.crtc[0x0f]) - this.startAddress;
    const pitch = this.pitch || 1;
    return { row: Math.floor(pos / pitch), col: ((pos % pitch) + pitch) % pitch, visible: (this.crtc[0x0a] & 0x20) === 0 };
  }

  // ---- ports ----

  private inputStatus1(color: boolean): number {
    if (color !== this.colorPorts) return 0xff;
    this.attrDataNext = false; // reading input status #1 resets the attribute flip-flop
    const t = this.scheduler.now();
    const inFrame = t % (LINE_NS * FRAME_LINES);
    const line = Math.floor(inFrame / LINE_NS);
    const retrace = line >= RETRACE_START && line < RETRACE_END;
    const blank = line >= SHOWN_LINES || inFrame % LINE_NS >= HDISPLAY_NS;
    return (retrace ? 0x08 : 0) | (blank ? 0x01 : 0);
  }

  private crtcRead(port: number, color: boolean): number {
    if (color !== this.colorPorts) return 0xff;
    if (!(port & 1)) return this.crtcIndex;
    return this.crtcIndex < this.crtc.length ? this.crtc[this.crtcIndex] : 0xff;
  }

  private crtcWrite(port: number, v: number, color: boolean): void {
    if (color !== this.colorPorts) return;
    if (!(port & 1)) { this.crtcIndex = v; return; }
    const i = this.crtcIndex;
    if (i >= this.crtc.length) return;
    // CRTC 11h bit 7 write-protects registers 0-7, except the line compare bit in 07h.
    if (this.crtc[0x11] & 0x80 && i <= 7) {
      if (i === 7) this.crtc[7] = (this.crtc[7] & ~0x10) | (v & 0x10);
      return;
    }
    this.crtc[i] = v;
  }

  private read(port: number): number {
    switch (port) {
      case 0x3c0: return this.attrIndex;
      case 0x3c1: return (this.attrIndex & 0x1f) < this.attr.length ? this.attr[this.attrIndex & 0x1f] : 0;
      case 0x3c2: return 0x10; // input status #0: switch sense
      case 0x3c4: return this.seqIndex;
      case 0x3c5: return this.seqIndex < this.seq.length ? this.seq[this.seqIndex] : 0xff;
      case 0x3c6: return this.pelMask;
      case 0x3c7: return this.dacReading ? 0x03 : 0x00;
      case 0x3c8: return this.dacWriteIndex;
      case 0x3c9: {
        const v = this.dac[this.dacReadIndex * 3 + this.dacComponent];
        if (++this.dacComponent === 3) { this.dacComponent = 0; this.dacReadIndex = (this.dacReadIndex + 1) & 0xff; }
        return v;
      }
      case 0x3ca: return this.featureControl;
      case 0x3cc: return this.misc;
      case 0x3ce: return this.gcIndex;
      case 0x3cf: return this.gcIndex < this.gc.length ? this.gc[this.gcIndex] : 0xff;
      default: return 0xff;
    }
  }

  private write(port: number, v: number): void {
    switch (port) {
      case 0x3c0:
        if (!this.attrDataNext) this.attrIndex = v & 0x3f;
        else if ((this.attrIndex & 0x1f) < this.attr.length) this.attr[this.attrIndex & 0x1f] = v;
        this.attrDataNext = !this.attrDataNext;
        return;
      case 0x3c2: this.misc = v; return;
      case 0x3c4: this.seqIndex = v; return;
      case 0x3c5: if (this.seqIndex < this.seq.length) this.seq[this.seqIndex] = v; return;
      case 0x3c6: this.pelMask = v; return;
      case 0x3c7: this.dacReadIndex = v; this.dacComponent = 0; this.dacReading = true; return;
      case 0x3c8: this.dacWriteIndex = v; this.dacComponent = 0; this.dacReading = false; return;
      case 0x3c9:
        this.dac[this.dacWriteIndex * 3 + this.dacComponent] = v & 0x3f;
        if (++this.dacComponent === 3) { this.dacComponent = 0; this.dacWriteIndex = (this.dacWriteIndex + 1) & 0xff; }
        return;
      case 0x3ce: this.gcIndex = v; return;
      case 0x3cf: if (this.gcIndex < this.gc.length) this.gc[this.gcIndex] = v; return;
      default: return;
    }
  }
}
