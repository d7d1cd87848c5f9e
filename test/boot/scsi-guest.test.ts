// Debian on SCSI (src/devices/scsi), one boot: the BIOS boots syslinux from the guest's VHD on
// a BusLogic BT-958 with the SCSI disks numbered first (an IDE disk is attached too), syslinux
// loads the kernel and initramfs through INT 13h (cryptomgr.notests is on the media's command
// line), and the kernel loads BusLogic and aha1542 from the initramfs. BusLogic finds the
// BT-958 on the PCI bus: the boot disk at ID 0, a 64 MiB data disk at ID 1, a CD-ROM drive
// with the guest's ISO at ID 3. aha1542 finds an AHA-1542C at 330h (IRQ 10, DMA 5) with a
// 32 MiB disk at ID 0. The test checks what Linux reports, writes a dd pattern through each
// adapter that the host then reads from the VHDs, reads the CD, and times dd through each
// adapter and through the IDE disk the same way (host seconds around each command; printed,
// not checked). Deterministic clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc.ts';
import { VhdDisk, createVhd, openWithUndo } from '../../src/disk/index.ts';
import { IsoImage } from '../../src/disk/raw.ts';
import { diskImages, GUEST_READY } from './guest.ts';
import { awkPattern, pattern, PROMPT, reportGuestOnFailure, sh } from './shell.ts';
import { readVhd, sameBytes } from '../disk/helpers.ts';

const MiB = 1 << 20;
const BENCH_MIB = 8;
reportGuestOnFailure();

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'soulvm-scsi-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('Debian on SCSI: BusLogic BT-958 and Adaptec AHA-1542C', () => {
  it('boots from SCSI, loads both drivers, sees their disks and the CD-ROM; dd patterns reach the VHDs', { timeout: 3_000_000 }, async () => {
    const images = diskImages();
    const boot = join(dir, 'boot.vhd');
    copyFileSync(images.vhd, boot);
    const btData = join(dir, 'bt.vhd'), ahaData = join(dir, 'aha.vhd'), ideData = join(dir, 'ide.vhd');
    createVhd(btData, { type: 'dynamic', size: 64 * MiB });
    createVhd(ahaData, { type: 'dynamic', size: 32 * MiB });
    createVhd(ideData, { type: 'dynamic', size: 64 * MiB });
    // (A VHD's size rounds up to its CHS geometry: 64 MiB is 131104 sectors.)
    const btDisk = VhdDisk.open(btData), ahaDisk = VhdDisk.open(ahaData), ideDisk = VhdDisk.open(ideData);
    const m = new PcMachine({
      clock: 'deterministic', onReset: 'stop', rtcStart: new Date('2026-01-01T00:00:00Z'),
      hardDisks: [ideDisk], bootOrder: ['hd'], scsiFirst: true,
      scsi: [
        { model: 'buslogic', devices: [{ id: 0, disk: openWithUndo(boot) }, { id: 1, disk: btDisk }, { id: 3, cdrom: IsoImage.open(images.iso) }] },
        { model: 'aha1542', isa: { port: 0x330, irq: 10, dma: 5 }, devices: [{ id: 0, disk: ahaDisk }] },
      ],
    });
    const banner = await m.run({ until: /SYSLINUX \d/, maxInstructions: 2e9 });
    expect(banner.stop, m.serialOutput.slice(-1000)).toBe('found');
    const ready = await m.run({ until: GUEST_READY, maxInstructions: 30e9 });
    expect(ready.stop, m.serialOutput.slice(-3000)).toBe('found');
    expect((await m.run({ until: PROMPT, maxInstructions: 1e9 })).stop).toBe('found');
    const log = m.serialOutput;
    expect(log).toMatch(/Kernel command line: .*cryptomgr\.notests/);
    expect(log).not.toMatch(/Oops|BUG:|Call Trace|WARNING:|DETACHING|FAILED/);
    // BusLogic's own report of the adapter it configured, and what the SCSI layer found on it.
    expect(log).toMatch(/Configuring BusLogic Model BT-958 PCI Wide Ultra SCSI Host Adapter/);
    expect(log).toMatch(/Firmware Version: 5\.07B, I\/O Address: 0x[0-9A-F]+, IRQ Channel: 1[01]\/Level/);
    expect(log).toMatch(/\*\*\* BusLogic BT-958 Initialized Successfully \*\*\*/);
    const btHost = /scsi host(\d+): BusLogic BT-958/.exec(log)?.[1];
    expect(btHost).toBeDefined();
    expect(log).toMatch(new RegExp(`scsi ${btHost}:0:0:0: Direct-Access +Msft +Virtual Disk +1\\.0 +PQ: 0 ANSI: 5`));
    expect(log).toMatch(new RegExp(`scsi ${btHost}:0:3:0: CD-ROM +Msft +Virtual CD-ROM +1\\.0 +PQ: 0 ANSI: 5`));
    expect(log).toMatch(new RegExp(`sr ${btHost}:0:3:0: \\[sr0\\]`));
    // aha1542: the ISA card with its DMA channel.
    expect(log).toMatch(/scsi host(\d+): Adaptec AHA-1542 \(SCSI-ID 7\) at IO 0x330, IRQ 10, DMA 5/);
    const ahaHost = /scsi host(\d+): Adaptec AHA-1542/.exec(log)?.[1];
    expect(log).toMatch(new RegExp(`scsi ${ahaHost}:0:0:0: Direct-Access +Msft +Virtual Disk +1\\.0 +PQ: 0 ANSI: 5`));

    // Which sd is which: host, target and size of each (the script is written in short lines).
    for (const line of [
      'for d in /sys/block/sd*; do p=$(readlink -f $d/device)',
      'h=${p#*/host}; h=${h%%/*}; n=$(cat /sys/class/scsi_host/host$h/proc_name)',
      'echo "DEV ${d##*/} $n ${p##*/} $(cat $d/size)"; done',
    ]) await sh(m, `echo '${line}' >> /tmp/devs.sh`);
    const list = await sh(m, 'sh /tmp/devs.sh');
    const devs = [...list.matchAll(/DEV (sd[a-z]) (\S+) (\d+):0:(\d+):0 (\d+)/g)].map((x) => ({ name: x[1], driver: x[2], id: Number(x[4]), size: Number(x[5]) }));
    const find = (driver: string, id: number) => devs.find((d) => d.driver === driver && d.id === id);
    expect(find('BusLogic', 0), list).toBeDefined();
    expect(find('BusLogic', 1), list).toMatchObject({ size: btDisk.sectorCount });
    expect(find('aha1542', 0), list).toMatchObject({ size: ahaDisk.sectorCount });
    const ide = devs.find((d) => d.driver === 'ata_piix');
    expect(ide, list).toMatchObject({ size: ideDisk.sectorCount });
    expect(log).toMatch(new RegExp(`sd ${btHost}:0:1:0: \\[sd[a-z]\\] ${btDisk.sectorCount} 512-byte logical blocks: \\(67\\.1 MB/64\\.0 MiB\\)`));
    const bt = find('BusLogic', 1)!.name, aha = find('aha1542', 0)!.name;

    // The CD: the ISO's primary volume descriptor at block 16.
    const pvd = await sh(m, 'dd if=/dev/sr0 bs=2k skip=16 count=1 2>/dev/null | od -c | head -n 1');
    expect(pvd).toMatch(/001\s+C\s+D\s+0\s+0\s+1/);

    // A 1 MiB pattern onto each adapter's data disk, read back past the page cache.
    for (const [tag, dev] of [['soulvm-bt', bt], ['soulvm-aha', aha]]) {
      await sh(m, awkPattern(tag, MiB, '/tmp/data'));
      const w = await sh(m, `dd if=/tmp/data of=/dev/${dev} bs=64k conv=fsync`, 8e9);
      expect(w, w).toMatch(/16\+0 records out/);
      await sh(m, 'echo 3 > /proc/sys/vm/drop_caches');
      const sums = [await sh(m, `dd if=/dev/${dev} bs=64k count=16 2>/dev/null | md5sum`, 8e9), await sh(m, 'md5sum < /tmp/data')]
        .map((out) => out.match(/\b[0-9a-f]{32}\b/)?.[0]);
      expect(sums[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(sums[0]).toBe(sums[1]);
    }

    // Throughput: the same commands on each disk, host seconds around each.
    const timed = async (command: string) => {
      const t0 = performance.now();
      const out = await sh(m, command, 60e9);
      return { seconds: (performance.now() - t0) / 1000, out };
    };
    await sh(m, `dd if=/dev/zero of=/tmp/z bs=1M count=${BENCH_MIB} 2>/dev/null`);
    const figures: string[] = [];
    for (const [what, dev] of [['BusLogic', bt], ['AHA-1542', aha], ['IDE (ata_piix)', ide!.name]] as const) {
      const wr = await timed(`dd if=/tmp/z of=/dev/${dev} bs=64k seek=32 conv=fsync`);
      expect(wr.out).toMatch(new RegExp(`${BENCH_MIB * 16}\\+0 records out`));
      await sh(m, 'echo 3 > /proc/sys/vm/drop_caches');
      const rd = await timed(`dd if=/dev/${dev} of=/dev/null bs=64k skip=32 count=${BENCH_MIB * 16}`);
      expect(rd.out).toMatch(new RegExp(`${BENCH_MIB * 16}\\+0 records in`));
      figures.push(`${what}: write ${(BENCH_MIB / wr.seconds).toFixed(2)} MB/s, read ${(BENCH_MIB / rd.seconds).toFixed(2)} MB/s`);
    }
    console.log(`scsi-guest dd throughput (${BENCH_MIB} MiB in 64 KiB blocks, deterministic clock, host seconds): ${figures.join('; ')}`);

    m.sendSerial('poweroff -f\n');
    const end = await m.run({ maxInstructions: 3e9 });
    expect(end.stop, m.serialOutput.slice(-1000)).toMatch(/halted|poweroff/);
    m.close();
    expect(sameBytes(readVhd(btData, 0, MiB), pattern('soulvm-bt', MiB))).toBe(true);
    expect(sameBytes(readVhd(ahaData, 0, MiB), pattern('soulvm-aha', MiB))).toBe(true);
  });
});
