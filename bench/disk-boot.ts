// Disk boot benchmark: the default guest from images/out/boot.vhd (syslinux on the PIIX IDE,
// an undo disk so the image stays as built) to its shell, host clock as `soulvm run` uses it;
// then the guest's dd writes and reads 32 MiB on a second dynamic VHD through ata_piix (DMA),
// timed on the host's clock around each command. Prints one line:
//   disk-boot-bench: seconds-to-shell=<s> dd-write-mbs=<MB/s> dd-read-mbs=<MB/s> dma=<mode>
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcMachine } from '../src/machine/pc.ts';
import { VhdDisk, createVhd, openWithUndo, discardUndo } from '../src/disk/index.ts';
import { diskImages, GUEST_READY } from '../test/boot/guest.ts';

const MB = 32;
const PROMPT = 'soulvm:/root# ';
const dir = mkdtempSync(join(tmpdir(), 'soulvm-diskbench-'));
const { vhd } = diskImages();
const data = join(dir, 'data.vhd'), vud = join(dir, 'boot.vud');
createVhd(data, { type: 'dynamic', size: 64 << 20 });
const m = new PcMachine({ clock: 'host', onReset: 'stop', hardDisks: [openWithUndo(vhd, vud), VhdDisk.open(data)], bootOrder: ['hd'] });

async function until(what: string, timeoutMs: number): Promise<void> {
  const r = await m.run({ until: what, timeoutMs });
  if (r.stop !== 'found') throw new Error(`waiting for ${JSON.stringify(what)}: ${r.stop}\n${m.serialOutput.slice(-2000)}`);
}
/** Run a command; the host seconds until its prompt comes back, and what it printed. */
async function timed(command: string): Promise<{ seconds: number; out: string }> {
  const from = m.serialOutput.length;
  const t0 = performance.now();
  m.sendSerial(`${command}\n`);
  await until(`\n${PROMPT}`, 10 * 60_000);
  return { seconds: (performance.now() - t0) / 1000, out: m.serialOutput.slice(from) };
}

const t0 = performance.now();
await until(GUEST_READY, 30 * 60_000);
const toShell = (performance.now() - t0) / 1000;
await until(PROMPT, 60_000);
const mode = /XFER_(\w+)/.exec((await timed('cat /sys/class/ata_device/dev1.1/xfer_mode')).out)?.[1] ?? 'none';
await timed(`dd if=/dev/zero of=/tmp/z bs=1M count=${MB}`);
const write = await timed(`dd if=/tmp/z of=/dev/sdb bs=64k conv=fsync`);
await timed('echo 3 > /proc/sys/vm/drop_caches');
const read = await timed(`dd if=/dev/sdb of=/dev/null bs=64k count=${MB * 16}`);
m.sendSerial('poweroff -f\n');
await m.run({ timeoutMs: 60_000 });
m.close();
discardUndo(vud);
rmSync(dir, { recursive: true, force: true });
console.log(`disk-boot-bench: seconds-to-shell=${toShell.toFixed(1)} dd-write-mbs=${(MB / write.seconds).toFixed(1)} dd-read-mbs=${(MB / read.seconds).toFixed(1)} dma=${mode}`);
