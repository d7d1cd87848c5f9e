// `soulvm disk`: create, inspect, check, compact, merge, convert and resize virtual disks.
import { UsageError } from './main.ts';
import {
  type CheckReport, type DiskInfo, DiskError, type Progress, check, compact, convert, createVhd, info, merge, resize,
} from '../disk/index.ts';

const USAGE = `usage: soulvm disk <command> [options]

commands:
  create [--type fixed|dynamic|differencing] [--size SIZE] [--block-size SIZE] [--parent FILE] FILE
                      make a new VHD (differencing when --parent is given; its size defaults to the parent's)
  info [--json] FILE  describe a VHD, raw or ISO image
  check [--repair] [--json] FILE
                      verify a VHD's structure; --repair fixes what is safe (lost trailing footer, footer copy)
  compact FILE [DST.vhd]
                      drop the all-zero blocks of a dynamic disk (in place), or write a compacted copy of any disk
  merge [--delete] CHILD
                      write a differencing disk's changes into its parent; CHILD is left empty (or deleted)
  convert [--type fixed|dynamic] [--block-size SIZE] SRC DST
                      copy between raw (.img/.raw) and VHD (.vhd) formats, flattening differencing chains
  resize FILE SIZE    grow a disk

SIZE is bytes or a number with K, M, G or T (powers of 1024), e.g. 10G or 512M.
`;

interface Parsed { flags: Map<string, string | true>; args: string[] }

/** Split argv into --flags (with values where `valued` says so) and positional arguments. */
function parse(argv: string[], valued: string[], bare: string[]): Parsed {
  const flags = new Map<string, string | true>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { args.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (valued.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`option --${name} needs a value`);
      flags.set(name, v);
    } else if (bare.includes(name) && eq < 0) {
      flags.set(name, true);
    } else {
      throw new UsageError(`unknown option '${a}' (see soulvm disk --help)`);
    }
  }
  return { flags, args };
}

function positional(p: Parsed, names: string[], optional = 0): string[] {
  if (p.args.length < names.length - optional || p.args.length > names.length) {
    throw new UsageError(`expected ${names.join(' ')} (see soulvm disk --help)`);
  }
  return p.args;
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "10G", "512M", "1.5GiB", "4096" → bytes. */
export function parseSize(text: string, what = 'size'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`bad ${what} '${text}': use bytes or a number with K, M, G or T`);
  const bytes = Math.round(Number(m[1]) * UNITS[m[2].toUpperCase()]);
  if (!(bytes > 0)) throw new UsageError(`${what} must be positive`);
  return bytes;
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0, v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]} (${n} bytes)`;
}

/** A progress bar on a terminal; nothing when stderr is piped. */
function progressBar(label: string): { update: Progress; done: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, done: () => {} };
  let shown = -1;
  return {
    update: (done, total) => {
      const pct = total > 0 ? Math.floor((done * 100) / total) : 100;
      if (pct === shown) return;
      shown = pct;
      const width = 30, full = Math.round((pct * width) / 100);
      process.stderr.write(`\r${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(pct).padStart(3)}%`);
    },
    done: () => { if (shown >= 0) process.stderr.write('\n'); },
  };
}

function withProgress<T>(label: string, run: (p: Progress) => T): T {
  const bar = progressBar(label);
  try { return run(bar.update); } finally { bar.done(); }
}

function vhdType<T extends string>(value: string | true | undefined, allowed: T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new UsageError(`--type must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function printInfo(d: DiskInfo): void {
  const rows: [string, string][] = [
    ['file', d.path],
    ['format', d.format === 'vhd' ? `VHD ${d.type}` : d.format === 'iso' ? 'ISO image' : 'raw image'],
    ['virtual size', formatBytes(d.virtualSize)],
    ['file size', formatBytes(d.fileSize)],
  ];
  if (d.format === 'iso') rows.push(['sector size', `${d.sectorSize} bytes`]);
  if (d.geometry) rows.push(['geometry', `C/H/S ${d.geometry.cylinders}/${d.geometry.heads}/${d.geometry.sectorsPerTrack}`]);
  if (d.blockSize) rows.push(['blocks', `${d.allocatedBlocks} of ${d.blocks} allocated, ${formatBytes(d.blockSize)} each`]);
  if (d.uniqueId) rows.push(['unique id', d.uniqueId]);
  if (d.creator) rows.push(['creator', `${d.creator}, created ${d.created}`]);
  if (d.savedState) rows.push(['saved state', 'yes']);
  if (d.parent) {
    rows.push(['parent', `${d.parent.name} (id ${d.parent.uniqueId}, modified ${d.parent.timestamp})`]);
    rows.push(['parent file', d.parent.path ?? `not usable: ${d.parent.error}`]);
  }
  for (const [k, v] of rows) process.stdout.write(`${(k + ':').padEnd(14)}${v}\n`);
}

function printCheck(r: CheckReport): void {
  for (const fix of r.repaired) process.stdout.write(`repaired: ${fix}\n`);
  for (const p of r.problems) {
    process.stdout.write(`${p.severity}: ${p.message}${p.repairable ? " (run 'soulvm disk check --repair')" : ''}\n`);
  }
  if (r.ok) process.stdout.write(`${r.path}: no errors${r.problems.length ? ` (${r.problems.length} warning(s))` : ''}\n`);
}

export async function diskCommand(argv: string[]): Promise<number> {
  try {
    return run(argv);
  } catch (e) {
    // A host file system error (missing file, permissions) is the user's to fix: one line.
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && err.syscall) {
      throw new DiskError('io', err.path ?? '', err.code === 'ENOENT' ? 'no such file' : err.message);
    }
    throw e;
  }
}

function run(argv: string[]): number {
  const [command, ...rest] = argv;
  switch (command) {
    case 'create': {
      const p = parse(rest, ['type', 'size', 'block-size', 'parent'], []);
      const [file] = positional(p, ['FILE']);
      const parent = p.flags.get('parent') as string | undefined;
      const type = vhdType(p.flags.get('type'), ['fixed', 'dynamic', 'differencing'], parent ? 'differencing' : 'dynamic');
      if (type === 'differencing' && !parent) throw new UsageError('a differencing disk needs --parent FILE');
      if (type !== 'differencing' && parent) throw new UsageError('--parent is only for differencing disks');
      const size = p.flags.get('size') as string | undefined;
      if (type !== 'differencing' && !size) throw new UsageError('--size is required');
      const bs = p.flags.get('block-size') as string | undefined;
      createVhd(file, {
        type, parent,
        size: size ? parseSize(size) : undefined,
        blockSize: bs ? parseSize(bs, 'block size') : undefined,
      });
      return 0;
    }
    case 'info': {
      const p = parse(rest, [], ['json']);
      const [file] = positional(p, ['FILE']);
      const d = info(file);
      if (p.flags.has('json')) process.stdout.write(JSON.stringify(d, null, 2) + '\n');
      else printInfo(d);
      return 0;
    }
    case 'check': {
      const p = parse(rest, [], ['repair', 'json']);
      const [file] = positional(p, ['FILE']);
      const r = check(file, p.flags.has('repair'));
      if (p.flags.has('json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else printCheck(r);
      return r.ok ? 0 : 1;
    }
    case 'compact': {
      const p = parse(rest, [], []);
      const [file, dst] = positional(p, ['FILE', 'DST'], 1);
      const r = withProgress('compact', (pr) => compact(file, dst, pr));
      process.stdout.write(`${dst ?? file}: ${r.blocksKept} blocks kept, ${r.blocksDropped} dropped; ` +
        `${r.bytesBefore} -> ${r.bytesAfter} bytes\n`);
      return 0;
    }
    case 'merge': {
      const p = parse(rest, [], ['delete']);
      const [child] = positional(p, ['CHILD']);
      const r = withProgress('merge', (pr) => merge(child, { deleteChild: p.flags.has('delete'), onProgress: pr }));
      process.stdout.write(`merged ${r.sectors} sectors into ${r.parentPath}\n`);
      return 0;
    }
    case 'convert': {
      const p = parse(rest, ['type', 'block-size'], []);
      const [src, dst] = positional(p, ['SRC', 'DST']);
      const type = vhdType(p.flags.get('type'), ['fixed', 'dynamic'], 'dynamic');
      const bs = p.flags.get('block-size') as string | undefined;
      withProgress('convert', (pr) => convert(src, dst, {
        type, blockSize: bs ? parseSize(bs, 'block size') : undefined, onProgress: pr,
      }));
      return 0;
    }
    case 'resize': {
      const p = parse(rest, [], []);
      const [file, size] = positional(p, ['FILE', 'SIZE']);
      withProgress('resize', (pr) => resize(file, parseSize(size), pr));
      return 0;
    }
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown disk command '${command}' (see soulvm disk --help)`);
  }
}
