// The SCSI layer every host adapter talks to: a target (a disk, a CD-ROM) executes one command
// descriptor block for one logical unit and moves its data through the adapter's buffer.
//
// The model is the one of SAM-2 (SCSI Architecture Model) reduced to what an emulated bus
// needs: no arbitration, selection or message phases, no disconnects. The adapter selects the
// target (an absent ID is the adapter's selection timeout, not the target's business), hands it
// the CDB, the LUN and a view of the initiator's data buffer, and gets back the status byte,
// how many bytes the command wanted to move and in which direction, how many it moved, and
// for CHECK CONDITION the sense data (what auto-sense fetches). A target moves no more than
// the buffer holds; wanting more is the adapter's data overrun to report.
//
// Sense data is the fixed format of SPC-3 4.5.3 (18 bytes, response code 70h).

import type { StateDesc } from '../../state/state.ts';

// Status byte (SAM-2 5.3.1).
export const STATUS_GOOD = 0x00;
export const STATUS_CHECK_CONDITION = 0x02;
export const STATUS_BUSY = 0x08;

// Sense keys (SPC-3 table 27).
export const KEY_NO_SENSE = 0x0;
export const KEY_NOT_READY = 0x2;
export const KEY_MEDIUM_ERROR = 0x3;
export const KEY_HARDWARE_ERROR = 0x4;
export const KEY_ILLEGAL_REQUEST = 0x5;
export const KEY_UNIT_ATTENTION = 0x6;
export const KEY_DATA_PROTECT = 0x7;
export const KEY_ABORTED_COMMAND = 0xb;
export const KEY_MISCOMPARE = 0xe;

/** A sense key with its additional sense code and qualifier. */
export type Sense = readonly [key: number, asc: number, ascq: number];

// Additional sense codes (SPC-3 table 28), with the sense key each is reported under.
export const SENSE = {
  noSense: [KEY_NO_SENSE, 0x00, 0x00],
  writeError: [KEY_MEDIUM_ERROR, 0x0c, 0x00],
  readError: [KEY_MEDIUM_ERROR, 0x11, 0x00],
  parameterListLength: [KEY_ILLEGAL_REQUEST, 0x1a, 0x00],
  invalidOpcode: [KEY_ILLEGAL_REQUEST, 0x20, 0x00],
  lbaOutOfRange: [KEY_ILLEGAL_REQUEST, 0x21, 0x00],
  invalidFieldInCdb: [KEY_ILLEGAL_REQUEST, 0x24, 0x00],
  lunNotSupported: [KEY_ILLEGAL_REQUEST, 0x25, 0x00],
  invalidFieldInParameterList: [KEY_ILLEGAL_REQUEST, 0x26, 0x00],
  savingNotSupported: [KEY_ILLEGAL_REQUEST, 0x39, 0x00],
  incompatibleMedium: [KEY_ILLEGAL_REQUEST, 0x30, 0x00],
  removalPrevented: [KEY_ILLEGAL_REQUEST, 0x53, 0x02],
  writeProtected: [KEY_DATA_PROTECT, 0x27, 0x00],
  mediumChanged: [KEY_UNIT_ATTENTION, 0x28, 0x00],
  powerOnReset: [KEY_UNIT_ATTENTION, 0x29, 0x00],
  modeParametersChanged: [KEY_UNIT_ATTENTION, 0x2a, 0x01],
  mediumNotPresent: [KEY_NOT_READY, 0x3a, 0x00],
  internalTargetFailure: [KEY_HARDWARE_ERROR, 0x44, 0x00],
  miscompare: [KEY_MISCOMPARE, 0x1d, 0x00],
  initiatorDetectedError: [KEY_ABORTED_COMMAND, 0x48, 0x00],
} as const satisfies Record<string, Sense>;

/** Fixed-format sense data (SPC-3 4.5.3): 18 bytes, current error. */
export function senseBytes([key, asc, ascq]: Sense, information?: number): Uint8Array {
  const b = new Uint8Array(18);
  b[0] = 0x70 | (information !== undefined ? 0x80 : 0);
  b[2] = key;
  if (information !== undefined) put32(b, 3, information);
  b[7] = 10; // additional sense length
  b[12] = asc;
  b[13] = ascq;
  return b;
}

export const enum Direction { None = 0, In = 1, Out = 2 }

/** The initiator's data buffer as the adapter lays it out (scatter-gather or one block). */
export interface DataBuffer {
  /** Bytes the initiator offered for the transfer. */
  readonly length: number;
  /**
   * The one direction the initiator allows (a host adapter's direction-checked CCB); data the
   * other way finds an empty buffer. Undefined: either direction.
   */
  readonly only?: Direction;
  /** Device to initiator: copy `src` into the buffer at `offset` (offset + src.length <= length). */
  write(offset: number, src: Uint8Array): void;
  /** Initiator to device: fill `dst` from the buffer at `offset` (offset + dst.length <= length). */
  read(offset: number, dst: Uint8Array): void;
}

export interface ScsiResult {
  status: number;
  /** Which way the command moves data (In: target to initiator). */
  direction: Direction;
  /** Bytes the command would move with a large enough buffer. */
  wanted: number;
  /** Bytes it did move (at most the buffer's length). */
  moved: number;
  /** With CHECK CONDITION: the sense data auto-sense returns (and REQUEST SENSE would). */
  sense: Uint8Array | null;
}

/** A device on the SCSI bus: it answers commands for its logical units. */
export interface ScsiTarget {
  /** Execute `cdb` for logical unit `lun`, moving data through `data`. */
  execute(lun: number, cdb: Uint8Array, data: DataBuffer): ScsiResult;
  /** A bus reset or a bus device reset message: back to the power-on state with a unit attention. */
  busReset(): void;
  readonly stateDesc: StateDesc;
}

/**
 * The length of a CDB by its group code (SPC-3 4.3.1): group 0 six bytes, groups 1 and 2 ten,
 * group 4 sixteen, group 5 twelve; groups 3, 6 and 7 are reserved or vendor specific (0 here).
 */
export function cdbLength(opcode: number): number {
  switch (opcode >>> 5) {
    case 0: return 6;
    case 1: case 2: return 10;
    case 4: return 16;
    case 5: return 12;
    default: return 0;
  }
}

/** A buffer of bytes in host memory, for tests and the BIOS. */
export class ArrayDataBuffer implements DataBuffer {
  constructor(readonly bytes: Uint8Array) {}
  get length(): number { return this.bytes.length; }
  write(offset: number, src: Uint8Array): void { this.bytes.set(src, offset); }
  read(offset: number, dst: Uint8Array): void { dst.set(this.bytes.subarray(offset, offset + dst.length)); }
}

/** Bytes the target may send to the initiator. */
export function inLength(d: DataBuffer): number { return d.only === Direction.Out ? 0 : d.length; }
/** Bytes the target may take from the initiator. */
export function outLength(d: DataBuffer): number { return d.only === Direction.In ? 0 : d.length; }

export const NO_DATA: DataBuffer = { length: 0, write() {}, read() {} };

// Big-endian field helpers (SCSI fields are big-endian).
export function get16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }
export function get24(b: Uint8Array, o: number): number { return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2]; }
export function get32(b: Uint8Array, o: number): number { return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0; }
/** A 64-bit field as a number (exact up to 2^53, far beyond any disk here). */
export function get64(b: Uint8Array, o: number): number { return get32(b, o) * 0x100000000 + get32(b, o + 4); }
export function put16(b: Uint8Array, o: number, v: number): void { b[o] = v >>> 8; b[o + 1] = v; }
export function put32(b: Uint8Array, o: number, v: number): void { b[o] = v >>> 24; b[o + 1] = v >>> 16; b[o + 2] = v >>> 8; b[o + 3] = v; }
export function put64(b: Uint8Array, o: number, v: number): void { put32(b, o, Math.floor(v / 0x100000000)); put32(b, o + 4, v >>> 0); }
/** An ASCII field padded with spaces (INQUIRY strings). */
export function putAscii(b: Uint8Array, o: number, len: number, s: string): void {
  const t = s.padEnd(len, ' ');
  for (let i = 0; i < len; i++) b[o + i] = t.charCodeAt(i) & 0x7f;
}
