#!/usr/bin/env bash
# Regenerates the CPU test goldens: assembles test/cpu/programs/*.asm (nasm -f bin) into
# test/cpu/bin/NAME.bin, runs each ROM in QEMU and in Bochs and stores the expected output in
# test/cpu/expected/NAME.txt (console text + "[exit=N]").
#
# Both emulators must agree. Where they do not, the program must name the one that follows the
# Intel SDM with a line "; oracle: qemu|bochs — reason"; the script then prints how the other
# one differs (for Bochs as oracle: the differences besides RF in fault frames).
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
  if cmp -s "$tmp/q.txt" "$tmp/b.txt"; then
    cp "$tmp/q.txt" "$exp.txt"; echo "$n: ok (qemu = bochs)"
  elif [ "$oracle" = qemu ]; then
    cp "$tmp/q.txt" "$exp.txt"; echo "$n: ok (qemu; bochs differs:)"; diff -a "$tmp/q.txt" "$tmp/b.txt" | head -6 || true
  elif [ "$oracle" = bochs ]; then
    cp "$tmp/b.txt" "$exp.txt"; echo "$n: ok (bochs; qemu differs)"
    # the usual reason: QEMU does not set RF in the EFLAGS image of a fault frame; show the rest
    python3 - "$tmp/q.txt" "$tmp/b.txt" <<'PY'
import re, sys
norf = lambda t: re.sub(rb'fl=([0-9A-F]{3})([0-9A-F])', lambda m: b'fl=' + m.group(1) + b'%X' % (int(m.group(2), 16) & ~1), t)
q, b = (norf(open(f, 'rb').read()).split(b'\n') for f in sys.argv[1:])
d = [i for i in range(max(len(q), len(b))) if (q[i] if i < len(q) else None) != (b[i] if i < len(b) else None)]
if d:
    print(f'  besides RF, {len(d)} lines differ; first: line {d[0] + 1}')
    i = d[0]
    print('    qemu: ', q[i] if i < len(q) else None)
    print('    bochs:', b[i] if i < len(b) else None)
PY
  else
    echo "$n: QEMU and Bochs disagree and the program names no oracle:"; diff -a "$tmp/q.txt" "$tmp/b.txt" | head -20 || true
    fail=1
  fi
done
exit $fail
