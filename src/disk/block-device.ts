// The block-device interface every storage controller talks to, and the typed error of src/disk.
//
// The interface is synchronous on purpose: the emulator runs in one thread, disk transfers are
// small (a few sectors), and an emulated IDE or SCSI controller wants to complete a transfer
// inside the port access that started it. Node's fs.readSync/writeSync/fsyncSync on a file
// descriptor cost a few microseconds and keep every backend free of promise plumbing. A caller
// that prefers async can wrap a call in a microtask or a worker; nothing here holds a lock
// across calls, so that stays cheap.

/** Bytes per sector of hard disk images (VHD, raw). ISO images use 2048. */
export const SECTOR_SIZE = 512;

export interface BlockDevice {
  /** Bytes per sector: 512 for hard disks, 2048 for CD-ROM images. */
  readonly sectorSize: number;
  /** Number of sectors the guest sees. */
  readonly sectorCount: number;
  readonly readOnly: boolean;
  /** Fill `buf` (a whole number of sectors) from sector `sector` on. */
  read(sector: number, buf: Uint8Array): void;
  /** Write `data` (a whole number of sectors) at sector `sector`. Visible to reads at once. */
  write(sector: number, data: Uint8Array): void;
  /** Make every write so far durable (fsync): after it returns, a crash loses none of them. */
  flush(): void;
  /** Flush and release the file(s). The device is unusable afterwards. */
  close(): void;
}

export type DiskErrorCode =
  | 'truncated'        // file shorter than its structures say
  | 'bad-cookie'       // not a VHD footer / dynamic header where one must be
  | 'bad-checksum'     // footer or dynamic header checksum mismatch
  | 'bad-format'       // a field holds an impossible value
  | 'unsupported'      // valid but not something we handle (e.g. unknown header version)
  | 'bat-beyond-eof'   // a block allocation table entry points past the end of the file
  | 'bat-overlap'      // two blocks, or a block and metadata, share bytes
  | 'bad-block-size'   // block size not a power of two
  | 'parent-missing'   // no parent locator leads to a file
  | 'parent-changed'   // a parent was found but its unique id or timestamp differs
  | 'parent-loop'      // a differencing chain refers back to itself
  | 'out-of-range'     // access past the last sector, or a misaligned buffer
  | 'read-only'        // write to a read-only device
  | 'exists'           // refusing to replace an existing file
  | 'io';              // the host file system failed

/** A problem with a disk file or a disk operation, with a message meant for the user. */
export class DiskError extends Error {
  /** Lets the CLI print the message as one line instead of a stack trace. */
  readonly userFacing = true;
  constructor(readonly code: DiskErrorCode, readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'DiskError';
  }
}

/** Throws unless `buf` is a whole number of sectors lying inside the device. */
export function checkRange(dev: BlockDevice, path: string, sector: number, buf: Uint8Array): number {
  const count = buf.length / dev.sectorSize;
  if (!Number.isInteger(count) || !Number.isInteger(sector) || sector < 0 || sector + count > dev.sectorCount) {
    throw new DiskError('out-of-range', path,
      `access of ${buf.length} bytes at sector ${sector} is outside the disk (${dev.sectorCount} sectors of ${dev.sectorSize} bytes)`);
  }
  return count;
}
