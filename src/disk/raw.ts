// Flat images: a raw hard disk (.img/.raw) and an ISO 9660 CD image (2048-byte sectors, read-only).
import * as fs from 'node:fs';
import { type BlockDevice, DiskError, SECTOR_SIZE, checkRange } from './block-device.ts';
import { fileSize, preadFull, pwriteFull } from './file-io.ts';

export interface OpenOptions {
  readOnly?: boolean;
}

/** A file whose bytes are the disk's bytes. A trailing partial sector reads zero-padded. */
export class FlatDisk implements BlockDevice {
  readonly sectorCount: number;
  private closed = false;

  protected constructor(
    readonly path: string,
    private readonly fd: number,
    readonly sectorSize: number,
    readonly readOnly: boolean,
  ) {
    this.sectorCount = Math.ceil(fileSize(fd) / sectorSize);
  }

  read(sector: number, buf: Uint8Array): void {
    checkRange(this, this.path, sector, buf);
    preadFull(this.fd, buf, sector * this.sectorSize);
  }

  write(sector: number, data: Uint8Array): void {
    if (this.readOnly) throw new DiskError('read-only', this.path, 'the disk is open read-only');
    checkRange(this, this.path, sector, data);
    pwriteFull(this.fd, data, sector * this.sectorSize);
  }

  flush(): void {
    if (!this.readOnly) fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

export class RawDisk extends FlatDisk {
  static open(path: string, opts: OpenOptions = {}): RawDisk {
    return new RawDisk(path, openFile(path, !!opts.readOnly), SECTOR_SIZE, !!opts.readOnly);
  }

  /** Create a zero-filled (sparse) raw image of `bytes` (rounded up to whole sectors). */
  static create(path: string, bytes: number): void {
    const fd = openNew(path);
    try { fs.ftruncateSync(fd, Math.ceil(bytes / SECTOR_SIZE) * SECTOR_SIZE); } finally { fs.closeSync(fd); }
  }
}

export const ISO_SECTOR_SIZE = 2048;

export class IsoImage extends FlatDisk {
  static open(path: string): IsoImage {
    return new IsoImage(path, openFile(path, true), ISO_SECTOR_SIZE, true);
  }
}

export function openFile(path: string, readOnly: boolean): number {
  try {
    return fs.openSync(path, readOnly ? 'r' : 'r+');
  } catch (e) {
    throw ioError(path, e);
  }
}

/** Create a file that must not exist yet. */
export function openNew(path: string): number {
  try {
    return fs.openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new DiskError('exists', path, 'file already exists; not replacing it');
    throw ioError(path, e);
  }
}

export function ioError(path: string, e: unknown): DiskError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return new DiskError('io', path, 'no such file');
  return new DiskError('io', path, err.message ?? String(e));
}
