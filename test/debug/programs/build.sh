#!/bin/sh
# Assemble the GDB stub test program: loop.elf (with symbols, for gdb) and loop.bin (the boot
# sector the test puts on a floppy image).
set -e
cd "$(dirname "$0")"
as --32 -g -o loop.o loop.s
ld -m elf_i386 -Ttext 0x7c00 -e _start -o loop.elf loop.o
objcopy -O binary loop.elf loop.bin
rm -f loop.o
