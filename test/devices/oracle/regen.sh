#!/usr/bin/env bash
# Regenerates probe.bin and the golden probe.qemu.txt from QEMU's device models.
# Needs nasm and qemu-system-i386 (Debian: nasm, qemu-system-x86). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")"
nasm -f bin -o probe.bin probe.asm
rm -f probe.qemu.txt
timeout 20 qemu-system-i386 -M pc -nodefaults -icount shift=0,sleep=off -display none -bios probe.bin \
  -device isa-debugcon,iobase=0xe9,chardev=dbg -chardev file,id=dbg,path=probe.qemu.txt \
  -device isa-debug-exit,iobase=0xf4,iosize=1 -serial null -serial null || true
cat probe.qemu.txt
