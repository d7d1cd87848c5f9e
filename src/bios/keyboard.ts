// The keyboard: INT 09h turns scan codes (set 1, as the 8042 translates them) into key words
// in the BDA's circular buffer; INT 16h reads them.

import { BDA, type Ctx } from './context.ts';

// US layout, scan codes 00h-39h: unshifted and shifted characters ('\0' = no character).
const NORMAL = '\0\x1b1234567890-=\b\tqwertyuiop[]\r\0asdfghjkl;\'`\0\\zxcvbnm,./\0*\0 ';
const SHIFTED = '\0\x1b!@#$%^&*()_+\b\tQWERTYUIOP{}\r\0ASDFGHJKL:"~\0|ZXCVBNM<>?\0*\0 ';
const KEYPAD = '789-456+1230.'; // scan codes 47h-53h with Num Lock

// Shift-state bits in BDA 17h.
const RSHIFT = 0x01, LSHIFT = 0x02, CTRL = 0x04, ALT = 0x08, SCROLL = 0x10, NUM = 0x20, CAPS = 0x40, INSERT = 0x80;
const E0_PREFIX = 0x02; // BDA 96h: last code was E0h

export class Keyboard {
  /** INT 09h after INT 15h/4Fh passed the code on: AL = scan code. */
  int09(c: Ctx): void {
    const code = c.al;
    if (code === 0xe0) { c.setBda8(BDA.kbdFlags3, c.bda8(BDA.kbdFlags3) | E0_PREFIX); return; }
    const extended = (c.bda8(BDA.kbdFlags3) & E0_PREFIX) !== 0;
    c.setBda8(BDA.kbdFlags3, c.bda8(BDA.kbdFlags3) & ~E0_PREFIX);
    const release = (code & 0x80) !== 0, key = code & 0x7f;
    let flags = c.bda8(BDA.kbdFlags);
    const modifier = key === 0x2a ? LSHIFT : key === 0x36 ? RSHIFT : key === 0x1d ? CTRL : key === 0x38 ? ALT : 0;
    if (modifier) {
      if (!(extended && (key === 0x2a || key === 0x36))) flags = release ? flags & ~modifier : flags | modifier;
      c.setBda8(BDA.kbdFlags, flags);
      return;
    }
    if (release) return;
    const toggle = key === 0x3a ? CAPS : key === 0x45 ? NUM : key === 0x46 ? SCROLL : 0;
    if (toggle) { c.setBda8(BDA.kbdFlags, flags ^ toggle); return; }
    if (key === 0x52) c.setBda8(BDA.kbdFlags, flags ^ INSERT);
    const word = this.keyWord(key, flags, extended);
    if (word >= 0) this.push(c, word);
  }

  private keyWord(key: number, flags: number, extended: boolean): number {
    const shift = (flags & (LSHIFT | RSHIFT)) !== 0;
    if (extended) {
      if (key === 0x1c) return 0xe00d;        // keypad Enter
      if (key === 0x35) return 0xe02f;        // keypad /
      return (key << 8) | 0xe0;                // cursor block: ASCII E0h marks enhanced keys
    }
    if (key >= 0x47 && key <= 0x53) {
      const ch = KEYPAD.charCodeAt(key - 0x47);
      if (((flags & NUM) !== 0) !== shift || ch === 0x2d || ch === 0x2b) return (key << 8) | ch;
      return key << 8;
    }
    if (key >= 0x3b && key <= 0x44) {          // F1-F10
      if (flags & ALT) return (key + 0x2d) << 8;
      if (flags & CTRL) return (key + 0x23) << 8;
      if (shift) return (key + 0x19) << 8;
      return key << 8;
    }
    if (key === 0x57 || key === 0x58) return (key + 0x2e) << 8; // F11/F12 (enhanced)
    if (key >= NORMAL.length) return -1;
    let ch = (shift ? SHIFTED : NORMAL).charCodeAt(key);
    if (ch === 0) return -1;
    const letter = (ch | 0x20) >= 0x61 && (ch | 0x20) <= 0x7a;
    if (letter && (flags & CAPS)) ch ^= 0x20;
    if (flags & ALT) return key << 8;
    if (flags & CTRL) {
      if (letter) return (key << 8) | (ch & 0x1f);
      if (ch === 0x0d) return (key << 8) | 0x0a;
      return -1;
    }
    return (key << 8) | ch;
  }

  /** Append a key word to the circular buffer; false when it is full. */
  push(c: Ctx, word: number): boolean {
    const start = c.bda16(BDA.kbdBufStart) || 0x1e, end = c.bda16(BDA.kbdBufEnd) || 0x3e;
    const tail = c.bda16(BDA.kbdTail);
    let next = tail + 2;
    if (next >= end) next = start;
    if (next === c.bda16(BDA.kbdHead)) return false;
    c.cpu.mem.write16(0x400 + tail, word);
    c.setBda16(BDA.kbdTail, next);
    return true;
  }

  private peek(c: Ctx): number {
    const head = c.bda16(BDA.kbdHead);
    return head === c.bda16(BDA.kbdTail) ? -1 : c.cpu.mem.read16(0x400 + head);
  }
  private pop(c: Ctx): void {
    const start = c.bda16(BDA.kbdBufStart) || 0x1e, end = c.bda16(BDA.kbdBufEnd) || 0x3e;
    let head = c.bda16(BDA.kbdHead) + 2;
    if (head >= end) head = start;
    c.setBda16(BDA.kbdHead, head);
  }

  int16(c: Ctx): void {
    const fn = c.ah;
    const enhanced = fn >= 0x10;
    const legacy = (w: number) => ((w & 0xff) === 0xe0 && w > 0xff ? w & 0xff00 : w);
    switch (fn) {
      case 0x00: case 0x10: {
        const w = this.peek(c);
        if (w < 0) { c.wait(); return; }
        this.pop(c);
        c.ax = enhanced ? w : legacy(w);
        return;
      }
      case 0x01: case 0x11: {
        const w = this.peek(c);
        if (w < 0) { c.zero(true); return; }
        c.ax = enhanced ? w : legacy(w);
        c.zero(false);
        return;
      }
      case 0x02: c.al = c.bda8(BDA.kbdFlags); return;
      case 0x12: c.al = c.bda8(BDA.kbdFlags); c.ah = c.bda8(BDA.kbdFlags2); return;
      case 0x03: return; // typematic rate: nothing to set on an emulated keyboard
      case 0x05: c.al = this.push(c, c.cx) ? 0 : 1; return;
      case 0x09: c.al = 0x20; return; // capabilities: 16h/10h-12h (enhanced keyboard) supported
      case 0x0a: c.bx = 0x41ab; return; // MF2 keyboard with translation
      default: return;
    }
  }
}
