// Public surface of src/disk: the block-device interface, its backends and disk operations.
export { type BlockDevice, DiskError, type DiskErrorCode, SECTOR_SIZE } from './block-device.ts';
export { RawDisk, IsoImage, ISO_SECTOR_SIZE } from './raw.ts';
export { VhdDisk, type VhdOpenOptions, type CreateOptions, createVhd, DEFAULT_BLOCK_SIZE } from './vhd.ts';
export { chsGeometry, type Geometry, type VhdType } from './vhd-format.ts';
export {
  openDisk, detectFormat, formatFromName, info, check, convert, compact, merge, resize, copyData,
  type DiskInfo, type CheckReport, type Progress,
} from './ops.ts';
export { openWithUndo, commitUndo, discardUndo, undoPathFor } from './undo.ts';
