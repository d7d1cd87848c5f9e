// The replies of a CD-ROM drive reading one data track (an ISO image), as MMC-3 defines them,
// built as plain bytes so that any transport can send them: READ TOC/PMA/ATIP (formats 0, 1
// and 2), GET CONFIGURATION, GET EVENT STATUS NOTIFICATION (media class), READ DISC
// INFORMATION, MECHANISM STATUS and the CD capabilities mode page (2Ah).
//
// Each builder writes into `b` (zeroed by the caller, at least 512 bytes) and returns the
// reply's full length (the caller cuts it to the allocation length) or the sense to report.

import { get16, put16, put32, SENSE, type Sense } from './scsi.ts';

/** The drive as the replies describe it. */
export interface DriveState {
  /** Blocks on the disc, or undefined with no disc. */
  blocks: number | undefined;
  /** PREVENT ALLOW MEDIUM REMOVAL's lock. */
  locked: boolean;
}

export const CD_BLOCK = 2048;

/** Minutes, seconds, frames of logical block `lba` (the first block is at 00:02:00). */
export function toMsf(lba: number): [number, number, number] {
  const f = lba + 150;
  return [Math.floor(f / 4500), Math.floor(f / 75) % 60, f % 75];
}

function tocEntry(b: Uint8Array, n: number, track: number, lba: number, msf: boolean): number {
  b[n + 1] = 0x14; // ADR 1, data track
  b[n + 2] = track;
  if (msf) { const [m, s, f] = toMsf(lba); b[n + 5] = m; b[n + 6] = s; b[n + 7] = f; } else put32(b, n + 4, lba);
  return n + 8;
}

/** READ TOC/PMA/ATIP (MMC-3 6.26); needs a disc. */
export function readToc(c: Uint8Array, b: Uint8Array, blocks: number): number | Sense {
  const msf = (c[1] & 2) !== 0, format = c[9] >>> 6 || (c[2] & 0x0f), start = c[6];
  let n: number;
  if (format === 0) {
    if (start > 1 && start !== 0xaa) return SENSE.invalidFieldInCdb;
    b[2] = 1; b[3] = 1; n = 4;
    if (start <= 1) n = tocEntry(b, n, 1, 0, msf);
    n = tocEntry(b, n, 0xaa, blocks, msf);
  } else if (format === 1) { // multi-session information: one session starting at track 1
    b[2] = 1; b[3] = 1;
    n = tocEntry(b, 4, 1, 0, msf);
  } else if (format === 2) { // raw TOC: points A0, A1, A2 and track 1, MSF always
    b[2] = 1; b[3] = 1; n = 4;
    for (const [point, m, s, f] of [[0xa0, 1, 0, 0], [0xa1, 1, 0, 0], [0xa2, ...toMsf(blocks)], [1, ...toMsf(0)]]) {
      b[n] = 1; b[n + 1] = 0x14; b[n + 3] = point; b[n + 8] = m; b[n + 9] = s; b[n + 10] = f;
      n += 11;
    }
  } else {
    return SENSE.invalidFieldInCdb;
  }
  put16(b, 0, n - 2);
  return n;
}

/** GET CONFIGURATION (MMC-3 6.6): the CD-ROM profile and the features a reader has. */
export function getConfiguration(c: Uint8Array, b: Uint8Array, d: DriveState, physicalInterface: number): number | Sense {
  const rt = c[1] & 3, from = get16(c, 2), has = d.blocks !== undefined;
  if (rt === 3) return SENSE.invalidFieldInCdb;
  const features: [number, boolean, number[]][] = [
    [0x0000, true, [0x00, 0x08, has ? 1 : 0, 0]],                          // profile list: CD-ROM
    [0x0001, true, [0, 0, 0, physicalInterface, 0, 0, 0, 0]],              // core
    [0x0003, true, [0x29 | (d.locked ? 2 : 0), 0, 0, 0]],                  // removable medium: tray
    [0x0010, has, [0, 0, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00]],             // random readable, 2048 bytes
    [0x001e, has, [0, 0, 0, 0]],                                           // CD read
  ];
  const versions: Record<number, number> = { 0x0001: 1, 0x001e: 2 };
  let n = 8;
  for (const [code, current, data] of features) {
    if (rt === 2 ? code !== from : code < from || (rt === 1 && !current)) continue;
    put16(b, n, code);
    b[n + 2] = ((versions[code] ?? 0) << 2) | (code <= 3 ? 2 : 0) | (current ? 1 : 0);
    b[n + 3] = data.length;
    b.set(data, n + 4);
    n += 4 + data.length;
  }
  put32(b, 0, n - 4);
  put16(b, 6, has ? 0x0008 : 0);
  return n;
}

/**
 * GET EVENT STATUS NOTIFICATION (MMC-3 6.8), polled, media class only. `event` is the pending
 * media event (0 none, 2 new media, 3 media removal); the caller clears it when reported.
 */
export function getEventStatus(c: Uint8Array, b: Uint8Array, d: DriveState, event: number): { length: number; reported: boolean } | Sense {
  if (!(c[1] & 1)) return SENSE.invalidFieldInCdb; // only polling
  b[3] = 0x10; // supported classes: media
  if (c[4] & 0x10) {
    put16(b, 0, 4);
    b[2] = 0x04;
    b[4] = event;
    b[5] = d.blocks !== undefined ? 0x02 : 0x00; // media present
    return { length: 8, reported: true };
  }
  put16(b, 0, 0); // (the length counts what follows the 4-byte header, as with the media event's 4)
  b[2] = 0x80; // no event available
  return { length: 4, reported: false };
}

/** READ DISC INFORMATION (MMC-3 6.22): a complete disc with one session of one track. */
export function readDiscInformation(c: Uint8Array, b: Uint8Array): number | Sense {
  if (c[1] & 7) return SENSE.invalidFieldInCdb;
  put16(b, 0, 32);
  b[2] = 0x0e;  // complete disc, complete last session
  b[3] = 1;     // first track
  b[4] = 1;     // sessions
  b[5] = 1; b[6] = 1; // first and last track of the last session
  b[7] = 0x20;  // unrestricted use
  b[8] = 0x00;  // CD-DA or CD-ROM
  put32(b, 16, 0xffffffff); put32(b, 20, 0xffffffff); // lead-in and last lead-out: not applicable
  return 34;
}

/** MECHANISM STATUS (MMC-3 6.11): no changer, idle, one slot. */
export function mechanismStatus(b: Uint8Array, d: DriveState): number {
  b[1] = d.blocks !== undefined ? 0 : 0x10; // door open when empty (a tray drive)
  b[5] = 1;
  return 8;
}

/** Mode page 2Ah, CD capabilities and mechanical status (MMC-3 6.3.11), at `n`; returns its end. */
export function capabilitiesPage(b: Uint8Array, n: number, d: DriveState, changeable: boolean): number {
  b[n] = 0x2a; b[n + 1] = 0x14;
  if (!changeable) {
    b[n + 2] = 0x00;                    // reads CD-ROM only
    b[n + 4] = 0x71;                    // audio play, multi-session, mode 2 form 1/2
    b[n + 5] = 0x60;                    // ISRC, UPC
    b[n + 6] = 0x29 | (d.locked ? 0x02 : 0); // tray, eject, lock supported (+ locked)
    put16(b, n + 8, 706);               // maximum speed 4x (KB/s)
    put16(b, n + 10, 2);                // volume levels
    put16(b, n + 12, 512);              // buffer KB
    put16(b, n + 14, 706);              // current speed
  }
  return n + 22;
}
