// A SCSI disk as the BIOS's INT 13h sees it: a BlockDevice whose reads and writes are SCSI
// commands to the target (READ(10)/WRITE(10), or the 16-byte forms past 2 TiB worth of
// blocks; SYNCHRONIZE CACHE for flush), what a SCSI adapter's BIOS does for the drives it
// installs. A unit attention (the power-on or reset one) is retried as that BIOS retries it;
// any other CHECK CONDITION becomes a DiskError, which INT 13h reports as a failed transfer.

import { type BlockDevice, DiskError, checkRange } from '../../disk/block-device.ts';
import { ArrayDataBuffer, KEY_UNIT_ATTENTION, NO_DATA, STATUS_GOOD, put16, put32, put64, get32, type ScsiResult, type ScsiTarget } from './scsi.ts';

const SECTOR = 512;

export class ScsiBiosDisk implements BlockDevice {
  readonly sectorSize = SECTOR;
  readonly sectorCount: number;
  readonly readOnly = false;
  private readonly name: string;

  constructor(private readonly target: ScsiTarget, name: string) {
    this.name = name;
    const cap = new Uint8Array(8);
    const r = this.run(Uint8Array.of(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), new ArrayDataBuffer(cap));
    if (r.status !== STATUS_GOOD) throw new DiskError('io', name, 'READ CAPACITY failed');
    const last = get32(cap, 0);
    if (last === 0xffffffff) {
      const cap16 = new Uint8Array(32);
      this.run(Uint8Array.of(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), new ArrayDataBuffer(cap16));
      this.sectorCount = get32(cap16, 0) * 0x100000000 + get32(cap16, 4) + 1;
    } else {
      this.sectorCount = last + 1;
    }
    if (get32(cap, 4) !== SECTOR) throw new DiskError('unsupported', name, `blocks of ${get32(cap, 4)} bytes`);
  }

  /** Execute a command for LUN 0, retrying a unit attention twice. */
  private run(cdb: Uint8Array, data = NO_DATA): ScsiResult {
    let r = this.target.execute(0, cdb, data);
    for (let i = 0; i < 2 && r.status !== STATUS_GOOD && r.sense && (r.sense[2] & 0x0f) === KEY_UNIT_ATTENTION; i++) {
      r = this.target.execute(0, cdb, data);
    }
    return r;
  }

  private rw(op: 'read' | 'write', sector: number, buf: Uint8Array): void {
    const count = checkRange(this, this.name, sector, buf);
    for (let done = 0; done < count;) {
      const n = Math.min(count - done, 0xffff), lba = sector + done;
      let cdb: Uint8Array;
      if (lba + n <= 0x100000000) {
        cdb = new Uint8Array(10);
        cdb[0] = op === 'read' ? 0x28 : 0x2a;
        put32(cdb, 2, lba);
        put16(cdb, 7, n);
      } else {
        cdb = new Uint8Array(16);
        cdb[0] = op === 'read' ? 0x88 : 0x8a;
        put64(cdb, 2, lba);
        put32(cdb, 10, n);
      }
      const part = buf.subarray(done * SECTOR, (done + n) * SECTOR);
      const r = this.run(cdb, new ArrayDataBuffer(part));
      if (r.status !== STATUS_GOOD || r.moved !== part.length) {
        const s = r.sense;
        throw new DiskError(op === 'write' && s && (s[2] & 0x0f) === 7 ? 'read-only' : 'io', this.name,
          `${op} of ${n} sectors at ${lba} failed${s ? ` (sense ${(s[2] & 0x0f).toString(16)}/${s[12].toString(16)}/${s[13].toString(16)})` : ''}`);
      }
      done += n;
    }
  }

  read(sector: number, buf: Uint8Array): void { this.rw('read', sector, buf); }
  write(sector: number, data: Uint8Array): void { this.rw('write', sector, data); }
  flush(): void {
    const r = this.run(Uint8Array.of(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    if (r.status !== STATUS_GOOD) throw new DiskError('io', this.name, 'SYNCHRONIZE CACHE failed');
  }
  /** The machine closes the disk's own block device; this view holds nothing. */
  close(): void {}
}
