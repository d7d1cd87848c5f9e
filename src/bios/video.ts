// INT 10h text services on a VGA: modes 3 (80x25 colour, B800) and 7 (80x25 mono, B000).
// Mode sets program the VGA registers from the standard mode tables, as a video BIOS does;
// text output writes the text buffer and moves the CRTC cursor.

import { BDA, type Ctx } from './context.ts';
import { Seg } from '../cpu/cpu.ts';
import type { IoBus } from '../bus/io.ts';
import type { MemoryBus } from '../bus/memory.ts';

interface ModeTable { misc: number; seq: number[]; crtc: number[]; gc: number[]; ac: number[]; segment: number; crtcBase: number; modeCtl: number }

// Register values of the IBM VGA's parameter table for the two text modes.
const MODES: Record<number, ModeTable> = {
  3: {
    misc: 0x67, seq: [0x03, 0x00, 0x03, 0x00, 0x02],
    crtc: [0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
      0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff],
    ac: [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
      0x0c, 0x00, 0x0f, 0x08, 0x00],
    segment: 0xb800, crtcBase: 0x3d4, modeCtl: 0x29,
  },
  7: {
    misc: 0x66, seq: [0x03, 0x00, 0x03, 0x00, 0x02],
    crtc: [0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
      0x9c, 0x8e, 0x8f, 0x28, 0x0f, 0x96, 0xb9, 0xa3, 0xff],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0a, 0x00, 0xff],
    ac: [0x00, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x10, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18,
      0x0e, 0x00, 0x0f, 0x08, 0x00],
    segment: 0xb000, crtcBase: 0x3b4, modeCtl: 0x29,
  },
};
const COLS = 80, ROWS = 25, PAGE_SIZE = 0x1000, PAGES = 8;

export class Video {
  constructor(private readonly mem: MemoryBus, private readonly io: IoBus) {}

  private bda8(o: number) { return this.mem.read8(0x400 + o); }
  private bda16(o: number) { return this.mem.read16(0x400 + o); }
  private setBda8(o: number, v: number) { this.mem.write8(0x400 + o, v); }
  private setBda16(o: number, v: number) { this.mem.write16(0x400 + o, v); }

  private get mode(): number { return this.bda8(BDA.videoMode) & 0x7f; }
  private get base(): number { return (MODES[this.mode] ?? MODES[3]).segment << 4; }
  private get crtc(): number { return this.bda16(BDA.crtcBase) || 0x3d4; }
  private cellAddr(page: number, row: number, col: number): number {
    return this.base + page * PAGE_SIZE + (row * COLS + col) * 2;
  }

  /** Mode set (AH=00h): program the VGA, fill the BDA, clear the screen unless AL bit 7. */
  setMode(mode: number): boolean {
    const clear = !(mode & 0x80);
    const m = MODES[mode & 0x7f];
    if (!m) return false;
    const io = this.io;
    io.write8(0x3c2, m.misc);
    for (let i = 0; i < m.seq.length; i++) { io.write8(0x3c4, i); io.write8(0x3c5, m.seq[i]); }
    io.write8(m.crtcBase, 0x11); io.write8(m.crtcBase + 1, m.crtc[0x11] & 0x7f); // unlock CR0-7
    for (let i = 0; i < m.crtc.length; i++) { io.write8(m.crtcBase, i); io.write8(m.crtcBase + 1, m.crtc[i]); }
    for (let i = 0; i < m.gc.length; i++) { io.write8(0x3ce, i); io.write8(0x3cf, m.gc[i]); }
    io.read8(m.crtcBase + 6); // reset the attribute controller's flip-flop (3DA/3BA)
    for (let i = 0; i < m.ac.length; i++) { io.write8(0x3c0, i); io.write8(0x3c0, m.ac[i]); }
    io.write8(0x3c0, 0x20); // palette address source: video on
    this.setBda8(BDA.videoMode, mode & 0x7f);
    this.setBda16(BDA.videoCols, COLS);
    this.setBda16(BDA.videoPageSize, PAGE_SIZE);
    this.setBda16(BDA.videoPageStart, 0);
    for (let p = 0; p < PAGES; p++) this.setBda16(BDA.cursorPos + p * 2, 0);
    this.setBda16(BDA.cursorShape, (m.crtc[0x0a] << 8) | m.crtc[0x0b]);
    this.setBda8(BDA.videoPage, 0);
    this.setBda16(BDA.crtcBase, m.crtcBase);
    this.setBda8(BDA.videoModeCtl, m.modeCtl);
    this.setBda8(BDA.videoPalette, 0x30);
    this.setBda8(BDA.videoRows, ROWS - 1);
    this.setBda16(BDA.charHeight, 16);
    this.setBda8(BDA.egaInfo, 0x60 | (clear ? 0 : 0x80));
    this.setBda8(BDA.egaSwitches, 0x09);
    this.setBda8(BDA.vgaFlags, 0x51);
    this.setBda8(BDA.vgaDcc, 0x08);
    if (clear) for (let i = 0; i < PAGE_SIZE * PAGES / 2 && i < 0x4000; i++) this.mem.write16(m.segment * 16 + i * 2, 0x0720);
    // Equipment word bits 4-5: initial video mode (10 = 80x25 colour, 11 = mono).
    const eq = this.bda16(BDA.equipment) & ~0x30;
    this.setBda16(BDA.equipment, eq | (mode === 7 ? 0x30 : 0x20));
    this.updateCursor();
    return true;
  }

  private cursor(page: number): [number, number] {
    const v = this.bda16(BDA.cursorPos + (page & 7) * 2);
    return [v >> 8, v & 0xff];
  }
  setCursor(page: number, row: number, col: number): void {
    this.setBda16(BDA.cursorPos + (page & 7) * 2, (row << 8) | col);
    if ((page & 7) === this.bda8(BDA.videoPage)) this.updateCursor();
  }
  /** Move the hardware cursor (CRTC registers 0Eh/0Fh) to the active page's cursor. */
  private updateCursor(): void {
    const page = this.bda8(BDA.videoPage);
    const [row, col] = this.cursor(page);
    const pos = page * (PAGE_SIZE / 2) + row * COLS + col;
    this.io.write8(this.crtc, 0x0e); this.io.write8(this.crtc + 1, pos >> 8);
    this.io.write8(this.crtc, 0x0f); this.io.write8(this.crtc + 1, pos & 0xff);
  }
  private setPage(page: number): void {
    page &= 7;
    this.setBda8(BDA.videoPage, page);
    this.setBda16(BDA.videoPageStart, page * PAGE_SIZE);
    const start = page * (PAGE_SIZE / 2);
    this.io.write8(this.crtc, 0x0c); this.io.write8(this.crtc + 1, start >> 8);
    this.io.write8(this.crtc, 0x0d); this.io.write8(this.crtc + 1, start & 0xff);
    this.updateCursor();
  }

  /** Scroll the window (top,left)-(bottom,right) of a page up (n > 0) or down (n < 0); 0 clears. */
  scroll(page: number, n: number, attr: number, top: number, left: number, bottom: number, right: number): void {
    bottom = Math.min(bottom, ROWS - 1); right = Math.min(right, COLS - 1);
    if (top > bottom || left > right) return;
    const height = bottom - top + 1;
    if (n === 0 || Math.abs(n) >= height) n = height * (n < 0 ? -1 : 1);
    const blank = 0x20 | (attr << 8);
    const rows = n > 0 ? range(top, bottom) : range(top, bottom).reverse();
    const k = Math.abs(n);
    for (const row of rows) {
      const src = n > 0 ? row + k : row - k;
      for (let col = left; col <= right; col++) {
        const v = src >= top && src <= bottom ? this.mem.read16(this.cellAddr(page, src, col)) : blank;
        this.mem.write16(this.cellAddr(page, row, col), v);
      }
    }
  }

  /** Teletype output (AH=0Eh): control characters, wrap and scroll. */
  teletype(ch: number, page = this.bda8(BDA.videoPage), attr = -1): void {
    let [row, col] = this.cursor(page);
    switch (ch) {
      case 0x07: return; // bell
      case 0x08: if (col > 0) col--; break;
      case 0x0a: row++; break;
      case 0x0d: col = 0; break;
      default: {
        const a = this.cellAddr(page, row, col);
        if (attr >= 0) this.mem.write16(a, ch | (attr << 8)); else this.mem.write8(a, ch);
        col++;
      }
    }
    if (col >= COLS) { col = 0; row++; }
    if (row >= ROWS) {
      // The new line takes the attribute of the character at the cursor, as the IBM BIOS does.
      const fill = this.mem.read8(this.cellAddr(page, ROWS - 1, 0) + 1);
      this.scroll(page, 1, fill, 0, 0, ROWS - 1, COLS - 1);
      row = ROWS - 1;
    }
    this.setCursor(page, row, col);
  }

  /** Write a character (and attribute) `count` times at the cursor without moving it. */
  private writeChars(page: number, ch: number, attr: number, count: number, withAttr: boolean): void {
    const [row, col] = this.cursor(page);
    let a = this.cellAddr(page, row, col);
    const end = this.cellAddr(page, ROWS - 1, COLS - 1);
    for (let i = 0; i < count && a <= end; i++, a += 2) {
      if (withAttr) this.mem.write16(a, ch | (attr << 8)); else this.mem.write8(a, ch);
    }
  }

  int10(c: Ctx): void {
    switch (c.ah) {
      case 0x00: this.setMode(c.al); c.al = (c.al & 0x7f) === 6 ? 0x3f : 0x30; return;
      case 0x01: this.setBda16(BDA.cursorShape, c.cx);
        this.io.write8(this.crtc, 0x0a); this.io.write8(this.crtc + 1, c.ch);
        this.io.write8(this.crtc, 0x0b); this.io.write8(this.crtc + 1, c.cl);
        return;
      case 0x02: this.setCursor(c.bh, c.dh, c.dl); return;
      case 0x03: { const [row, col] = this.cursor(c.bh); c.dh = row; c.dl = col; c.cx = this.bda16(BDA.cursorShape); c.ax = 0; return; }
      case 0x04: c.ah = 0; return; // no light pen
      case 0x05: this.setPage(c.al); return;
      case 0x06: this.scroll(this.bda8(BDA.videoPage), c.al, c.bh, c.ch, c.cl, c.dh, c.dl); return;
      case 0x07: this.scroll(this.bda8(BDA.videoPage), c.al === 0 ? 0 : -c.al, c.bh, c.ch, c.cl, c.dh, c.dl); return;
      case 0x08: { const [row, col] = this.cursor(c.bh); c.ax = this.mem.read16(this.cellAddr(c.bh & 7, row, col)); return; }
      case 0x09: this.writeChars(c.bh & 7, c.al, c.bl, c.cx, true); return;
      case 0x0a: this.writeChars(c.bh & 7, c.al, 0, c.cx, false); return;
      case 0x0b: case 0x0c: case 0x0d: case 0x10: return; // palettes and pixels: nothing in text modes
      case 0x0e: this.teletype(c.al); return;
      case 0x0f: c.al = this.bda8(BDA.videoMode) | (this.bda8(BDA.egaInfo) & 0x80); c.ah = this.bda16(BDA.videoCols); c.bh = this.bda8(BDA.videoPage); return;
      case 0x11:
        if (c.al === 0x30) { c.cx = this.bda16(BDA.charHeight); c.dl = this.bda8(BDA.videoRows); }
        return;
      case 0x12:
        if (c.bl === 0x10) { c.bh = this.mode === 7 ? 1 : 0; c.bl = 0x03; c.cx = 0x0009; } // 256 KiB, switches
        return;
      case 0x13: this.writeString(c); return;
      case 0x1a:
        if (c.al === 0x00) { c.al = 0x1a; c.bx = this.mode === 7 ? 0x0007 : 0x0008; }
        return;
      default: return; // VBE (4Fh) and others: unsupported, AX unchanged
    }
  }

  /** AH=13h: write string ES:BP, CX chars, at DH,DL on page BH; AL bit 0 moves the cursor, bit 1 interleaves attributes. */
  private writeString(c: Ctx): void {
    const page = c.bh & 7, mode = c.al;
    const saved = this.cursor(page);
    this.setBda16(BDA.cursorPos + page * 2, (c.dh << 8) | c.dl);
    let p = c.lin(Seg.ES, c.bp);
    for (let i = 0; i < c.cx; i++) {
      const ch = c.read8(p++);
      let attr = c.bl;
      if (mode & 2) attr = c.read8(p++);
      if (ch === 7 || ch === 8 || ch === 10 || ch === 13) this.teletype(ch, page);
      else this.teletype(ch, page, attr);
    }
    if (!(mode & 1)) this.setCursor(page, saved[0], saved[1]);
  }
}

function range(a: number, b: number): number[] { const r: number[] = []; for (let i = a; i <= b; i++) r.push(i); return r; }
