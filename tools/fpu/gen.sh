#!/bin/bash
# Regenerates test/fpu/data/x87-golden.txt.gz from the host's real x87 (x86_64 Linux + gcc).
set -eo pipefail
here=$(dirname "$0")
out="$here/../../test/fpu/data"
mkdir -p "$out"
gcc -O1 -mno-red-zone -no-pie -fno-pie -o /tmp/x87gen "$here/x87gen.c"
/tmp/x87gen | gzip -9n > "$out/x87-golden.txt.gz"
zcat "$out/x87-golden.txt.gz" | wc -l
grep -m1 'model name' /proc/cpuinfo
