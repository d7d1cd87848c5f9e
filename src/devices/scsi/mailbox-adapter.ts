// The host adapter interface Adaptec's AHA-154x introduced and BusLogic's MultiMaster boards
// (BT-54x ... BT-958) extended, shared by both models here: four I/O registers, host adapter
// commands written byte by byte through the command/parameter register, and SCSI commands
// in command control blocks (CCBs) that the driver hands over through mailboxes in memory.
//
// Registers (offsets from the base; AHA-154x technical reference, BusLogic's MultiMaster
// technical reference, and their use by Linux's aha1542.c and BusLogic.c):
//   +0 write  control:  bit 7 hard reset, 6 soft reset, 5 interrupt reset, 4 SCSI bus reset
//   +0 read   status:   bit 7 diagnostic active, 6 diagnostic failure, 5 mailbox initialization
//                       required, 4 host adapter ready (idle), 3 command/parameter register
//                       busy, 2 data-in register ready, 1 reserved, 0 invalid command
//   +1 write  command/parameter;  +1 read data-in (command replies)
//   +2 read   interrupt: bit 7 any interrupt, 3 SCSI reset detected, 2 host adapter command
//                       complete, 1 outgoing mailbox available, 0 incoming mailbox loaded
//   +3 read   BusLogic only: the geometry register (an AHA-154x leaves it floating)
//
// A host adapter command is an opcode followed by its parameter bytes; the reply comes back
// one byte per read of the data-in register; the command complete interrupt follows its last
// parameter (no reply) or its last reply byte. An unknown opcode or bad parameter sets
// "invalid command" and completes at once. START MAILBOX COMMAND (02h) completes without an
// interrupt: the adapter scans the outgoing mailboxes.
//
// Mailboxes: `count` outgoing mailboxes at the base address followed by `count` incoming.
// 24-bit mode (command 01h; every AHA-154x and BusLogic): 4 bytes each, byte 0 the action or
// completion code and bytes 1-3 the CCB's big-endian address. 32-bit mode (BusLogic command
// 81h): 8 bytes each, the CCB's little-endian address, then (incoming) the host adapter
// status, target status and, in byte 7, the action or completion code.
// Work is done at once, inside the port write that starts it: the adapter takes each
// outgoing mailbox with a command in round-robin order, runs its CCB to the end and posts the
// incoming mailbox. An incoming mailbox still in use holds further work back until the driver
// frees it and resets the interrupt (or starts another mailbox command).

import { defineState, type FieldSpec, type StateDesc } from '../../state/state.ts';
import {
  ArrayDataBuffer, cdbLength, Direction, inLength, outLength, STATUS_CHECK_CONDITION, STATUS_GOOD, type DataBuffer, type ScsiResult, type ScsiTarget,
} from './scsi.ts';

// Status register.
export const ST_DIAG_ACTIVE = 0x80;
export const ST_DIAG_FAILED = 0x40;
export const ST_INIT_REQUIRED = 0x20;
export const ST_READY = 0x10;
export const ST_CMD_PARAM_BUSY = 0x08;
export const ST_DATA_IN_READY = 0x04;
export const ST_INVALID = 0x01;
// Interrupt register.
export const INT_ANY = 0x80;
export const INT_SCSI_RESET = 0x08;
export const INT_COMMAND_COMPLETE = 0x04;
export const INT_MBO_AVAILABLE = 0x02;
export const INT_MBI_LOADED = 0x01;
// Control register.
const CTL_HARD_RESET = 0x80;
const CTL_SOFT_RESET = 0x40;
const CTL_INT_RESET = 0x20;
const CTL_BUS_RESET = 0x10;

// Outgoing mailbox action codes and incoming completion codes.
const ACTION_FREE = 0, ACTION_START = 1, ACTION_ABORT = 2;
export const COMPLETE_GOOD = 1, COMPLETE_ABORTED = 2, COMPLETE_NOT_FOUND = 3, COMPLETE_ERROR = 4;

// Host adapter status codes (CCB byte 14).
export const HA_OK = 0x00;
export const HA_SELECTION_TIMEOUT = 0x11;
export const HA_DATA_OVERRUN = 0x12;
export const HA_INVALID_ACTION = 0x15;
export const HA_INVALID_CCB_OPCODE = 0x16;
export const HA_INVALID_PARAMETER = 0x1a;
export const HA_AUTOSENSE_FAILED = 0x1b;

// CCB operation codes.
const CCB_INITIATOR = 0x00, CCB_SG = 0x02, CCB_RESIDUAL = 0x03, CCB_SG_RESIDUAL = 0x04, CCB_BUS_DEVICE_RESET = 0x81;

/** How the adapter reaches memory: a PCI bus master, or an ISA one through its DMA channel. */
export interface AdapterMemory {
  /** Whether the adapter may master the bus now (PCI bus master enable, DMA channel in cascade). */
  readonly usable: boolean;
  /** The highest address + 1 the adapter can put on the bus (16 MiB for ISA). */
  readonly limit: number;
  read(addr: number, dst: Uint8Array, start: number, len: number): void;
  write(addr: number, src: Uint8Array, start: number, len: number): void;
}

/** One host adapter command: its parameter count (or a function of the first parameter). */
export interface CommandSpec {
  params: number;
  /** Runs with all parameters present; returns the reply bytes, or null for "invalid command". */
  run: (p: Uint8Array) => Uint8Array | number[] | null;
  /** No command complete interrupt (START MAILBOX COMMAND, MODIFY I/O ADDRESS). */
  silent?: boolean;
}

const MAX_SG_SEGMENTS = 8192;

/** The fields of the state every mailbox adapter has. */
const ADAPTER_FIELDS: Record<string, FieldSpec> = {
  status: 'u8', interrupts: 'u8', diagReads: 'u8', opcode: { type: 'i32', max: 255 },
  params: { bytes: 16 }, paramCount: { type: 'u8', max: 16 }, paramsNeeded: { type: 'u8', max: 16 },
  replyBuf: { bytes: 256 }, replyLen: { type: 'u16', max: 256 }, replyPos: { type: 'u16', max: 256 },
  mbCount: 'u8', mbBase: 'u32', wide: 'bool', outNext: 'u8', inNext: 'u8', strictRoundRobin: 'bool',
  mboInterrupt: 'bool', interruptsEnabled: 'bool', extendedLun: 'bool', irqLevel: 'bool',
};

export abstract class MailboxAdapter {
  abstract readonly stateDesc: StateDesc;
  protected status = ST_INIT_REQUIRED | ST_READY;
  protected interrupts = 0;
  /** Status reads left that show diagnostic active after a reset. */
  protected diagReads = 0;
  /** The command being received, or -1. */
  protected opcode = -1;
  protected readonly params = new Uint8Array(16);
  protected paramCount = 0;
  protected paramsNeeded = 0;
  protected readonly replyBuf = new Uint8Array(256);
  protected replyLen = 0;
  protected replyPos = 0;
  // Mailboxes.
  protected mbCount = 0;
  protected mbBase = 0;
  /** 32-bit mailboxes and CCBs (BusLogic's extended mailbox initialization). */
  protected wide = false;
  protected outNext = 0;
  protected inNext = 0;
  protected strictRoundRobin = false;
  protected mboInterrupt = false;
  protected interruptsEnabled = true;
  /** BusLogic's extended LUN format CCBs (LUN in 6 bits of byte 17). */
  protected extendedLun = false;
  private irqLevel = false;
  /** The adapter's own SCSI ID. */
  readonly scsiId = 7;

  constructor(
    readonly targets: readonly (ScsiTarget | undefined)[],
    protected readonly memory: AdapterMemory,
  ) {
    if (targets[this.scsiId]) throw new RangeError(`SCSI ID ${this.scsiId} is the host adapter's own`);
  }

  /** The adapter's saved state: the common fields plus a subclass's. */
  protected adapterState(name: string, version: number, fields: Record<string, FieldSpec> = {}): StateDesc {
    return defineState(name, version, { ...ADAPTER_FIELDS, ...fields }, { postLoad: () => this.driveIrq() });
  }

  /** The host adapter commands this model knows. */
  protected abstract commandSpec(opcode: number): CommandSpec | undefined;
  /** Drive the interrupt line (ISA edge, PCI level). */
  protected abstract setIrq(level: boolean): void;

  // ---- registers ----

  readPort(off: number): number {
    switch (off & 3) {
      case 0: {
        if (this.diagReads > 0) { this.diagReads--; return ST_DIAG_ACTIVE; }
        return this.status;
      }
      case 1: return this.readData();
      case 2: return this.interrupts;
      default: return this.geometry();
    }
  }

  writePort(off: number, v: number): void {
    if ((off & 3) === 0) this.control(v);
    else if ((off & 3) === 1) this.commandByte(v & 0xff);
  }

  /** What a read of +3 returns. */
  protected geometry(): number { return 0xff; }

  private control(v: number): void {
    if (v & (CTL_HARD_RESET | CTL_SOFT_RESET)) {
      this.resetAdapter();
      if (v & CTL_HARD_RESET) this.resetBus(false);
      return;
    }
    if (v & CTL_INT_RESET) {
      this.interrupts = 0;
      this.driveIrq();
      this.runMailboxes(); // work held back by a full incoming mailbox may go on now
    }
    if (v & CTL_BUS_RESET) this.resetBus(true);
  }

  /**
   * A hard or soft reset through the control register (diagnostics run: the next status read
   * shows them active), or power-on (`diagnostics` false: long finished when anyone looks):
   * mailboxes forgotten, commands abandoned.
   */
  resetAdapter(diagnostics = true): void {
    this.status = ST_INIT_REQUIRED | ST_READY;
    this.diagReads = diagnostics ? 1 : 0;
    this.interrupts = 0;
    this.opcode = -1;
    this.replyLen = this.replyPos = 0;
    this.mbCount = 0; this.mbBase = 0; this.wide = false; this.outNext = 0; this.inNext = 0;
    this.strictRoundRobin = false; this.mboInterrupt = false; this.interruptsEnabled = true; this.extendedLun = false;
    this.driveIrq();
  }

  /** Reset the SCSI bus: every target gets its unit attention. */
  private resetBus(announce: boolean): void {
    for (const t of this.targets) t?.busReset();
    if (announce) this.raise(INT_SCSI_RESET);
  }

  private readData(): number {
    if (this.replyPos >= this.replyLen) return 0;
    const v = this.replyBuf[this.replyPos++];
    if (this.replyPos >= this.replyLen) this.commandDone(false);
    return v;
  }

  private commandByte(v: number): void {
    if (this.opcode < 0 || this.paramCount >= this.paramsNeeded) {
      // A new command (whatever reply was still unread is dropped).
      this.replyLen = this.replyPos = 0;
      this.status &= ~(ST_INVALID | ST_DATA_IN_READY);
      const spec = this.commandSpec(v);
      if (!spec) { this.invalid(); return; }
      this.opcode = v;
      this.paramCount = 0;
      this.paramsNeeded = spec.params;
      this.status &= ~ST_READY;
      if (spec.params === 0) this.execute(spec);
      return;
    }
    this.params[this.paramCount++] = v;
    if (this.paramCount >= this.paramsNeeded) this.execute(this.commandSpec(this.opcode)!);
  }

  private execute(spec: CommandSpec): void {
    const reply = spec.run(this.params.subarray(0, this.paramsNeeded));
    if (reply === null) { this.invalid(); return; }
    if (reply.length === 0) { this.commandDone(spec.silent === true); return; }
    this.replyBuf.set(reply.length > 256 ? reply.slice(0, 256) : reply);
    this.replyLen = Math.min(reply.length, 256);
    this.replyPos = 0;
    this.status |= ST_DATA_IN_READY;
  }

  private commandDone(silent: boolean): void {
    this.opcode = -1;
    this.status = (this.status & ~ST_DATA_IN_READY) | ST_READY;
    if (!silent) this.raise(INT_COMMAND_COMPLETE);
  }

  private invalid(): void {
    this.opcode = -1;
    this.status = (this.status & ~ST_DATA_IN_READY) | ST_READY | ST_INVALID;
    this.raise(INT_COMMAND_COMPLETE);
  }

  protected raise(bits: number): void {
    this.interrupts |= bits | INT_ANY;
    this.driveIrq();
  }

  private driveIrq(): void {
    const level = (this.interrupts & INT_ANY) !== 0 && this.interruptsEnabled;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.setIrq(level);
  }

  /** Command 25h (BusLogic) and the like: mask or unmask the adapter's interrupt output. */
  protected enableInterrupts(on: boolean): void {
    this.interruptsEnabled = on;
    this.driveIrq();
  }

  // ---- the common host adapter commands ----

  /** Mailbox initialization (01h 24-bit, 81h 32-bit); false for a bad count. */
  protected initMailboxes(count: number, base: number, wide: boolean): boolean {
    if (count === 0) return false;
    this.mbCount = count;
    this.mbBase = base >>> 0;
    this.wide = wide;
    this.outNext = this.inNext = 0;
    this.status &= ~ST_INIT_REQUIRED;
    return true;
  }

  /** START MAILBOX COMMAND (02h); false when the mailboxes are not initialized. */
  protected startMailboxes(): boolean {
    if (this.status & ST_INIT_REQUIRED) return false;
    this.runMailboxes();
    return true;
  }

  /** The LUN bitmap of each of targets first..first+7 (INQUIRE INSTALLED DEVICES). */
  protected installedDevices(first: number): number[] {
    return Array.from({ length: 8 }, (_, i) => (this.targets[first + i] ? 1 : 0));
  }

  // ---- mailboxes and CCBs ----

  private get mbSize(): number { return this.wide ? 8 : 4; }

  private readMem(addr: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    this.dmaRead(addr, b, 0, len);
    return b;
  }

  private writeMem(addr: number, bytes: Uint8Array): void { this.dmaWrite(addr, bytes, 0, bytes.length); }

  /** Take every outgoing mailbox with work, in round-robin order from the next one. */
  protected runMailboxes(): void {
    if (this.mbCount === 0 || (this.status & ST_INIT_REQUIRED) || !this.memory.usable) return;
    let idle = 0;
    // Mailboxes in ROM never become free (or full): at most two rounds per start, the rest waits.
    let budget = 2 * this.mbCount;
    while (idle < this.mbCount && budget-- > 0) {
      if (!this.incomingFree()) return; // held back until the driver frees it
      const at = this.mbBase + this.outNext * this.mbSize;
      const mb = this.readMem(at, this.mbSize);
      const action = this.wide ? mb[7] : mb[0];
      const ccb = this.wide ? (mb[0] | (mb[1] << 8) | (mb[2] << 16) | (mb[3] << 24)) >>> 0 : (mb[1] << 16) | (mb[2] << 8) | mb[3];
      if (action === ACTION_FREE) {
        if (this.strictRoundRobin) return; // strict round robin: only the next mailbox counts
        this.outNext = (this.outNext + 1) % this.mbCount;
        idle++;
        continue;
      }
      idle = 0;
      // Free the outgoing mailbox, then do its work.
      this.writeMem(at + (this.wide ? 7 : 0), Uint8Array.of(ACTION_FREE));
      this.outNext = (this.outNext + 1) % this.mbCount;
      if (this.mboInterrupt) this.raise(INT_MBO_AVAILABLE);
      if (action === ACTION_START) this.runCcb(ccb);
      else if (action === ACTION_ABORT) this.postIncoming(ccb, COMPLETE_NOT_FOUND, HA_OK, 0); // it finished long ago
      else this.postIncoming(ccb, COMPLETE_ERROR, HA_INVALID_ACTION, 0);
    }
  }

  private incomingFree(): boolean {
    const at = this.mbBase + (this.mbCount + this.inNext) * this.mbSize;
    const mb = this.readMem(at, this.mbSize);
    return (this.wide ? mb[7] : mb[0]) === 0;
  }

  private postIncoming(ccb: number, code: number, hostStatus: number, targetStatus: number): void {
    const at = this.mbBase + (this.mbCount + this.inNext) * this.mbSize;
    const mb = new Uint8Array(this.mbSize);
    if (this.wide) {
      mb[0] = ccb; mb[1] = ccb >>> 8; mb[2] = ccb >>> 16; mb[3] = ccb >>> 24;
      mb[4] = hostStatus; mb[5] = targetStatus; mb[7] = code;
    } else {
      mb[0] = code; mb[1] = ccb >>> 16; mb[2] = ccb >>> 8; mb[3] = ccb;
    }
    this.writeMem(at, mb);
    this.inNext = (this.inNext + 1) % this.mbCount;
    this.raise(INT_MBI_LOADED);
  }

  /** Run one CCB to its end and post its incoming mailbox. */
  private runCcb(addr: number): void {
    const wide = this.wide;
    const c = this.readMem(addr, wide ? 40 : 30);
    const op = c[0];
    const cdbLen = c[2];
    const finish = (host: number, target: number) => {
      this.writeMem(addr + 14, Uint8Array.of(host, target));
      const good = host === HA_OK && target === STATUS_GOOD;
      this.postIncoming(addr, good ? COMPLETE_GOOD : COMPLETE_ERROR, host, target);
    };
    let id: number, lun: number, dir: number, dataLen: number, dataPtr: number;
    if (wide) {
      dir = (c[1] >>> 3) & 3;
      dataLen = (c[4] | (c[5] << 8) | (c[6] << 16) | (c[7] << 24)) >>> 0;
      dataPtr = (c[8] | (c[9] << 8) | (c[10] << 16) | (c[11] << 24)) >>> 0;
      id = c[16];
      lun = c[17] & (this.extendedLun ? 0x3f : 0x1f);
    } else {
      dir = (c[1] >>> 3) & 3;
      id = c[1] >>> 5;
      lun = c[1] & 7;
      dataLen = (c[4] << 16) | (c[5] << 8) | c[6];
      dataPtr = (c[7] << 16) | (c[8] << 8) | c[9];
    }
    if (op !== CCB_INITIATOR && op !== CCB_SG && op !== CCB_RESIDUAL && op !== CCB_SG_RESIDUAL && op !== CCB_BUS_DEVICE_RESET) {
      return finish(HA_INVALID_CCB_OPCODE, 0);
    }
    const target = id < this.targets.length ? this.targets[id] : undefined;
    if (!target || id === this.scsiId) return finish(HA_SELECTION_TIMEOUT, 0);
    if (op === CCB_BUS_DEVICE_RESET) { target.busReset(); return finish(HA_OK, 0); }
    if (cdbLen === 0 || cdbLen > 12) return finish(HA_INVALID_PARAMETER, 0);
    const cdb = c.slice(18, 18 + cdbLen);
    // The target asks for as many command bytes as its group code says; fewer is a phase error.
    if (cdbLength(cdb[0]) > cdbLen) return finish(HA_INVALID_PARAMETER, 0);

    const sg = op === CCB_SG || op === CCB_SG_RESIDUAL;
    const buffer = sg ? this.sgBuffer(dataPtr, dataLen) : this.flatBuffer(dataPtr, dataLen);
    if (!buffer) return finish(HA_INVALID_PARAMETER, 0);
    const only = dir === 1 ? Direction.In : dir === 2 ? Direction.Out : undefined;
    const view: DataBuffer = dir === 3 ? { length: 0, only: undefined, write() {}, read() {} } : { ...bufferView(buffer), only };
    const r: ScsiResult = target.execute(lun, cdb, view);

    // Residual: what the buffer did not get (BusLogic 03h/04h CCBs report it in the data length field).
    if (op === CCB_RESIDUAL || op === CCB_SG_RESIDUAL) {
      const residual = Math.max(0, buffer.length - r.moved);
      this.writeMem(addr + 4, wide
        ? Uint8Array.of(residual, residual >>> 8, residual >>> 16, residual >>> 24)
        : Uint8Array.of(residual >>> 16, residual >>> 8, residual));
    }
    let host = HA_OK;
    // Overrun: the target wanted more than the buffer held for its direction (none, for the wrong way).
    const room = r.direction === Direction.In ? inLength(view) : r.direction === Direction.Out ? outLength(view) : 0;
    if (r.wanted > r.moved && r.moved >= room) host = HA_DATA_OVERRUN;
    if (r.status === STATUS_CHECK_CONDITION && !this.autoSense(target, lun, c, addr, cdbLen)) host = HA_AUTOSENSE_FAILED;
    finish(host, r.status);
  }

  /**
   * Auto-sense: after CHECK CONDITION the adapter sends REQUEST SENSE and stores the data —
   * 24-bit CCBs right after the CDB, 32-bit CCBs at the sense pointer (bytes 36-39). The length
   * byte (CCB byte 3): 0 means the 14 bytes of SCSI-1, 1 means no auto-sense.
   */
  private autoSense(target: ScsiTarget, lun: number, c: Uint8Array, addr: number, cdbLen: number): boolean {
    const len = c[3] === 0 ? 14 : c[3] === 1 ? 0 : c[3];
    if (len === 0) return true;
    const sense = new Uint8Array(len);
    const r = target.execute(lun, Uint8Array.of(0x03, 0, 0, 0, Math.min(len, 255), 0), new ArrayDataBuffer(sense));
    if (r.status !== STATUS_GOOD) return false;
    const at = this.wide ? (c[36] | (c[37] << 8) | (c[38] << 16) | (c[39] << 24)) >>> 0 : addr + 18 + cdbLen;
    this.writeMem(at, sense.subarray(0, r.moved));
    return true;
  }

  private flatBuffer(addr: number, len: number): Segments {
    return { length: len, segments: len > 0 ? [{ addr, len }] : [], memory: this };
  }

  /** The scatter-gather list at `addr` (`len` bytes of entries); null when it is malformed. */
  private sgBuffer(addr: number, len: number): Segments | null {
    const entry = this.wide ? 8 : 6;
    if (len % entry !== 0 || len / entry > MAX_SG_SEGMENTS) return null;
    const list = this.readMem(addr, len);
    const segments: { addr: number; len: number }[] = [];
    let total = 0;
    for (let o = 0; o < len; o += entry) {
      const [n, a] = this.wide
        ? [(list[o] | (list[o + 1] << 8) | (list[o + 2] << 16) | (list[o + 3] << 24)) >>> 0, (list[o + 4] | (list[o + 5] << 8) | (list[o + 6] << 16) | (list[o + 7] << 24)) >>> 0]
        : [(list[o] << 16) | (list[o + 1] << 8) | list[o + 2], (list[o + 3] << 16) | (list[o + 4] << 8) | list[o + 5]];
      if (n === 0) continue;
      segments.push({ addr: a, len: n });
      total += n;
    }
    return { length: total, segments, memory: this };
  }

  /** Data through the adapter's bus access (used by the buffer views). */
  dmaRead(addr: number, dst: Uint8Array, start: number, len: number): void {
    this.splitByLimit(addr, len, (a, o, n) => this.memory.read(a, dst, start + o, n));
  }
  dmaWrite(addr: number, src: Uint8Array, start: number, len: number): void {
    this.splitByLimit(addr, len, (a, o, n) => this.memory.write(a, src, start + o, n));
  }
  /** An ISA adapter's addresses wrap at 16 MiB (it drives 24 address lines); PCI's at 4 GiB. */
  private splitByLimit(addr: number, len: number, f: (addr: number, offset: number, len: number) => void): void {
    const limit = this.memory.limit;
    let a = addr % limit, o = 0;
    while (o < len) {
      const n = Math.min(len - o, limit - a);
      f(a, o, n);
      o += n;
      a = 0;
    }
  }
}

interface Segments {
  length: number;
  segments: { addr: number; len: number }[];
  memory: MailboxAdapter;
}

/** A DataBuffer over a list of memory segments, with a cursor for sequential access. */
function bufferView(b: Segments): DataBuffer {
  let seg = 0, segStart = 0;
  const walk = (offset: number, len: number, f: (addr: number, at: number, n: number) => void) => {
    if (offset < segStart) { seg = 0; segStart = 0; }
    let done = 0;
    while (done < len && seg < b.segments.length) {
      const s = b.segments[seg];
      const pos = offset + done;
      if (pos >= segStart + s.len) { segStart += s.len; seg++; continue; }
      const inSeg = pos - segStart, n = Math.min(len - done, s.len - inSeg);
      f(s.addr + inSeg, done, n);
      done += n;
    }
  };
  return {
    length: b.length,
    write(offset, src) { walk(offset, src.length, (addr, at, n) => b.memory.dmaWrite(addr, src, at, n)); },
    read(offset, dst) { walk(offset, dst.length, (addr, at, n) => b.memory.dmaRead(addr, dst, at, n)); },
  };
}
