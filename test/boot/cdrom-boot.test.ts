// Debian's kernel boots from a CD: the BIOS finds the El Torito boot catalog on the ISO in the
// ATAPI drive (IDE secondary master), loads isolinux "no emulation", isolinux reads the kernel
// and initramfs through INT 13h on the CD's drive number, and Linux's ata_piix and sr drivers
// then read the disc with bus-master DMA. Deterministic clock. Images from images/build.sh.
import { describe, expect, it } from 'vitest';
import { PcMachine } from '../../src/machine/pc.ts';
import { IsoImage } from '../../src/disk/index.ts';
import { diskImages } from './guest.ts';
import { bootToShell, dmaCounter, reportGuestOnFailure, sh } from './shell.ts';

reportGuestOnFailure();
const rtcStart = new Date('2026-01-01T00:00:00Z');

describe('booting Debian from a CD', () => {
  it('boots from an ISO on the ATAPI CD-ROM through isolinux (El Torito); Linux reads the disc by DMA',
    { timeout: 2_400_000 }, async () => {
      const images = diskImages();
      const m = new PcMachine({ clock: 'deterministic', onReset: 'stop', rtcStart, cdrom: IsoImage.open(images.iso), bootOrder: ['cdrom', 'hd'] });
      const dma = dmaCounter(m);
      await bootToShell(m, /ISOLINUX \d/);
      const dmesg = await sh(m, "dmesg | grep -E 'ata2|sr0|sr '");
      expect(dmesg).toMatch(/ata2\.00: ATAPI: /);
      expect((await sh(m, 'cat /sys/class/ata_device/dev2.0/xfer_mode')).match(/XFER_\w+/)?.[0]).toBe('XFER_UDMA_2');
      expect(dmesg).toMatch(/\[sr0\] scsi3-mmc drive/);
      // The primary volume descriptor, read by the guest from the disc.
      const before = dma[1];
      const pvd = await sh(m, 'dd if=/dev/sr0 bs=2k skip=16 count=1 | od -c | head -n 1');
      expect(pvd).toMatch(/001\s+C\s+D\s+0\s+0\s+1/);
      expect(dma[1]).toBeGreaterThan(before);
      m.sendSerial('poweroff -f\n');
      const end = await m.run({ maxInstructions: 3e9 });
      expect(end.stop, m.serialOutput.slice(-1000)).toMatch(/halted|poweroff/);
      m.close();
    });
});
