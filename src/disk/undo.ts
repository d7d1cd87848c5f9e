// Undo disks (Virtual PC's .vud files): the session writes into a differencing disk over the
// machine's disk, which is left untouched; at the end the changes are committed (merged into
// the disk) or discarded (the undo file is deleted). Each student in a lab gets a fresh machine
// by discarding.
import * as fs from 'node:fs';
import { DiskError } from './block-device.ts';
import { merge } from './ops.ts';
import { VhdDisk, createVhd } from './vhd.ts';

/** `machine.vhd` → `machine.vud`. */
export function undoPathFor(basePath: string): string {
  return basePath.replace(/\.vhd$/i, '') + '.vud';
}

/**
 * Open the session disk: the undo disk over `basePath`, created empty if there is none yet
 * (an existing one, kept from an earlier session, is reopened and goes on collecting changes).
 */
export function openWithUndo(basePath: string, undoPath = undoPathFor(basePath)): VhdDisk {
  if (!fs.existsSync(undoPath)) createVhd(undoPath, { type: 'differencing', parent: basePath });
  const disk = VhdDisk.open(undoPath);
  if (disk.type !== 'differencing') {
    disk.close();
    throw new DiskError('bad-format', undoPath, 'an undo disk must be a differencing disk');
  }
  return disk;
}

/** Merge the session's changes into the base disk and remove the undo disk. */
export function commitUndo(undoPath: string): void {
  merge(undoPath, { deleteChild: true });
}

/** Throw the session's changes away. */
export function discardUndo(undoPath: string): void {
  const d = VhdDisk.open(undoPath, { readOnly: true, noParent: true });
  const type = d.type;
  d.close();
  if (type !== 'differencing') throw new DiskError('bad-format', undoPath, 'not a differencing disk; refusing to delete it');
  fs.unlinkSync(undoPath);
}
