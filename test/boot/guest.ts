// The default guest (images/out, built from Debian packages by images/build.sh) for the boot
// test and the boot benchmark.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LinuxBootOptions } from '../../src/machine/linux.ts';

const images = fileURLToPath(new URL('../../images/', import.meta.url));
export const GUEST_READY = 'SOULVM-GUEST-READY';

/** Build the default guest when it is missing (needs apt on a Debian-family host). */
export function ensureGuestImages(): void {
  const outputs = ['vmlinuz', 'initramfs.gz', 'boot.vhd', 'boot.iso'];
  if (outputs.every((f) => existsSync(`${images}out/${f}`))) return;
  const r = spawnSync('bash', [`${images}build.sh`], { stdio: 'inherit', timeout: 15 * 60_000 });
  if (r.status !== 0) throw new Error('images/build.sh failed: the default guest could not be built');
}

/** The Debian package versions the images were built from (images/out/versions, written by build.sh). */
export function guestVersions(): string {
  const file = `${images}out/versions`;
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : 'unknown (images/out/versions is missing: rebuild with npm run images)';
}

export function defaultGuest(): LinuxBootOptions {
  ensureGuestImages();
  const cmdline = readFileSync(`${images}out/cmdline`, 'utf8').trim();
  return {
    kernel: new Uint8Array(readFileSync(`${images}out/vmlinuz`)), kernelName: 'images/out/vmlinuz',
    initrd: new Uint8Array(readFileSync(`${images}out/initramfs.gz`)), initrdName: 'images/out/initramfs.gz',
    cmdline,
  };
}

/** The default guest on boot media: a syslinux dynamic VHD and an isolinux ISO. */
export function diskImages(): { vhd: string; iso: string } {
  ensureGuestImages();
  return { vhd: `${images}out/boot.vhd`, iso: `${images}out/boot.iso` };
}
