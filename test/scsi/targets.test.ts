// The SCSI targets on their own: each command's data, status and sense (SPC-3, SBC-2, MMC-3).
import { describe, expect, it } from 'vitest';
import { ScsiDisk } from '../../src/devices/scsi/disk.ts';
import { ScsiCdrom } from '../../src/devices/scsi/cdrom.ts';
import {
  ArrayDataBuffer, Direction, NO_DATA, STATUS_CHECK_CONDITION, STATUS_GOOD, type ScsiResult, type ScsiTarget,
} from '../../src/devices/scsi/scsi.ts';
import { MemoryDisk } from '../ide/helpers.ts';

/** Run one command; `buf` is the initiator's buffer (default: 4 KiB). */
function run(t: ScsiTarget, cdb: number[], buf: Uint8Array = new Uint8Array(4096), lun = 0): { r: ScsiResult; buf: Uint8Array } {
  return { r: t.execute(lun, Uint8Array.from(cdb), new ArrayDataBuffer(buf)), buf };
}
/** key/asc/ascq of a CHECK CONDITION's sense. */
function senseOf(r: ScsiResult): [number, number, number] {
  expect(r.status).toBe(STATUS_CHECK_CONDITION);
  expect(r.sense![0] & 0x7f).toBe(0x70);
  return [r.sense![2] & 0x0f, r.sense![12], r.sense![13]];
}
/** A target past its power-on unit attention. */
function ready<T extends ScsiTarget>(t: T): T {
  expect(senseOf(run(t, [0x00, 0, 0, 0, 0, 0]).r)).toEqual([6, 0x29, 0]);
  return t;
}
const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
const be32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

describe('SCSI disk (SBC-2)', () => {
  it('INQUIRY: a direct-access SPC-3 device with its strings; VPD pages 00h, 80h, 83h; bad page is ILLEGAL REQUEST', () => {
    const t = new ScsiDisk(new MemoryDisk(2048), { serial: 'ABC123' });
    const { r, buf } = run(t, [0x12, 0, 0, 0, 36, 0]);
    expect(r).toMatchObject({ status: STATUS_GOOD, direction: Direction.In, wanted: 36, moved: 36 });
    expect(buf[0]).toBe(0);
    expect(buf[1]).toBe(0);                         // not removable
    expect(buf[2]).toBe(5);
    expect(ascii(buf, 8, 36)).toBe('Msft    Virtual Disk    1.0 ');
    const short = run(t, [0x12, 0, 0, 0, 5, 0]);    // allocation length cuts the reply
    expect(short.r.moved).toBe(5);
    expect(short.buf[5]).toBe(0);
    const pages = run(t, [0x12, 1, 0x00, 0, 255, 0]);
    expect([...pages.buf.subarray(0, 7)]).toEqual([0, 0, 0, 3, 0x00, 0x80, 0x83]);
    const serial = run(t, [0x12, 1, 0x80, 0, 255, 0]);
    expect(ascii(serial.buf, 4, 4 + serial.buf[3])).toBe('ABC123');
    expect(senseOf(run(t, [0x12, 1, 0xb0, 0, 255, 0]).r)).toEqual([5, 0x24, 0]);
    expect(senseOf(run(t, [0x12, 0, 0x80, 0, 255, 0]).r)).toEqual([5, 0x24, 0]); // page without EVPD
  });

  it('power-on unit attention: reported once by the first command; INQUIRY and REQUEST SENSE pass it; REQUEST SENSE clears it', () => {
    const t = new ScsiDisk(new MemoryDisk(64));
    expect(run(t, [0x12, 0, 0, 0, 36, 0]).r.status).toBe(STATUS_GOOD);
    const rs = run(t, [0x03, 0, 0, 0, 18, 0]);
    expect(rs.r.status).toBe(STATUS_GOOD);
    expect([rs.buf[0], rs.buf[2], rs.buf[7], rs.buf[12], rs.buf[13]]).toEqual([0x70, 6, 10, 0x29, 0]);
    expect(run(t, [0x00, 0, 0, 0, 0, 0]).r.status).toBe(STATUS_GOOD);
    t.busReset();
    expect(senseOf(run(t, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]).r)).toEqual([6, 0x29, 0]);
    expect(run(t, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]).r.status).toBe(STATUS_GOOD);
  });

  it('READ CAPACITY(10) and (16); a disk beyond 2^32 blocks reports FFFFFFFFh in (10) and its size in (16)', () => {
    const t = ready(new ScsiDisk(new MemoryDisk(20480)));
    const rc = run(t, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(be32(rc.buf, 0)).toBe(20479);
    expect(be32(rc.buf, 4)).toBe(512);
    const rc16 = run(t, [0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]);
    expect(rc16.r.moved).toBe(32);
    expect(be32(rc16.buf, 0)).toBe(0);
    expect(be32(rc16.buf, 4)).toBe(20479);
    const huge = { sectorSize: 512, sectorCount: 2 ** 32 + 10, readOnly: false, read() {}, write() {}, flush() {}, close() {} };
    const h = ready(new ScsiDisk(huge));
    expect(be32(run(h, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]).buf, 0)).toBe(0xffffffff);
    const h16 = run(h, [0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]).buf;
    expect([be32(h16, 0), be32(h16, 4)]).toEqual([1, 9]);
    expect(senseOf(run(h, [0x9e, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]).r)).toEqual([5, 0x24, 0]);
  });

  it('WRITE and READ in the 6-, 10-, 12- and 16-byte forms move the named sectors and nothing else', () => {
    const disk = new MemoryDisk(4096).fillPattern();
    const before = disk.bytes.slice();
    const t = ready(new ScsiDisk(disk));
    const data = new Uint8Array(1024).map((_, i) => (i * 13 + 1) & 0xff);
    const forms: [number[], number][] = [
      [[0x0a, 0, 0, 10, 2, 0], 10],
      [[0x2a, 0, 0, 0, 0, 20, 0, 0, 2, 0], 20],
      [[0xaa, 0, 0, 0, 0, 30, 0, 0, 0, 2, 0, 0], 30],
      [[0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 2, 0, 0], 40],
    ];
    for (const [cdb, lba] of forms) {
      const { r } = run(t, cdb, data.slice());
      expect(r).toMatchObject({ status: STATUS_GOOD, direction: Direction.Out, wanted: 1024, moved: 1024 });
      expect([...disk.bytes.subarray(lba * 512, lba * 512 + 1024)]).toEqual([...data]);
      expect(disk.bytes[lba * 512 - 1]).toBe(before[lba * 512 - 1]);
      expect(disk.bytes[lba * 512 + 1024]).toBe(before[lba * 512 + 1024]);
      const readCdb = [...cdb];
      readCdb[0] = { 0x0a: 0x08, 0x2a: 0x28, 0xaa: 0xa8, 0x8a: 0x88 }[cdb[0]]!;
      const back = run(t, readCdb, new Uint8Array(1024));
      expect(back.r).toMatchObject({ status: STATUS_GOOD, direction: Direction.In, moved: 1024 });
      expect([...back.buf]).toEqual([...data]);
    }
    // READ(6) with transfer length 0 means 256 blocks.
    expect(run(t, [0x08, 0, 0, 0, 0, 0], new Uint8Array(256 * 512)).r.moved).toBe(256 * 512);
  });

  it('out-of-range LBAs, a read-only disk and host I/O errors give their sense keys', () => {
    const disk = new MemoryDisk(100);
    const t = ready(new ScsiDisk(disk));
    expect(senseOf(run(t, [0x28, 0, 0, 0, 0, 99, 0, 0, 2, 0]).r)).toEqual([5, 0x21, 0]);
    expect(senseOf(run(t, [0x2a, 0, 0, 0, 0, 100, 0, 0, 1, 0]).r)).toEqual([5, 0x21, 0]);
    expect(senseOf(run(t, [0x88, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]).r)).toEqual([5, 0x21, 0]);
    disk.failing = true;
    const rd = run(t, [0x28, 0, 0, 0, 0, 7, 0, 0, 1, 0]).r;
    expect(senseOf(rd)).toEqual([3, 0x11, 0]);
    expect(rd.sense![0] & 0x80).toBe(0x80);                      // information field valid ...
    expect(be32(rd.sense!, 3)).toBe(7);                          // ... holding the failing LBA
    expect(senseOf(run(t, [0x2a, 0, 0, 0, 0, 7, 0, 0, 1, 0], new Uint8Array(512)).r)).toEqual([3, 0x0c, 0]);
    // REQUEST SENSE returns the last error's sense, then NO SENSE.
    expect(run(t, [0x03, 0, 0, 0, 18, 0]).buf[12]).toBe(0x0c);
    expect(run(t, [0x03, 0, 0, 0, 18, 0]).buf[2]).toBe(0);
    const ro = ready(new ScsiDisk(new MemoryDisk(100, 512, true)));
    expect(senseOf(run(ro, [0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0], new Uint8Array(512)).r)).toEqual([7, 0x27, 0]);
    expect(run(ro, [0x1a, 0, 0x3f, 0, 255, 0]).buf[2] & 0x80).toBe(0x80); // MODE SENSE: WP
  });

  it('a data-out buffer shorter than the transfer writes nothing; a short data-in buffer takes what fits', () => {
    const disk = new MemoryDisk(100).fillPattern();
    const before = disk.bytes.slice();
    const t = ready(new ScsiDisk(disk));
    const w = run(t, [0x2a, 0, 0, 0, 0, 5, 0, 0, 2, 0], new Uint8Array(600).fill(0xee)).r;
    expect(w.direction).toBe(Direction.Out);
    expect(w.wanted).toBe(1024);
    expect(w.moved).toBeLessThan(1024);
    expect(senseOf(w)[0]).toBe(0xb);
    expect(disk.bytes).toEqual(before);
    const r = run(t, [0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0], new Uint8Array(700));
    expect(r.r).toMatchObject({ status: STATUS_GOOD, wanted: 1024, moved: 700 });
    expect([...r.buf]).toEqual([...before.subarray(5 * 512, 5 * 512 + 700)]);
    // No buffer at all.
    expect(t.execute(0, Uint8Array.from([0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0]), NO_DATA)).toMatchObject({ wanted: 512, moved: 0 });
  });

  it('SYNCHRONIZE CACHE flushes the block device; a failing flush is a WRITE ERROR', () => {
    const disk = new MemoryDisk(100);
    const t = ready(new ScsiDisk(disk));
    expect(run(t, [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]).r.status).toBe(STATUS_GOOD);
    expect(run(t, [0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).r.status).toBe(STATUS_GOOD);
    expect(disk.flushes).toBe(2);
    disk.flush = () => { throw new Error('fsync failed'); };
    expect(senseOf(run(t, [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]).r)).toEqual([3, 0x0c, 0]);
  });

  it('VERIFY: BYTCHK 0 checks the range, BYTCHK 1 compares and reports MISCOMPARE at the first differing byte', () => {
    const disk = new MemoryDisk(100).fillPattern();
    const t = ready(new ScsiDisk(disk));
    expect(run(t, [0x2f, 0, 0, 0, 0, 10, 0, 0, 4, 0]).r.status).toBe(STATUS_GOOD);
    expect(senseOf(run(t, [0x2f, 0, 0, 0, 0, 98, 0, 0, 4, 0]).r)).toEqual([5, 0x21, 0]);
    const same = disk.bytes.slice(10 * 512, 12 * 512);
    expect(run(t, [0x2f, 2, 0, 0, 0, 10, 0, 0, 2, 0], same.slice()).r.status).toBe(STATUS_GOOD);
    const differ = same.slice();
    differ[700] ^= 1;
    const m = run(t, [0x2f, 2, 0, 0, 0, 10, 0, 0, 2, 0], differ).r;
    expect(senseOf(m)).toEqual([0xe, 0x1d, 0]);
    expect(be32(m.sense!, 3)).toBe(700);
  });

  it('MODE SENSE(6/10): block descriptor, caching page, all pages; saved values unsupported; MODE SELECT changes WCE only', () => {
    const t = ready(new ScsiDisk(new MemoryDisk(5000)));
    const ms = run(t, [0x1a, 0, 0x08, 0, 255, 0]).buf;
    expect(ms[3]).toBe(8);                               // one block descriptor
    expect((ms[5] << 16) | (ms[6] << 8) | ms[7]).toBe(5000);
    expect((ms[10] << 8) | ms[11]).toBe(512);
    expect([ms[12], ms[13], ms[14] & 4]).toEqual([0x08, 0x12, 4]);
    expect(ms[0]).toBe(4 + 8 + 20 - 1);
    const all = run(t, [0x5a, 0x08, 0x3f, 0, 0, 0, 0, 0x10, 0, 0]).buf;      // DBD, all pages
    expect((all[0] << 8) | all[1]).toBe(8 + 12 + 16 + 24 + 24 + 20 + 12 - 2);
    expect(all[8]).toBe(0x01);
    expect(senseOf(run(t, [0x1a, 0, 0xc8, 0, 255, 0]).r)).toEqual([5, 0x39, 0]); // PC = saved
    expect(senseOf(run(t, [0x1a, 0, 0x05, 0, 255, 0]).r)).toEqual([5, 0x24, 0]); // no such page
    // MODE SELECT(6): header, no descriptor, caching page with WCE off.
    const page = run(t, [0x1a, 0x08, 0x08, 0, 255, 0]).buf.slice(4, 24);
    page[2] &= ~4;
    const list = Uint8Array.from([0, 0, 0, 0, ...page]);
    expect(run(t, [0x15, 0x10, 0, 0, list.length, 0], list.slice()).r.status).toBe(STATUS_GOOD);
    expect(run(t, [0x1a, 0x08, 0x08, 0, 255, 0]).buf[6] & 4).toBe(0);
    const bad = list.slice();
    bad[4 + 3] = 0x55;                                   // a field that is not changeable
    expect(senseOf(run(t, [0x15, 0x10, 0, 0, bad.length, 0], bad).r)).toEqual([5, 0x26, 0]);
    expect(senseOf(run(t, [0x15, 0x10, 0, 0, 3, 0], list.slice()).r)).toEqual([5, 0x1a, 0]);
  });

  it('REPORT LUNS, other LUNs, unknown opcodes and truncated CDBs', () => {
    const t = ready(new ScsiDisk(new MemoryDisk(100)));
    const rl = run(t, [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0]);
    expect(rl.r.moved).toBe(16);
    expect([...rl.buf.subarray(0, 16)]).toEqual([0, 0, 0, 8, ...new Array(12).fill(0)]);
    expect(senseOf(run(t, [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]).r)).toEqual([5, 0x24, 0]);
    const inq = run(t, [0x12, 0, 0, 0, 36, 0], undefined, 3);
    expect(inq.r.status).toBe(STATUS_GOOD);
    expect(inq.buf[0]).toBe(0x7f);
    expect(senseOf(run(t, [0x00, 0, 0, 0, 0, 0], undefined, 3).r)).toEqual([5, 0x25, 0]);
    expect(run(t, [0x03, 0, 0, 0, 18, 0], undefined, 3).buf[12]).toBe(0x25);
    expect(senseOf(run(t, [0xc7, 0, 0, 0, 0, 0]).r)).toEqual([5, 0x20, 0]);
    expect(senseOf(run(t, [0x77, 0, 0, 0, 0, 0]).r)).toEqual([5, 0x20, 0]);
    expect(senseOf(run(t, [0x28, 0, 0, 0, 0, 0]).r)).toEqual([5, 0x24, 0]);   // 6 bytes of a 10-byte CDB
  });
});

describe('SCSI CD-ROM (MMC-3)', () => {
  const iso = () => new MemoryDisk(300, 2048, true).fillPattern();

  it('INQUIRY says CD/DVD, removable; READ CAPACITY and READ(10) read 2048-byte blocks', () => {
    const disc = iso();
    const t = new ScsiCdrom(disc);
    const inq = run(t, [0x12, 0, 0, 0, 36, 0]).buf;
    expect([inq[0], inq[1]]).toEqual([5, 0x80]);
    expect(ascii(inq, 8, 32)).toBe('Msft    Virtual CD-ROM  ');
    ready(t);
    const rc = run(t, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]).buf;
    expect([be32(rc, 0), be32(rc, 4)]).toEqual([299, 2048]);
    const rd = run(t, [0x28, 0, 0, 0, 0, 16, 0, 0, 2, 0], new Uint8Array(4096));
    expect(rd.r.moved).toBe(4096);
    expect([...rd.buf]).toEqual([...disc.bytes.subarray(16 * 2048, 18 * 2048)]);
    expect(senseOf(run(t, [0x28, 0, 0, 0, 1, 44, 0, 0, 1, 0]).r)).toEqual([5, 0x21, 0]);  // LBA 300
    expect(senseOf(run(t, [0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0]).r)).toEqual([5, 0x20, 0]);   // no WRITE on a CD-ROM
  });

  it('READ TOC: one data track and the lead-out, in LBA and MSF; GET CONFIGURATION: the CD-ROM profile', () => {
    const t = ready(new ScsiCdrom(iso()));
    const toc = run(t, [0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0]).buf;
    expect(((toc[0] << 8) | toc[1])).toBe(18);
    expect([toc[2], toc[3], toc[5], toc[6]]).toEqual([1, 1, 0x14, 1]);
    expect(toc[14]).toBe(0xaa);
    expect(be32(toc, 16)).toBe(300);
    const msf = run(t, [0x43, 2, 0, 0, 0, 0, 0, 0, 100, 0]).buf;
    expect([msf[17], msf[18], msf[19]]).toEqual([0, 6, 0]);    // 300 + 150 frames = 00:06:00
    expect(senseOf(run(t, [0x43, 0, 5, 0, 0, 0, 0, 0, 100, 0]).r)).toEqual([5, 0x24, 0]);
    const cfg = run(t, [0x46, 0, 0, 0, 0, 0, 0, 1, 0, 0]).buf;
    expect((cfg[6] << 8) | cfg[7]).toBe(0x0008);
  });

  it('without a disc: NOT READY / MEDIUM NOT PRESENT; inserting one is a UNIT ATTENTION and a media event; a locked tray refuses eject', () => {
    let ejected = 0;
    const t = ready(new ScsiCdrom(undefined, { onEject: () => { ejected++; } }));
    expect(senseOf(run(t, [0x00, 0, 0, 0, 0, 0]).r)).toEqual([2, 0x3a, 0]);
    expect(senseOf(run(t, [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]).r)).toEqual([2, 0x3a, 0]);
    t.insert(iso());
    expect(senseOf(run(t, [0x00, 0, 0, 0, 0, 0]).r)).toEqual([6, 0x28, 0]);
    expect(run(t, [0x00, 0, 0, 0, 0, 0]).r.status).toBe(STATUS_GOOD);
    const ev = run(t, [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0]).buf;
    expect([ev[4], ev[5]]).toEqual([2, 2]);
    expect(run(t, [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0]).buf[4]).toBe(0);  // reported once
    expect([...run(t, [0x4a, 1, 0, 0, 0x00, 0, 0, 0, 8, 0]).buf.subarray(0, 4)]).toEqual([0, 0, 0x80, 0x10]); // no class asked: no event
    expect(run(t, [0x1e, 0, 0, 0, 1, 0]).r.status).toBe(STATUS_GOOD);      // lock
    expect(senseOf(run(t, [0x1b, 0, 0, 0, 2, 0]).r)).toEqual([5, 0x53, 2]);
    expect(run(t, [0x1e, 0, 0, 0, 0, 0]).r.status).toBe(STATUS_GOOD);
    expect(run(t, [0x1b, 0, 0, 0, 2, 0]).r.status).toBe(STATUS_GOOD);
    expect(ejected).toBe(1);
    expect(t.medium).toBeUndefined();
  });
});
