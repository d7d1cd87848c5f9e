#!/usr/bin/env bash
# Rebuilds the BIOS test programs (boot sectors) from their sources with nasm.
set -euo pipefail
cd "$(dirname "$0")"
for f in *.asm; do nasm -f bin -o "${f%.asm}.bin" "$f"; done
