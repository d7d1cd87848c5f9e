// Debian's kernel boots the way a user's VM boots: the BIOS loads syslinux from a dynamic VHD
// on the PIIX IDE controller (cdrom-boot.test.ts: isolinux from an ISO), syslinux loads the
// kernel and initramfs through INT 13h, and Linux's own ata_piix driver takes the disks over
// with bus-master DMA. The guest writes known patterns to a plain VHD and to undo disks; after
// it powers off, the host reads them back from the files. Deterministic clock: the same run
// each time. The images come from images/build.sh (Debian's kernel, busybox and syslinux).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc.ts';
import { VhdDisk, createVhd, openWithUndo, commitUndo, discardUndo, undoPathFor } from '../../src/disk/index.ts';
import type { BlockDevice } from '../../src/disk/block-device.ts';
import { diskImages } from './guest.ts';
import { bootToShell, dmaCounter, reportGuestOnFailure, sh } from './shell.ts';
import { readVhd, sameBytes } from '../disk/helpers.ts';

const MiB = 1 << 20;
reportGuestOnFailure();
const rtcStart = new Date('2026-01-01T00:00:00Z');

/** What the guest's awk writes: 64-byte lines "<tag>-<10-digit line number>-<filler>\n". */
function pattern(tag: string, bytes: number): Uint8Array {
  const lines: string[] = [];
  for (let i = 0; i < bytes / 64; i++) {
    const head = `${tag}-${String(i).padStart(10, '0')}-`;
    lines.push(head + 'x'.repeat(63 - head.length) + '\n');
  }
  return new TextEncoder().encode(lines.join(''));
}
/** The guest command that writes pattern(tag, bytes) to a file. */
const awkPattern = (tag: string, bytes: number, file: string) =>
  `awk 'BEGIN { for (i = 0; i < ${bytes / 64}; i++) printf "${tag}-%010d-${'x'.repeat(63 - tag.length - 12)}\\n", i }' > ${file}`;

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'soulvm-diskboot-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('booting Debian from IDE disks', () => {
  it('boots from a dynamic VHD through syslinux; ata_piix uses DMA; writes reach a VHD and an undo disk',
    { timeout: 2_400_000 }, async () => {
      const images = diskImages();
      // The lab set-up: the boot disk itself runs as an undo disk (thrown away afterwards).
      const boot = join(dir, 'boot.vhd');
      copyFileSync(images.vhd, boot);
      const bootHash = sha(boot);
      const data = join(dir, 'data.vhd'), scratch = join(dir, 'scratch.vhd');
      createVhd(data, { type: 'dynamic', size: 16 * MiB });
      createVhd(scratch, { type: 'dynamic', size: 16 * MiB });
      const scratchHash = sha(scratch);
      const disks: BlockDevice[] = [openWithUndo(boot), VhdDisk.open(data), openWithUndo(scratch)];

      const m = new PcMachine({ clock: 'deterministic', onReset: 'stop', rtcStart, hardDisks: disks, bootOrder: ['hd'] });
      const dma = dmaCounter(m);
      await bootToShell(m, /SYSLINUX \d/);
      expect(m.serialOutput).toMatch(/Linux version 6\.\d+/);

      // Linux's ata_piix driver found the three disks and put each in a DMA mode.
      const dmesg = await sh(m, "dmesg | grep -E 'ata_piix|ata[0-9]|sd [0-9]'");
      expect(dmesg).toMatch(/scsi host\d: ata_piix/);
      expect(dmesg).toMatch(/ata1\.00: ATA-\d+: Virtual HD/);
      expect(dmesg).toMatch(/\[sdb\] \d+ 512-byte logical blocks/);
      const modes = await sh(m, 'cat /sys/class/ata_device/dev1.0/xfer_mode /sys/class/ata_device/dev1.1/xfer_mode /sys/class/ata_device/dev2.1/xfer_mode');
      expect(modes.match(/XFER_\w+/g)).toEqual(['XFER_UDMA_2', 'XFER_UDMA_2', 'XFER_UDMA_2']); // UDMA/33, the PIIX4's best

      // A 1 MiB pattern onto the plain VHD (sdb) and another onto the undo disk (sdc); one
      // 64 KiB scribble onto the boot disk's unused sectors after the MBR (sda, an undo disk).
      const before = dma[0] + dma[1];
      await sh(m, awkPattern('soulvm-data', MiB, '/tmp/data'));
      await sh(m, awkPattern('soulvm-undo', MiB, '/tmp/undo'));
      // (Commands stay shorter than a terminal line: the shell's line editor redraws longer ones.)
      for (const command of ['dd if=/tmp/data of=/dev/sdb bs=64k conv=fsync', 'dd if=/tmp/undo of=/dev/sdc bs=64k conv=fsync']) {
        const out = await sh(m, command, 6e9);
        expect(out, out).toMatch(/16\+0 records out/);
      }
      const scribble = await sh(m, 'dd if=/tmp/undo of=/dev/sda bs=64k count=1 seek=1 conv=fsync');
      expect(scribble, scribble).toMatch(/1\+0 records out/);
      // Read back past the page cache: the data comes from the disk again.
      await sh(m, 'echo 3 > /proc/sys/vm/drop_caches');
      const sums = [await sh(m, 'dd if=/dev/sdb bs=64k count=16 2>/dev/null | md5sum', 6e9), await sh(m, 'md5sum < /tmp/data')]
        .map((out) => out.match(/\b[0-9a-f]{32}\b/)?.[0]);
      expect(sums[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(sums[0]).toBe(sums[1]);
      expect(dma[0] + dma[1] - before).toBeGreaterThanOrEqual(3 * MiB);

      m.sendSerial('poweroff -f\n');
      const end = await m.run({ maxInstructions: 3e9 });
      expect(end.stop, m.serialOutput.slice(-1000)).toMatch(/halted|poweroff/);
      m.close();

      // The host reads the guest's pattern from the plain VHD.
      expect(sameBytes(readVhd(data, 0, MiB), pattern('soulvm-data', MiB))).toBe(true);
      // Undo disks: the bases are untouched; discarding keeps them so, committing writes the change.
      expect(sha(boot)).toBe(bootHash);
      expect(sha(scratch)).toBe(scratchHash);
      discardUndo(undoPathFor(boot));
      expect(existsSync(undoPathFor(boot))).toBe(false);
      expect(sha(boot)).toBe(bootHash);
      commitUndo(undoPathFor(scratch));
      expect(existsSync(undoPathFor(scratch))).toBe(false);
      expect(sameBytes(readVhd(scratch, 0, MiB), pattern('soulvm-undo', MiB))).toBe(true);
    });
});
