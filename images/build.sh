#!/usr/bin/env bash
# Builds soulvm's default guest from Debian packages (npm run images):
#   images/out/vmlinuz        the newest i386 686 kernel of the host's Debian release (unsigned)
#   images/out/initramfs.gz   busybox-static (i386) with images/init, plus modules in images/modules.txt
#   images/out/cmdline        the kernel command line the default guest boots with
#   images/out/boot.vhd       a dynamic VHD booting the same guest through syslinux (images/media.sh)
#   images/out/boot.iso       an ISO booting it through isolinux (images/media.sh)
#   images/out/versions       the exact Debian package versions the images were built from
#                             (Debian keeps only its current kernel: the guest tests report these)
# Downloads are cached in images/cache/. Once built, the outputs are reused while this script,
# init, cpio.ts, media.sh and modules.txt are unchanged; `build.sh --update` asks apt for newer packages.
# Works on any Debian-family host with apt; uses sudo for apt when not root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=$here/cache
out=$here/out
mkdir -p "$cache" "$out"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
say() { echo "images: $*" >&2; }
modules_list=$here/modules.txt
cmdline="console=ttyS0 panic=-1"
# The boot media skip the crypto self-tests (about 3 G guest instructions of RSA): the tests that
# boot them are about disks, and the direct boot of the default guest still runs them.
media_cmdline="$cmdline cryptomgr.notests"

inputs=$( { echo "$cmdline $media_cmdline"; cat "$here/init" "$here/cpio.ts" "$here/media.sh" "$0"; [ -f "$modules_list" ] && cat "$modules_list"; true; } | sha256sum | cut -d' ' -f1)
outputs_present() { for f in vmlinuz initramfs.gz boot.vhd boot.iso; do [ -s "$out/$f" ] || return 1; done; }
if [ "${1:-}" != --update ] && outputs_present && [ -f "$out/stamp" ] \
   && [ "$(sed -n 2p "$out/stamp")" = "$inputs" ]; then
  say "up to date ($(sed -n 1p "$out/stamp")); --update checks for newer packages"
  [ -f "$out/versions" ] && sed 's/^/images:   /' "$out/versions" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  say "this script needs a Debian-family host (apt-get, dpkg-deb)"; exit 1
fi

# i386 packages must be visible to apt.
if ! dpkg --print-foreign-architectures | grep -qx i386 && [ "$(dpkg --print-architecture)" != i386 ]; then
  say "adding the i386 architecture to dpkg"
  $SUDO dpkg --add-architecture i386
  $SUDO apt-get update -qq || say "apt-get update reported errors (a mirror mid-sync?); going on with the lists it got"
fi

candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }

# The kernel: the metapackage names the newest ABI; prefer its unsigned build.
resolve_kernel() {
  local abi
  abi=$(apt-cache depends linux-image-686:i386 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { sub(":i386", "", $2); print $2; exit }')
  [ -n "$abi" ] || return 1
  if [ -n "$(candidate "$abi-unsigned:i386")" ] && [ "$(candidate "$abi-unsigned:i386")" != "(none)" ]; then echo "$abi-unsigned"; else echo "$abi"; fi
}
kernel_pkg=$(resolve_kernel || true)
if [ -z "$kernel_pkg" ] || [ -z "$(candidate busybox-static:i386)" ] || [ "$(candidate busybox-static:i386)" = "(none)" ]; then
  say "package lists have no i386 kernel or busybox-static; running apt-get update"
  $SUDO apt-get update -qq || say "apt-get update reported errors (a mirror mid-sync?); going on with the lists it got"
  kernel_pkg=$(resolve_kernel) || { say "no linux-image-686 for i386 in this host's apt sources"; exit 1; }
fi
kernel_ver=$(candidate "$kernel_pkg:i386")
busybox_ver=$(candidate busybox-static:i386)

# Download each .deb once (apt-get download names files pkg_version_arch.deb, ':' escaped).
fetch() {
  local pkg=$1 ver=$2 deb
  deb=$(ls "$cache"/"${pkg}"_*"${ver#*:}"_i386.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    say "downloading $pkg $ver"
    (cd "$cache" && apt-get download -q "$pkg:i386=$ver" >/dev/null 2>&1) \
      || (cd "$cache" && $SUDO apt-get update -qq && apt-get download -q "$pkg:i386=$ver" >/dev/null) \
      || { say "could not download $pkg $ver"; exit 1; }
    deb=$(ls "$cache"/"${pkg}"_*"${ver#*:}"_i386.deb | head -n1)
  fi
  echo "$deb"
}
kernel_deb=$(fetch "$kernel_pkg" "$kernel_ver")
busybox_deb=$(fetch busybox-static "$busybox_ver")

# The stamp names the packages (line 1) and the inputs' hash (line 2).
stamp="$(basename "$kernel_deb") $(basename "$busybox_deb")"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp"$'\n'"$inputs" ] && outputs_present; then
  say "up to date ($stamp)"
  [ -f "$out/versions" ] && sed 's/^/images:   /' "$out/versions" >&2
  exit 0
fi

work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$kernel_deb" "$work/kernel"
dpkg-deb -x "$busybox_deb" "$work/busybox"
vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -n1)
kver=${vmlinuz##*/vmlinuz-}

root=$work/root
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp"
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
chmod 755 "$root/init" "$root/bin/busybox"

# Modules: each name in modules.txt (one a line, '#' comments) with the modules it depends on
# (the "depends=" field of each .ko's modinfo). The guest's init runs depmod and modprobe.
: > "$root/etc/modules"
if [ -f "$modules_list" ] && grep -qv '^[[:space:]]*\(#.*\)\?$' "$modules_list"; then
  moddir=$work/kernel/lib/modules/$kver
  declare -A seen=()
  add_module() {
    local name=${1//-/_} path dep
    path=$(cd "$moddir" && find kernel -name '*.ko*' | awk -v n="$name" '{ f = $0; sub(".*/", "", f); sub("\\.ko.*$", "", f); gsub("-", "_", f); if (f == n && !found) { print; found = 1 } }')
    [ -n "$path" ] || { say "module $1 is not in kernel $kver"; exit 1; }
    [ -n "${seen[$path]:-}" ] && return 0
    seen[$path]=1
    for dep in $(tr '\0' '\n' < "$moddir/$path" | sed -n 's/^depends=//p' | tr ',' ' '); do add_module "$dep"; done
    mkdir -p "$root/lib/modules/$kver/$(dirname "$path")"
    cp "$moddir/$path" "$root/lib/modules/$kver/$path"
  }
  while read -r m; do
    m=${m%%#*}; m=$(echo "$m" | xargs)
    [ -n "$m" ] || continue
    add_module "$m"
    echo "$m" >> "$root/etc/modules"
  done < "$modules_list"
  cp "$moddir"/modules.{order,builtin} "$root/lib/modules/$kver/" 2>/dev/null || true
fi

tsx=$here/../node_modules/.bin/tsx
[ -x "$tsx" ] || { say "node_modules is missing: run npm install first"; exit 1; }
"$tsx" "$here/cpio.ts" "$root" "$out/initramfs.gz.tmp"
cp "$vmlinuz" "$out/vmlinuz.tmp"
echo "$cmdline" > "$out/cmdline.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initramfs.gz.tmp" "$out/initramfs.gz"
mv "$out/cmdline.tmp" "$out/cmdline"
bash "$here/media.sh" "$out/vmlinuz" "$out/initramfs.gz" "$media_cmdline" "$out" "$work"
pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo unknown; }
{
  echo "kernel $kernel_pkg $kernel_ver ($kver)"
  echo "busybox busybox-static $busybox_ver"
  echo "syslinux syslinux $(pkgver syslinux), isolinux $(pkgver isolinux)"
} > "$out/versions"
printf '%s\n%s\n' "$stamp" "$inputs" > "$out/stamp"
say "built $kernel_pkg $kernel_ver ($kver) and busybox $busybox_ver into images/out"
sed 's/^/images:   /' "$out/versions" >&2
