#!/usr/bin/env bash
# Regenerates the CPU test goldens: assembles test/cpu/programs/*.asm (nasm -f bin) into
# test/cpu/bin/NAME.bin, runs each ROM in QEMU and in Bochs and stores the expected output in
# test/cpu/expected/NAME.txt (console text + "[exit=N]").
#
# Both emulators must agree. Where they do not, the program must name the one that follows the
# Intel SDM with a line "; oracle: qemu|bochs — reason"; the other one's output is then kept in
# test/cpu/expected/NAME.<other>.txt for the record.
# Usage: tools/cpu-oracle/build.sh [NAME...]      (needs nasm, qemu-system-i386, bochs)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tools/cpu-oracle
progs=test/cpu/programs
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(ls $progs/*.asm | xargs -n1 basename | sed 's/\.asm$//'))
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
for n in "${names[@]}"; do
  src=$progs/$n.asm bin=test/cpu/bin/$n.bin exp=test/cpu/expected/$n
  nasm -f bin -w-number-overflow -I $progs/ -o "$bin" "$src"
  $here/run-qemu.sh "$bin" "$tmp/q.txt" &
  $here/run-bochs.sh "$bin" "$tmp/b.txt"
  wait
  oracle=$(sed -n 's/^; oracle: \([a-z]*\).*/\1/p' "$src" | head -1)
  rm -f "$exp.qemu.txt" "$exp.bochs.txt"
  if cmp -s "$tmp/q.txt" "$tmp/b.txt"; then
    cp "$tmp/q.txt" "$exp.txt"; echo "$n: ok (qemu = bochs)"
  elif [ "$oracle" = qemu ]; then
    cp "$tmp/q.txt" "$exp.txt"; cp "$tmp/b.txt" "$exp.bochs.txt"; echo "$n: ok (qemu; bochs differs, kept as $exp.bochs.txt)"
  elif [ "$oracle" = bochs ]; then
    cp "$tmp/b.txt" "$exp.txt"; cp "$tmp/q.txt" "$exp.qemu.txt"; echo "$n: ok (bochs; qemu differs, kept as $exp.qemu.txt)"
  else
    echo "$n: QEMU and Bochs disagree and the program names no oracle:"; diff -a "$tmp/q.txt" "$tmp/b.txt" | head -20 || true
    fail=1
  fi
done
exit $fail
