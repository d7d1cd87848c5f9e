// Regenerates the ide-probe oracle: assembles ide-probe.asm with nasm into ide-probe.bin.gz
// and runs it under QEMU (qemu-system-i386 -M pc: i440FX with PIIX3 IDE, the same register
// interface as the PIIX4's) with the images of images.ts, keeping what it writes to the 0xE9
// debug console as ide-probe.qemu.bin. Run: npx tsx test/ide/oracle/regen.ts
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { probeCd, probeDisk } from './images.ts';

const here = import.meta.dirname;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ide-probe-'));
try {
  const rom = path.join(tmp, 'ide-probe.bin');
  execFileSync('nasm', ['-f', 'bin', '-o', rom, path.join(here, 'ide-probe.asm')]);
  fs.writeFileSync(path.join(here, 'ide-probe.bin.gz'), zlib.gzipSync(fs.readFileSync(rom), { level: 9 }));
  fs.writeFileSync(path.join(tmp, 'disk.img'), probeDisk());
  fs.writeFileSync(path.join(tmp, 'cd.iso'), probeCd());
  const out = path.join(tmp, 'console.bin');
  try {
    execFileSync('qemu-system-i386', [
      '-M', 'pc', '-m', '32', '-nodefaults', '-display', 'none', '-bios', rom,
      '-drive', `file=${path.join(tmp, 'disk.img')},format=raw,if=ide,index=0`,
      '-drive', `file=${path.join(tmp, 'cd.iso')},format=raw,if=ide,index=2,media=cdrom`,
      '-chardev', `file,id=dbg,path=${out}`, '-device', 'isa-debugcon,iobase=0xe9,chardev=dbg',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=1',
    ], { timeout: 60_000, stdio: 'inherit' });
  } catch (e) {
    if ((e as { status?: number }).status !== 1) throw e; // isa-debug-exit with 0 exits with status 1
  }
  const golden = fs.readFileSync(out);
  fs.writeFileSync(path.join(here, 'ide-probe.qemu.bin'), golden);
  console.log(Array.from(golden, (b) => b.toString(16).padStart(2, '0')).join(' '));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
