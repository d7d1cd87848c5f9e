// Writes initramfs archives in the kernel's "newc" cpio format (Documentation/driver-api/
// early-userspace/buffer-format.rst) without root: every entry is owned by root, and device
// nodes such as /dev/console are written as entries, not made with mknod on the host.

import { readdirSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'char'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

/** Encode entries as a newc archive (uncompressed), ending with the TRAILER!!! record. */
export function newcArchive(entries: CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => { parts.push(b); size += b.length; };
  const pad4 = () => { const n = (4 - (size & 3)) & 3; if (n) push(new Uint8Array(n)); };
  let ino = 1;
  const record = (name: string, mode: number, data: Uint8Array, rdevMajor = 0, rdevMinor = 0, nlink = 1) => {
    const nameBytes = Buffer.from(name + '\0', 'utf8');
    const fields = [ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, rdevMajor, rdevMinor, nameBytes.length, 0];
    push(Buffer.from('070701' + fields.map((f) => (f >>> 0).toString(16).padStart(8, '0')).join(''), 'ascii'));
    push(nameBytes);
    pad4();
    if (data.length) { push(data); pad4(); }
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    switch (e.kind) {
      case 'dir': record(name, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(0), 0, 0, 2); break;
      case 'file': record(name, S_IFREG | (e.mode ?? 0o644), e.data); break;
      case 'symlink': record(name, S_IFLNK | 0o777, Buffer.from(e.target, 'utf8')); break;
      case 'char': record(name, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(0), e.major, e.minor); break;
    }
  }
  ino = 0;
  record('TRAILER!!!', 0, new Uint8Array(0), 0, 0, 1);
  const n = (512 - (size & 511)) & 511; // pad to a block, as cpio(1) does
  if (n) push(new Uint8Array(n));
  return Buffer.concat(parts);
}

/** The entries for a host directory tree (parents before children), owned by root. */
export function treeEntries(root: string, prefix = ''): CpioEntry[] {
  const out: CpioEntry[] = [];
  for (const name of readdirSync(root).sort()) {
    const host = join(root, name), path = `${prefix}/${name}`;
    const st = lstatSync(host);
    if (st.isSymbolicLink()) out.push({ kind: 'symlink', path, target: readlinkSync(host) });
    else if (st.isDirectory()) { out.push({ kind: 'dir', path, mode: st.mode & 0o7777 }); out.push(...treeEntries(host, path)); }
    else if (st.isFile()) out.push({ kind: 'file', path, data: readFileSync(host), mode: st.mode & 0o7777 });
  }
  return out;
}

/** The device nodes and mount points every initramfs here gets. */
export const BASE_ENTRIES: CpioEntry[] = [
  { kind: 'dir', path: 'dev' },
  { kind: 'char', path: 'dev/console', major: 5, minor: 1 },
  { kind: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
  { kind: 'char', path: 'dev/ttyS0', major: 4, minor: 64, mode: 0o660 },
  { kind: 'dir', path: 'proc' },
  { kind: 'dir', path: 'sys' },
];

// Command line: tsx images/cpio.ts STAGING_DIR OUT.gz — pack a staged root into a gzipped initramfs.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [dir, outFile] = process.argv.slice(2);
  if (!dir || !outFile) { process.stderr.write('usage: tsx images/cpio.ts STAGING_DIR OUT.gz\n'); process.exit(2); }
  const staged = treeEntries(dir).filter((e) => !BASE_ENTRIES.some((b) => b.path === e.path.slice(1)));
  writeFileSync(outFile, gzipSync(newcArchive([...BASE_ENTRIES, ...staged]), { level: 9 }));
}
