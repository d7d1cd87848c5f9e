// National Semiconductor PC16550D UART (the 16550A): 8 registers at `base`, one IRQ line.
//
// Reception is paced in virtual time: host input waits in a queue and enters the receiver
// one character time apart (start + data + parity + stop bits at the divisor's baud rate),
// so FIFO trigger levels and the character timeout behave as on the wire. Transmission is
// instantaneous by default (a guest polling THRE at 115200 baud would otherwise spin for
// ~87 us of virtual time per byte); `paceTransmit` makes it take real character times.
// Back-pressure, never loss: when the backend cannot take a byte, it stays in the transmitter
// (THRE and TEMT clear, as on a wire held by flow control) until the backend drains; host input
// waits in an unbounded queue and the backend is asked to pause once the queue is long.
// Carrier: the backend's peer presence shows as DCD, DSR and CTS, with their delta bits and
// the modem-status interrupt when it changes.
// PC wiring: the IRQ reaches the PIC only while MCR OUT2 is set.
// References: PC16550D datasheet, section 8 "Registers" (8.4 FCR, 8.5 IIR with table 4,
// 8.6 LCR, 8.7 MCR, 8.8 LSR, 8.9 MSR), and 8.10 "FIFO interrupt mode operation".

import type { IoBus } from '../bus/io.ts';
import type { IrqLine } from '../bus/interrupts.ts';
import type { Scheduler, Timer } from '../machine/clock.ts';
import { defineState, type StateDesc } from '../state/state.ts';
import type { CharBackend } from './char-backend.ts';
import { ByteFifo } from './fifo.ts';

/** Standard PC serial ports. */
export const COM_PORTS = [
  { base: 0x3f8, irq: 4 }, { base: 0x2f8, irq: 3 }, { base: 0x3e8, irq: 4 }, { base: 0x2e8, irq: 3 },
] as const;

// IER
const ERBFI = 0x01, ETBEI = 0x02, ELSI = 0x04, EDSSI = 0x08;
// IIR identifiers (table 4), highest priority first
const IIR_NONE = 0x01, IIR_LINE = 0x06, IIR_RX = 0x04, IIR_TIMEOUT = 0x0c, IIR_THRE = 0x02, IIR_MODEM = 0x00, IIR_FIFO = 0xc0;
// LCR
const DLAB = 0x80, BREAK = 0x40;
// MCR
const DTR = 0x01, RTS = 0x02, OUT1 = 0x04, OUT2 = 0x08, LOOP = 0x10;
// LSR
const DR = 0x01, OE = 0x02, PE = 0x04, FE = 0x08, BI = 0x10, THRE = 0x20, TEMT = 0x40, RXFE = 0x80;
// MSR
const CTS = 0x10, DSR = 0x20, RI = 0x40, DCD = 0x80, TERI = 0x04;

const UART_CLOCK_HZ = 1843200;
/** Host input queued beyond this asks the backend to pause; at or below the low mark it resumes. */
const INPUT_HIGH_WATER = 16384, INPUT_LOW_WATER = 4096;

/** Host input waiting for the wire: chunks as they came, consumed a byte at a time; never full. */
class InputQueue {
  private chunks: Uint8Array[] = [];
  private pos = 0;
  length = 0;
  get empty(): boolean { return this.length === 0; }
  push(bytes: Uint8Array): void { this.chunks.push(bytes.slice()); this.length += bytes.length; }
  shift(): number {
    const c = this.chunks[0];
    const v = c[this.pos++];
    this.length--;
    if (this.pos === c.length) { this.chunks.shift(); this.pos = 0; }
    return v;
  }
}
const TRIGGER_LEVELS = [1, 4, 8, 14];

export interface UartOptions {
  /** Make each transmitted character take its time on the wire (default false). */
  paceTransmit?: boolean;
  /** Section name for saved states when there are several ports (default "uart@<base>"). */
  name?: string;
}

export class Uart {
  readonly rx = new ByteFifo(16);
  readonly tx = new ByteFifo(17); // 16 in the FIFO + the shift register
  /** Host input not yet on the wire (not part of the saved state). */
  private readonly input = new InputQueue();
  private inputPaused = false;
  private peerConnected = true;
  private backend: CharBackend;
  ier = 0;
  lcr = 0x03;
  mcr = 0;
  lsr = 0;             // error bits (OE PE FE BI); DR, THRE, TEMT, RXFE are computed
  msr = 0;             // delta bits; line bits computed
  scr = 0;
  divisor = 12;        // 9600 baud
  fifoEnabled = false;
  triggerLevel = 1;
  threPending = false; // THRE interrupt armed (datasheet 8.5: cleared by IIR read or THR write)
  timeoutPending = false;
  transmitting = false; // a character is in the transmitter shift register
  breakInFifo = false;  // LSR bit 7 source
  private readonly rxTimer: Timer;
  private readonly txTimer: Timer;
  private readonly timeoutTimer: Timer;
  private readonly paceTransmit: boolean;

  readonly stateDesc: StateDesc;

  constructor(io: IoBus, readonly base: number, private readonly irq: IrqLine, private readonly scheduler: Scheduler,
    backend: CharBackend, options: UartOptions = {}) {
    this.backend = backend;
    this.paceTransmit = options.paceTransmit ?? false;
    this.stateDesc = defineState(options.name ?? `uart@${base.toString(16)}`, 1, {
      rx: { struct: ByteFifo.state(16) }, tx: { struct: ByteFifo.state(17) }, ier: { type: 'u8', max: 0x0f }, lcr: 'u8',
      mcr: { type: 'u8', max: 0x1f }, lsr: 'u8', msr: 'u8', scr: 'u8', divisor: 'u16', fifoEnabled: 'bool',
      triggerLevel: { type: 'u8', max: 14 }, threPending: 'bool', timeoutPending: 'bool', transmitting: 'bool',
      breakInFifo: 'bool', rxTimer: 'timer', txTimer: 'timer', timeoutTimer: 'timer',
    }, { postLoad: (u: Uart) => { u.txStalled = u.paceTransmit && u.transmitting && !u.txTimer.armed; u.pumpTransmit(u.scheduler.now()); u.updateIrq(); } });
    this.rxTimer = scheduler.createTimer(`uart${base.toString(16)}-rx`, at => this.receiveNext(at));
    this.txTimer = scheduler.createTimer(`uart${base.toString(16)}-tx`, at => this.transmitDone(at));
    this.timeoutTimer = scheduler.createTimer(`uart${base.toString(16)}-timeout`, () => { this.timeoutPending = true; this.updateIrq(); });
    io.map(base, base + 7, { read8: p => this.read(p - base), write8: (p, v) => this.write(p - base, v) });
    this.connectBackend(backend);
  }

  /**
   * Put another backend on the line (the old one is the caller's to close). Host input still
   * queued from the old one is kept; the guest sees carrier follow the new backend.
   */
  setBackend(backend: CharBackend): void {
    if (this.inputPaused) { this.backend.resumeInput?.(); this.inputPaused = false; }
    this.backend = backend;
    this.connectBackend(backend);
    this.backendStatus();
  }

  private connectBackend(backend: CharBackend): void {
    backend.onReceive(bytes => { if (this.backend === backend) this.hostInput(bytes); });
    backend.onStatus?.(() => { if (this.backend === backend) this.backendStatus(); });
    this.peerConnected = backend.connected?.() ?? true;
  }

  /** The backend drained or its peer came or went. */
  private backendStatus(): void {
    const before = this.modemStatus;
    this.peerConnected = this.backend.connected?.() ?? true;
    const changed = before ^ this.modemStatus;
    this.msr |= (changed & CTS ? 0x01 : 0) | (changed & DSR ? 0x02 : 0) | (changed & DCD ? 0x08 : 0);
    this.pumpTransmit(this.scheduler.now());
    this.updateIrq();
  }

  /** Host input bytes not yet received by the guest. */
  get pendingInput(): number { return this.input.length; }

  reset(): void {
    this.rx.clear(); this.tx.clear();
    this.ier = 0; this.lcr = 0x03; this.mcr = 0; this.lsr = 0; this.msr = 0; this.scr = 0; this.divisor = 12;
    this.fifoEnabled = false; this.triggerLevel = 1; this.threPending = false; this.timeoutPending = false;
    this.transmitting = false; this.txStalled = false; this.breakInFifo = false;
    this.txTimer.disarm(); this.timeoutTimer.disarm();
    this.updateIrq();
  }

  /** Virtual ns one character takes on the wire at the current divisor and frame format. */
  get charTimeNs(): number {
    const dataBits = 5 + (this.lcr & 3);
    const stopBits = this.lcr & 0x04 ? (dataBits === 5 ? 1.5 : 2) : 1;
    const bits = 1 + dataBits + (this.lcr & 0x08 ? 1 : 0) + stopBits;
    return Math.ceil((bits * (this.divisor || 0x10000) * 16 * 1e9) / UART_CLOCK_HZ);
  }

  get loopback(): boolean { return (this.mcr & LOOP) !== 0; }

  // ---- interrupts ----

  /** The IIR identification: the highest-priority pending source (datasheet table 4). */
  private interruptId(): number {
    const ier = this.ier;
    if (ier & ELSI && this.lsr & (OE | PE | FE | BI)) return IIR_LINE;
    if (ier & ERBFI) {
      if (this.rx.count >= (this.fifoEnabled ? this.triggerLevel : 1)) return IIR_RX;
      if (this.timeoutPending) return IIR_TIMEOUT;
    }
    if (ier & ETBEI && this.threPending) return IIR_THRE;
    if (ier & EDSSI && this.msr & 0x0f) return IIR_MODEM;
    return IIR_NONE;
  }

  private updateIrq(): void {
    if (this.interruptId() !== IIR_NONE && this.mcr & OUT2) this.irq.raise();
    else this.irq.lower();
  }

  // ---- receiver ----

  private hostInput(bytes: Uint8Array): void {
    if (!bytes.length) return;
    this.input.push(bytes);
    if (this.input.length >= INPUT_HIGH_WATER && !this.inputPaused) { this.inputPaused = true; this.backend.pauseInput?.(); }
    if (!this.rxTimer.armed) this.rxTimer.arm(this.scheduler.now() + this.charTimeNs);
  }

  /** One character time has passed: the next host byte arrives (unless in loopback). */
  private receiveNext(at: number): void {
    if (this.input.empty) return;
    // Loopback disconnects the receiver from the line. A full receiver holds the sender off,
    // as flow control would, so that pasted input is not lost to overruns.
    const room = this.fifoEnabled ? !this.rx.full : this.rx.empty;
    if (!this.loopback && room) this.receive(this.input.shift());
    if (this.inputPaused && this.input.length <= INPUT_LOW_WATER) { this.inputPaused = false; this.backend.resumeInput?.(); }
    if (!this.input.empty) this.rxTimer.arm(at + this.charTimeNs);
  }

  /** A character completes in the receiver shift register. */
  private receive(byte: number): void {
    const b = byte & ((1 << (5 + (this.lcr & 3))) - 1);
    if (this.fifoEnabled) {
      if (!this.rx.push(b)) this.lsr |= OE;       // the FIFO keeps its bytes; the new one is lost
    } else {
      if (!this.rx.empty) { this.lsr |= OE; this.rx.clear(); } // RBR overwritten (16450)
      this.rx.push(b);
    }
    this.restartTimeout();
    this.updateIrq();
  }

  /** The other end sends a break: a zero character with BI set. */
  receiveBreak(): void {
    this.lsr |= BI;
    this.breakInFifo = this.fifoEnabled;
    if (this.fifoEnabled) this.rx.push(0); else { this.rx.clear(); this.rx.push(0); }
    this.restartTimeout();
    this.updateIrq();
  }

  /** Character timeout (FIFO mode): 4 character times with no input and no reads. */
  private restartTimeout(): void {
    this.timeoutPending = false;
    if (this.fifoEnabled && !this.rx.empty) this.timeoutTimer.arm(this.scheduler.now() + 4 * this.charTimeNs);
    else this.timeoutTimer.disarm();
  }

  // ---- transmitter ----

  private writeThr(v: number): void {
    this.threPending = false;
    // Holding capacity: the FIFO, or THR alone, besides the byte in the shift register.
    if (this.tx.count < (this.fifoEnabled ? 16 : 1) + (this.transmitting ? 1 : 0)) this.tx.push(v);
    this.pumpTransmit(this.scheduler.now(), true);
    this.updateIrq();
  }

  /** Whether the line can take the next character now (loopback always can). */
  private get lineReady(): boolean { return this.loopback || (this.backend.writable?.() ?? true); }

  /** Move bytes from THR/FIFO onto the line as far as pacing and back-pressure allow. */
  private pumpTransmit(now: number, fromWrite = false): void {
    if (this.paceTransmit) {
      if (this.txStalled && this.lineReady) { this.txStalled = false; this.transmitDone(now); }
      else if (!this.transmitting && !this.tx.empty) this.startTransmit(now);
      return;
    }
    if (this.tx.empty) return;
    const before = this.tx.count;
    while (!this.tx.empty && this.lineReady) this.emit(this.tx.shift());
    // A held byte sits in the shift register; THR is empty once nothing else waits behind it.
    this.transmitting = !this.tx.empty;
    if (this.tx.count <= 1 && (this.tx.count < before || fromWrite)) this.threPending = true;
  }

  private startTransmit(now: number): void {
    this.transmitting = true;
    this.txTimer.arm(now + this.charTimeNs);
    // The byte moves from THR/FIFO into the shift register at once: THR may now be empty.
    if (this.tx.count === 1) this.threPending = true;
  }

  /** The character in the shift register has had its time on the wire. */
  private txStalled = false;
  private transmitDone(at: number): void {
    if (!this.lineReady) { this.txStalled = true; return; } // held until the backend drains
    this.emit(this.tx.shift());
    this.transmitting = false;
    if (!this.tx.empty) this.startTransmit(at);
    this.updateIrq();
  }

  private emit(byte: number): void {
    if (this.loopback) this.receive(byte);
    else this.backend.write(byte);
  }

  // ---- registers ----

  private get lineStatus(): number {
    let v = this.lsr & (OE | PE | FE | BI);
    if (!this.rx.empty) v |= DR;
    if (this.tx.count <= (this.transmitting ? 1 : 0)) v |= THRE;
    if (this.tx.empty) v |= TEMT;
    if (this.fifoEnabled && this.breakInFifo) v |= RXFE;
    return v;
  }

  private get modemStatus(): number {
    let lines: number;
    if (this.loopback) {
      // Loopback: RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD (datasheet 8.7).
      const m = this.mcr;
      lines = (m & RTS ? CTS : 0) | (m & DTR ? DSR : 0) | (m & OUT1 ? RI : 0) | (m & OUT2 ? DCD : 0);
    } else {
      lines = this.peerConnected ? CTS | DSR | DCD : 0; // a peer is attached and ready
    }
    return lines | (this.msr & 0x0f);
  }

  read(reg: number): number {
    switch (reg) {
      case 0: {
        if (this.lcr & DLAB) return this.divisor & 0xff;
        const v = this.rx.shift();
        if (this.rx.empty) this.breakInFifo = false;
        this.restartTimeout();
        this.updateIrq();
        return v < 0 ? 0 : v;
      }
      case 1: return this.lcr & DLAB ? this.divisor >> 8 : this.ier;
      case 2: {
        const id = this.interruptId();
        if (id === IIR_THRE) { this.threPending = false; this.updateIrq(); } // reading IIR clears THRE
        return id | (this.fifoEnabled ? IIR_FIFO : 0);
      }
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: {
        const v = this.lineStatus;
        this.lsr &= ~(OE | PE | FE | BI);
        this.updateIrq();
        return v;
      }
      case 6: {
        const v = this.modemStatus;
        this.msr &= ~0x0f;
        this.updateIrq();
        return v;
      }
      default: return this.scr;
    }
  }

  write(reg: number, v: number): void {
    switch (reg) {
      case 0:
        if (this.lcr & DLAB) this.divisor = (this.divisor & 0xff00) | v;
        else this.writeThr(v);
        return;
      case 1:
        if (this.lcr & DLAB) { this.divisor = (this.divisor & 0xff) | (v << 8); return; }
        // Enabling ETBEI with THR empty raises THRE at once.
        if (v & ETBEI && !(this.ier & ETBEI) && this.lineStatus & THRE) this.threPending = true;
        this.ier = v & 0x0f;
        break;
      case 2: {
        const enable = (v & 0x01) !== 0;
        if (enable !== this.fifoEnabled) { this.rx.clear(); this.tx.clear(); this.fifoEnabled = enable; this.transmitting = false; this.txStalled = false; this.txTimer.disarm(); }
        if (!enable) { this.restartTimeout(); break; } // other bits are programmed only with bit 0 set
        if (v & 0x02) { this.rx.clear(); this.breakInFifo = false; }
        if (v & 0x04) { this.tx.clear(); if (this.transmitting) { this.transmitting = false; this.txStalled = false; this.txTimer.disarm(); } }
        this.triggerLevel = TRIGGER_LEVELS[v >> 6];
        this.restartTimeout();
        break;
      }
      case 3: this.lcr = v; return;
      case 4: {
        const before = this.modemStatus;
        this.mcr = v & 0x1f;
        const after = this.modemStatus;
        // Delta bits: CTS, DSR, DCD on any change; TERI when RI goes from on to off.
        const changed = before ^ after;
        this.msr |= (changed & CTS ? 0x01 : 0) | (changed & DSR ? 0x02 : 0) | (changed & DCD ? 0x08 : 0) |
          (before & RI && !(after & RI) ? TERI : 0);
        if (this.mcr & LOOP && this.lcr & BREAK) this.lsr |= BI;
        break;
      }
      case 5: return; // LSR is read-only (factory test)
      case 6: return;
      default: this.scr = v; return;
    }
    this.updateIrq();
  }
}
