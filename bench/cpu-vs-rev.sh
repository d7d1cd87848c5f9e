#!/bin/sh
# bench/cpu.ts for this tree and for an older revision, side by side, alternating runs on the
# same machine (so that other load hits both alike):  bench/cpu-vs-rev.sh REV [ROUNDS]
set -e
rev=${1:?usage: bench/cpu-vs-rev.sh REV [ROUNDS]}
rounds=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
old=$(mktemp -d)
trap 'rm -rf "$old"' EXIT
git -C "$here" archive "$rev" | tar -x -C "$old"
ln -s "$here/node_modules" "$old/node_modules"
i=0
while [ "$i" -lt "$rounds" ]; do
  (cd "$old" && echo "$rev: $(npx tsx bench/cpu.ts 1)")
  (cd "$here" && echo "this tree: $(npx tsx bench/cpu.ts 1)")
  i=$((i + 1))
done
