// Positioned, complete reads and writes on file descriptors, and whole-file replacement.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskError } from './block-device.ts';

/** Read exactly buf.length bytes at `pos`; bytes past the end of the file read as zero. */
export function preadFull(fd: number, buf: Uint8Array, pos: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = fs.readSync(fd, buf, done, buf.length - done, pos + done);
    if (n === 0) { buf.fill(0, done); return; }
    done += n;
  }
}

export function pwriteFull(fd: number, data: Uint8Array, pos: number): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, pos + done);
}

const ZERO_PAGE = Buffer.alloc(4096);

/** True if every byte is zero (compared a page at a time, natively). */
export function isAllZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i += ZERO_PAGE.length) {
    const n = Math.min(ZERO_PAGE.length, b.length - i);
    if (!Buffer.from(b.buffer, b.byteOffset + i, n).equals(ZERO_PAGE.subarray(0, n))) return false;
  }
  return true;
}

export function fileSize(fd: number): number {
  return fs.fstatSync(fd).size;
}

/** A temporary file name beside `target`, so a rename onto it stays within one file system. */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/** Make a rename or link in `dir` durable. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch { /* some file systems refuse fsync on directories; the rename itself is still atomic */ }
  finally { if (fd !== undefined) fs.closeSync(fd); }
}

/**
 * Build a file at a temporary path with `build`, make it durable, then put it in place:
 * replacing `target` (rename) or, with `exclusive`, failing if `target` appeared meanwhile
 * (link). A crash at any point leaves either the old file or the new one, never a mix.
 */
export function replaceFile(target: string, build: (tmp: string) => void, exclusive: boolean): void {
  const tmp = tempPathFor(target);
  try {
    build(tmp);
    const fd = fs.openSync(tmp, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    if (exclusive) {
      try { fs.linkSync(tmp, target); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new DiskError('exists', target, 'file already exists; not replacing it');
        throw e;
      }
      fs.unlinkSync(tmp);
    } else {
      fs.renameSync(tmp, target);
    }
    fsyncDir(path.dirname(target));
  } finally {
    try { fs.unlinkSync(tmp); } catch { /* already moved */ }
  }
}
