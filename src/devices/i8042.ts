// Intel 8042 keyboard controller (ports 0x60 data, 0x64 status/command) with a PS/2 keyboard.
//
// The controller holds one output byte at a time (OBF); its own replies come first, then the
// keyboard's, then the aux port's. With command byte bit 6 set it translates the keyboard's
// scan code set 2 into set 1, as PCs do. The output port drives A20 (bit 1) and reset (bit 0).
// There is no mouse: commands for the aux device are answered with 0xFE.
// References: IBM PS/2 Technical Reference "Keyboard/Auxiliary Device Controller" (commands,
// status register, command byte, output port); IBM 101/102-key keyboard "Commands".

import type { IoBus } from '../bus/io.ts';
import type { IrqLine } from '../bus/interrupts.ts';
import { defineState, type StateDesc } from '../state/state.ts';
import type { A20Gate } from './a20.ts';
import { ByteFifo } from './fifo.ts';

// Status register
const OBF = 0x01, SYS = 0x04, CMD = 0x08, UNLOCKED = 0x10, AUXB = 0x20;
// Command byte
const KBD_INT = 0x01, AUX_INT = 0x02, SYS_FLAG = 0x04, KBD_DISABLED = 0x10, AUX_DISABLED = 0x20, TRANSLATE = 0x40;

/** Where the byte in the output buffer came from. */
const FROM_CONTROLLER = 0, FROM_KEYBOARD = 1, FROM_AUX = 2;

/** The 8042's set 2 → set 1 translation (bit 7 of the result is added for 0xF0-prefixed codes). */
const TRANSLATE_TABLE = new Uint8Array([
  0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
  0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
  0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
  0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
  0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
  0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
  0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
  0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
  0x80, 0x81, 0x82, 0x41, 0x54, 0x85, 0x86, 0x87,
  ...Array.from({ length: 0x78 }, (_, i) => 0x88 + i),
]);

/** Set 2 codes as set 1 (0xF0 xx becomes xx's set 1 code with bit 7 set). */
function toSet1(set2: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < set2.length; i++) {
    if (set2[i] === 0xf0) out.push(TRANSLATE_TABLE[set2[++i]] | 0x80);
    else out.push(TRANSLATE_TABLE[set2[i]]);
  }
  return out;
}

/** Set 2 make codes for typing text (US layout); `shift` marks characters that need Shift. */
const SET2_KEYS: Record<string, number> = {
  a: 0x1c, b: 0x32, c: 0x21, d: 0x23, e: 0x24, f: 0x2b, g: 0x34, h: 0x33, i: 0x43, j: 0x3b, k: 0x42, l: 0x4b,
  m: 0x3a, n: 0x31, o: 0x44, p: 0x4d, q: 0x15, r: 0x2d, s: 0x1b, t: 0x2c, u: 0x3c, v: 0x2a, w: 0x1d, x: 0x22,
  y: 0x35, z: 0x1a, '1': 0x16, '2': 0x1e, '3': 0x26, '4': 0x25, '5': 0x2e, '6': 0x36, '7': 0x3d, '8': 0x3e,
  '9': 0x46, '0': 0x45, '-': 0x4e, '=': 0x55, '[': 0x54, ']': 0x5b, '\\': 0x5d, ';': 0x4c, "'": 0x52,
  '`': 0x0e, ',': 0x41, '.': 0x49, '/': 0x4a, ' ': 0x29, '\t': 0x0d, '\n': 0x5a, '\r': 0x5a, '\b': 0x66,
  '\x1b': 0x76,
};
const SHIFTED = '!@#$%^&*()_+{}|:"~<>?';
const UNSHIFTED = '1234567890-=[]\\;\'`,./';
const LEFT_SHIFT = 0x12;

/** A PS/2 keyboard: answers commands from the controller and queues scan codes for it. */
export class PS2Keyboard {
  readonly queue = new ByteFifo(256);
  scanning = true;
  scanSet = 2;
  leds = 0;
  typematic = 0x0b;
  pendingCommand = 0;   // a command waiting for its parameter byte (0 = none)
  lastSent = 0;

  static readonly state: StateDesc = defineState('ps2-keyboard', 1, {
    queue: { struct: ByteFifo.state(256) }, scanning: 'bool', scanSet: { type: 'u8', max: 3 }, leds: 'u8',
    typematic: 'u8', pendingCommand: 'u8', lastSent: 'u8',
  });

  /** Called when bytes were queued, so the controller can pick them up. */
  constructor(private readonly dataReady: () => void) {}

  reset(): void {
    this.queue.clear();
    this.scanning = true; this.scanSet = 2; this.leds = 0; this.typematic = 0x0b; this.pendingCommand = 0;
  }

  private send(...bytes: number[]): void {
    for (const b of bytes) this.queue.push(b);
    this.dataReady();
  }

  /** Key codes as the keyboard sends them (set 2 unless the guest chose another set). Dropped while scanning is off. */
  sendScancodes(bytes: ArrayLike<number>): void {
    if (!this.scanning) return;
    for (let i = 0; i < bytes.length; i++) this.queue.push(bytes[i] & 0xff);
    this.dataReady();
  }

  /**
   * Type ASCII text as make/break codes of the keyboard's scan code set (2, or 1 if the guest
   * switched to it), with Shift where needed. Characters with no key are skipped.
   */
  typeText(text: string): void {
    const codes: number[] = [];
    for (const ch of text) {
      let key = ch.toLowerCase(), shift = ch !== key;
      const s = SHIFTED.indexOf(ch);
      if (s >= 0) { key = UNSHIFTED[s]; shift = true; }
      const code = SET2_KEYS[key];
      if (code === undefined) continue;
      if (shift) codes.push(LEFT_SHIFT);
      codes.push(code, 0xf0, code);
      if (shift) codes.push(0xf0, LEFT_SHIFT);
    }
    this.sendScancodes(this.scanSet === 1 ? toSet1(codes) : codes);
  }

  /** A byte from the controller (port 0x60 write with no controller command pending). */
  write(v: number): void {
    const ACK = 0xfa;
    if (this.pendingCommand) {
      const cmd = this.pendingCommand;
      this.pendingCommand = 0;
      if (cmd === 0xed) { this.leds = v & 7; this.send(ACK); return; }
      if (cmd === 0xf3) { this.typematic = v & 0x7f; this.send(ACK); return; }
      if (cmd === 0xf0) {
        if (v === 0) this.send(ACK, this.scanSet);
        else if (v <= 3) { this.scanSet = v; this.send(ACK); }
        else this.send(0xfe);
        return;
      }
    }
    switch (v) {
      case 0xff: // reset: ACK, then the basic assurance test passes
        this.reset();
        this.send(ACK, 0xaa);
        break;
      case 0xfe: this.send(this.lastSent); break;
      case 0xf6: this.scanning = true; this.scanSet = 2; this.typematic = 0x0b; this.leds = 0; this.send(ACK); break;
      case 0xf5: this.scanning = false; this.scanSet = 2; this.typematic = 0x0b; this.leds = 0; this.send(ACK); break;
      case 0xf4: this.queue.clear(); this.scanning = true; this.send(ACK); break;
      case 0xf2: this.send(ACK, 0xab, 0x83); break; // MF2 keyboard
      case 0xee: this.send(0xee); break;           // echo
      case 0xed: case 0xf3: case 0xf0: this.pendingCommand = v; this.send(ACK); break;
      case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd: this.send(ACK); break;
      default: this.send(0xfe);
    }
  }

  /** The controller takes the next byte. */
  take(): number {
    const v = this.queue.shift();
    if (v >= 0) this.lastSent = v;
    return v;
  }
}

export class I8042 {
  readonly keyboard: PS2Keyboard;
  /** Controller replies, ahead of device data. */
  readonly replies = new ByteFifo(4);
  /** Bytes for the aux port's side of the output buffer (0xD3 and aux errors). */
  readonly auxQueue = new ByteFifo(4);
  status = UNLOCKED;
  commandByte = KBD_INT | SYS_FLAG | TRANSLATE;
  outputPort = 0xcf;          // bit 0: not in reset; bit 1: A20; 6-7: keyboard clock and data idle high
  output = 0;                 // the output buffer
  outputFrom = FROM_CONTROLLER;
  pendingCommand = 0;         // controller command waiting for a data byte
  releasePending = false;     // translation: a 0xF0 prefix was seen
  ram = new Uint8Array(32);   // internal RAM 0x00-0x1F (byte 0 is the command byte)

  readonly stateDesc: StateDesc = defineState('i8042', 1, {
    keyboard: { struct: PS2Keyboard.state }, replies: { struct: ByteFifo.state(4) }, auxQueue: { struct: ByteFifo.state(4) },
    status: 'u8', commandByte: 'u8', outputPort: 'u8', output: 'u8', outputFrom: { type: 'u8', max: 2 },
    pendingCommand: 'u8', releasePending: 'bool', ram: { bytes: 32 },
  }, { postLoad: (k: I8042) => { k.a20.set('keyboard', (k.outputPort & 2) !== 0); k.updateIrqs(); } });

  constructor(io: IoBus, private readonly irq1: IrqLine, private readonly irq12: IrqLine,
    private readonly a20: A20Gate, private readonly onReset: () => void) {
    this.keyboard = new PS2Keyboard(() => this.fill());
    io.map(0x60, 0x60, { read8: () => this.readData(), write8: (_p, v) => this.writeData(v) });
    io.map(0x64, 0x64, { read8: () => this.status, write8: (_p, v) => this.writeCommand(v) });
    this.reset();
  }

  reset(): void {
    this.keyboard.reset();
    this.replies.clear(); this.auxQueue.clear();
    this.status = UNLOCKED;
    this.commandByte = KBD_INT | SYS_FLAG | TRANSLATE;
    this.outputPort = 0xcf; // running, A20 on (see a20.ts)
    this.a20.set('keyboard', true);
    this.pendingCommand = 0; this.releasePending = false;
    this.ram.fill(0);
    this.updateIrqs();
  }

  // ---- output buffer ----

  /** Move the next available byte into an empty output buffer. */
  private fill(): void {
    if (this.status & OBF) return;
    let v = this.replies.shift(), from = FROM_CONTROLLER;
    if (v < 0 && !(this.commandByte & KBD_DISABLED)) {
      while ((v = this.keyboard.take()) >= 0) {
        if (!(this.commandByte & TRANSLATE)) break;
        if (v === 0xf0) { this.releasePending = true; continue; } // swallowed; sets bit 7 of the next code
        v = TRANSLATE_TABLE[v] | (this.releasePending ? 0x80 : 0);
        this.releasePending = false;
        break;
      }
      from = FROM_KEYBOARD;
    }
    if (v < 0 && !(this.commandByte & AUX_DISABLED)) { v = this.auxQueue.shift(); from = FROM_AUX; }
    if (v < 0) return;
    this.output = v;
    this.outputFrom = from;
    this.status = (this.status | OBF) & ~AUXB | (from === FROM_AUX ? AUXB : 0);
    this.updateIrqs();
  }

  private updateIrqs(): void {
    const full = (this.status & OBF) !== 0;
    if (full && this.outputFrom !== FROM_AUX && this.commandByte & KBD_INT) this.irq1.raise(); else this.irq1.lower();
    if (full && this.outputFrom === FROM_AUX && this.commandByte & AUX_INT) this.irq12.raise(); else this.irq12.lower();
  }

  private reply(v: number): void {
    this.replies.push(v);
    this.fill();
  }

  private readData(): number {
    const v = this.output;
    if (this.status & OBF) {
      this.status &= ~(OBF | AUXB);
      this.updateIrqs();
      this.fill();
    }
    return v;
  }

  // ---- input ----

  private writeData(v: number): void {
    this.status &= ~CMD;
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    switch (cmd) {
      case 0: // to the keyboard; writing enables it
        this.commandByte &= ~KBD_DISABLED;
        this.keyboard.write(v);
        return;
      case 0x60: this.setCommandByte(v); return;
      case 0xd1: this.writeOutputPort(v); return;
      case 0xd2: this.reply(v); return; // as if from the keyboard, untranslated (as QEMU does)
      case 0xd3: this.auxQueue.push(v); this.fill(); return;
      case 0xd4: this.auxQueue.push(0xfe); this.fill(); return; // no aux device
      default:
        if (cmd > 0x60 && cmd < 0x80) this.ram[cmd & 0x1f] = v;
    }
  }

  private setCommandByte(v: number): void {
    this.commandByte = v;
    this.ram[0] = v;
    this.status = (this.status & ~SYS) | (v & SYS_FLAG ? SYS : 0);
    this.updateIrqs();
    this.fill();
  }

  private writeOutputPort(v: number): void {
    this.outputPort = v;
    this.a20.set('keyboard', (v & 2) !== 0);
    if (!(v & 1)) this.onReset(); // bit 0 low holds the CPU in reset
  }

  private writeCommand(v: number): void {
    this.status |= CMD;
    if (v >= 0x20 && v < 0x40) { this.reply(v === 0x20 ? this.commandByte : this.ram[v & 0x1f]); return; }
    if (v >= 0x60 && v < 0x80) { this.pendingCommand = v; return; }
    if (v >= 0xf0) {
      // Pulse output port bits 0-3 low for 6 us: bit 0 is the CPU reset line.
      if (!(v & 1)) this.onReset();
      return;
    }
    switch (v) {
      case 0xa7: this.commandByte |= AUX_DISABLED; break;
      case 0xa8: this.commandByte &= ~AUX_DISABLED; this.fill(); break;
      case 0xa9: this.reply(0x00); break;                     // aux interface test: OK
      case 0xaa:                                              // self test
        this.status |= SYS;
        this.reply(0x55);
        break;
      case 0xab: this.reply(0x00); break;                     // keyboard interface test: OK
      case 0xad: this.commandByte |= KBD_DISABLED; break;
      case 0xae: this.commandByte &= ~KBD_DISABLED; this.fill(); break;
      case 0xc0: this.reply(0xa0); break;                     // input port: keyboard not inhibited, no jumper
      case 0xd0: { // bits 4/5 show the output buffer full for keyboard / aux
        const full = this.status & OBF ? (this.status & AUXB ? 0x20 : 0x10) : 0;
        this.reply((this.outputPort & ~0x30) | full);
        break;
      }
      case 0xd1: case 0xd2: case 0xd3: case 0xd4: this.pendingCommand = v; break;
      case 0xdd: this.writeOutputPort(this.outputPort & ~2); break; // A20 off
      case 0xdf: this.writeOutputPort(this.outputPort | 2); break;  // A20 on
      case 0xe0: this.reply(0x00); break;                     // test inputs
      default: break;                                         // unknown commands are ignored
    }
  }
}
