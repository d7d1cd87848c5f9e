#!/usr/bin/env bash
# Runs a raw ROM image in QEMU (TCG, Pentium II, 32 MiB) and writes what the guest printed on
# port 0xE9 followed by how it stopped: "[exit=N]" (port 0xF4), "[triple-fault]" or "[timeout]".
# Usage: run-qemu.sh ROM OUT [seconds]
set -u
rom=$1 out=$2 secs=${3:-20}
con=$(mktemp)
timeout "$secs" qemu-system-i386 -M pc -cpu pentium2 -m 32 -accel tcg -display none -nodefaults \
  -no-reboot -bios "$rom" -debugcon "file:$con" -device isa-debug-exit,iobase=0xf4,iosize=0x04
rc=$?
cp "$con" "$out"; rm -f "$con"
if [ $rc = 124 ]; then echo "[timeout]" >> "$out"
elif [ $rc = 0 ]; then echo "[triple-fault]" >> "$out"      # -no-reboot: shutdown ends QEMU with status 0
elif [ $((rc & 1)) = 1 ]; then echo "[exit=$((rc >> 1))]" >> "$out"
else echo "[qemu-error=$rc]" >> "$out"; exit 1
fi
