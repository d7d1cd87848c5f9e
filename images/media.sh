#!/usr/bin/env bash
# Boot media for the default guest, from Debian's syslinux packages (called by build.sh):
#   boot.vhd  a dynamic VHD: syslinux's MBR, one active FAT16 partition with syslinux,
#             the kernel and the initramfs; assembled raw, then written by soulvm's own VHD code
#   boot.iso  an El Torito "no emulation" ISO with isolinux, the kernel and the initramfs
# Usage: media.sh VMLINUZ INITRAMFS CMDLINE OUTDIR WORKDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vmlinuz=$1 initrd=$2 cmdline=$3 out=$4 work=$5
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
say() { echo "images: $*" >&2; }

# Host tools: syslinux (its mtools-based installer), syslinux-common (mbr.bin, ldlinux.c32),
# isolinux, mtools, xorriso.
need=()
command -v syslinux >/dev/null || need+=(syslinux)
[ -f /usr/lib/syslinux/mbr/mbr.bin ] && [ -f /usr/lib/syslinux/modules/bios/ldlinux.c32 ] || need+=(syslinux-common)
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || need+=(isolinux)
command -v mcopy >/dev/null || need+=(mtools)
command -v xorriso >/dev/null || need+=(xorriso)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null \
    || { $SUDO apt-get update -qq || true; $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

# The boot menu: no prompt, no wait; syslinux echoes to COM1 so a headless run shows it.
config() {
  cat <<CFG
serial 0 115200
default linux
prompt 0
timeout 0
label linux
  kernel /vmlinuz
  initrd /initrd.gz
  append $cmdline
CFG
}

# --- the hard disk: 64 MiB, partition 1 from sector 2048 to the end (16 heads, 63 sectors) ---
disk_sectors=131072 start=2048
part_sectors=$((disk_sectors - start))
raw=$work/disk.img
rm -f "$raw"
truncate -s $((disk_sectors * 512)) "$raw"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
# CHS of an LBA for the partition entry (heads 16, sectors 63): head, sector|cyl-high, cyl-low.
chs() { local c=$(($1 / 1008)) h=$((($1 / 63) % 16)) s=$(($1 % 63 + 1)); printf '\\x%02x\\x%02x\\x%02x' $h $(((s & 63) | ((c >> 8) << 6))) $((c & 255)); }
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
entry="\\x80$(chs $start)\\x06$(chs $((disk_sectors - 1)))$(le32 $start)$(le32 $part_sectors)"
printf "$entry" | dd of="$raw" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$raw" bs=1 seek=510 conv=notrunc status=none
fat="$raw@@$((start * 512))"
mformat -i "$fat" -T $part_sectors -h 16 -s 63 -H $start -v SOULVM ::
mmd -i "$fat" ::/syslinux
config | mcopy -i "$fat" - ::/syslinux/syslinux.cfg
mcopy -i "$fat" "$vmlinuz" ::/vmlinuz
mcopy -i "$fat" "$initrd" ::/initrd.gz
syslinux --offset $((start * 512)) --install --directory /syslinux "$raw"
rm -f "$out/boot.vhd.tmp.vhd"
node "$here/../bin/soulvm.mjs" disk convert --type dynamic "$raw" "$out/boot.vhd.tmp.vhd" >/dev/null
mv "$out/boot.vhd.tmp.vhd" "$out/boot.vhd"

# --- the CD: isolinux ---
iso=$work/iso
mkdir -p "$iso/isolinux"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
config > "$iso/isolinux/isolinux.cfg"
cp "$vmlinuz" "$iso/vmlinuz"
cp "$initrd" "$iso/initrd.gz"
xorriso -as mkisofs -quiet -o "$out/boot.iso.tmp" -V SOULVM -J -R \
  -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$iso"
mv "$out/boot.iso.tmp" "$out/boot.iso"
say "built boot.vhd (syslinux) and boot.iso (isolinux)"
