#!/usr/bin/env bash
# Runs a raw ROM image in Bochs 2.7 (Pentium II model "p2_klamath", 32 MiB) and writes the same
# format as run-qemu.sh. Bochs has no exit port: the harness's exit routine goes on after its
# OUT to 0xF4, prints "\1EXIT=nn\1" (nn hex) and writes "Shutdown" to Bochs's port 0x8900.
# Usage: run-bochs.sh ROM OUT [seconds]
set -u
rom=$(realpath "$1") out=$2 secs=${3:-60}
dir=$(mktemp -d)
head -c 32768 /dev/zero > "$dir/vga.bin"   # Bochs insists on a VGA ROM; an empty one does nothing
echo c > "$dir/cmds"                       # Debian's Bochs has the debugger built in: continue
cat > "$dir/bochsrc" <<RC
megs: 32
cpu: model=p2_klamath, ips=100000000, reset_on_triple_fault=0, ignore_bad_msrs=0
romimage: file=$rom
vgaromimage: file=$dir/vga.bin
display_library: rfb, options="timeout=0"
port_e9_hack: enabled=1
log: $dir/log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
speaker: enabled=0
sound: driver=dummy
RC
(cd "$dir" && timeout "$secs" bochs -q -f bochsrc -rc cmds < /dev/null > stdout 2>/dev/null)
rc=$?
# The guest's output starts after the debugger's line for the reset vector.
python3 - "$dir/stdout" "$out" "$rc" "$dir/log" <<'PY'
import sys, re
raw = open(sys.argv[1], 'rb').read()
rc = int(sys.argv[3])
log = open(sys.argv[4], 'rb').read()
m = re.search(rb'\(0\) \[0x0000fffffff0\][^\n]*\n', raw)
body = raw[m.end():] if m else b''
e = re.search(rb'\x01EXIT=([0-9A-F]{2})\x01', body)
if e:
    text = body[:e.start()] + b'[exit=%d]\n' % int(e.group(1), 16)
elif b'with no resolution' in log:    # reset_on_triple_fault=0: Bochs panics on shutdown
    body = re.sub(rb'\(0\)\.\[\d+\] [^\n]*\n?', b'', body)   # its debugger's "where" lines
    text = body.split(b'=====')[0] + b'[triple-fault]\n'
else:
    text = body.split(b'=====')[0] + b'[timeout]\n'
open(sys.argv[2], 'wb').write(text)
PY
[ -n "${KEEP:-}" ] && echo "$dir" >&2 || rm -rf "$dir"
