// `soulvm run` and `soulvm start`: boot a PC (disks or a Linux kernel) with COM1 on the
// terminal, or run a raw ROM image on the bare machine.

import { parseArgs } from 'node:util';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as osConstants } from 'node:os';
import { UsageError } from './main.ts';
import { runRom } from '../machine/bare.ts';
import { PcMachine, type PcConfig, type PcStop } from '../machine/pc.ts';
import { RawDisk, IsoImage } from '../disk/raw.ts';
import { openDisk } from '../disk/ops.ts';
import { openWithUndo, commitUndo, discardUndo, undoPathFor } from '../disk/undo.ts';
import type { BootDevice } from '../bios/bios.ts';
import type { CpuMode } from '../cpu/jit.ts';
import type { BlockDevice } from '../disk/block-device.ts';
import { MAX_SCSI_ADAPTERS, SCSI_ADAPTER_MODELS, type ScsiAdapterModel } from '../devices/scsi/index.ts';
import type { CharBackend } from '../devices/char-backend.ts';
import { openCharBackend, type HostBackend } from '../devices/char-host.ts';
import { GdbStub } from '../debug/gdb-stub.ts';

const USAGE = `usage: soulvm run [options]

Boot a PC with soulvm's BIOS; COM1 is this terminal. Ctrl-A x quits; so do SIGINT and SIGTERM
(exit status 128 + the signal). Either way the disks are flushed and closed, undo disks settled.
  --kernel FILE        boot a Linux bzImage directly (the Linux boot protocol)
  --initrd FILE        initial ramdisk for --kernel
  --append TEXT        kernel command line (e.g. "console=ttyS0")
  --fda FILE           raw floppy image as drive A:
  --hda FILE           hard disk (VHD of any type, or raw) as IDE primary master: drive C:, 80h
  --hdb FILE           hard disk as IDE primary slave; --hdd as secondary slave
  --cdrom FILE         ISO image in the CD-ROM drive (IDE secondary master)
  --scsi FILE[,id=N][,adapter=K]
                       a SCSI disk (or, for a .iso, a SCSI CD-ROM drive) at SCSI ID N (default:
                       the next free one from 0; 7 is the adapter) on SCSI adapter K (0-3,
                       default 0); repeat for more devices
  --scsi-adapter MODEL the model of SCSI adapter 0, 1, ... in the order given (the last one given
                       goes for the rest): buslogic (BusLogic BT-958 PCI, the default) or aha1542
  --boot ORDER         drives INT 19h tries, in order: a (floppy), c (hard disk), d (CD-ROM),
                       s (hard disk, the SCSI disks numbered before the IDE ones: boot from
                       SCSI), e.g. "dc" (default: acd)
  --undo               run every hard disk (IDE and SCSI) on an undo disk (DISK.vud next to DISK.vhd): the
                       VHDs stay untouched and the session's changes are thrown away at exit
  --commit             with --undo: merge the session's changes into the disks at exit
  --keep-undo          with --undo: keep the .vud files at exit (the next --undo run goes on with them)
  --state FILE         saved state (.vsv), as Virtual Server's "Save State": Ctrl-A s (or SIGUSR1)
                       saves the machine to FILE and ends the run, keeping undo disks; a run
                       whose FILE exists resumes from it (same configuration), then removes it
  --memory MiB         RAM size (default 128)
  --clock MODE         host (follow the wall clock, default) or deterministic (follow instructions)
  --no-reboot          end the run when the guest resets instead of restarting
  --cpu MODE           jit (compile hot guest code to JavaScript, default) or interp (the
                       reference interpreter alone: slower, for comparison and bisecting)
  --jit-threshold N    with --cpu jit: runs of a block before it is compiled (default 200)
  --max-instructions N stop after N instructions
  --com1 BACKEND       where COM1 leads (default stdio); --com2, --com3, --com4 likewise
                       (default null). BACKEND is one of:
                         stdio                 this terminal (one port at most)
                         unix:PATH,server      a Unix socket soulvm listens on (0600; the
                                               directory must exist; a stale socket is replaced)
                         unix:PATH             a Unix socket soulvm connects to (and reconnects)
                         tcp:[HOST]:PORT,server  listen on TCP (HOST defaults to 127.0.0.1)
                         tcp:HOST:PORT         connect to a TCP server (and reconnect)
                         pipe:NAME             the FIFOs NAME.in (to the guest) and NAME.out
                                               (from the guest), made 0600 if missing; on
                                               Windows the named pipe \\.\pipe\NAME
                         file:PATH             guest output to a file (0600)
                         null                  nothing attached
                       A peer may disconnect and reconnect at any time: the guest sees carrier
                       (DCD/DSR) drop and return. Nothing is dropped when a side is slow.
  --gdb tcp:PORT       a GDB remote stub for the emulated CPU on 127.0.0.1:PORT (tcp:HOST:PORT
                       for another address), or --gdb unix:PATH (0600): gdb's target remote
  --gdb-wait           with --gdb: hold the machine at its first instruction until gdb
                       connects and continues

Raw ROM test mode (the bare machine: port E9h console, exit through port F4h):
  --bios FILE          a ROM image (multiple of 4 KiB, at most 1 MiB) mapped below 1 MiB and 4 GiB
  --post-codes         show POST codes written to ports 80h and 190h (on stderr)
  --reset-on-triple-fault   restart instead of stopping on a triple fault
`;

const OPTIONS = {
  kernel: { type: 'string' }, initrd: { type: 'string' }, append: { type: 'string' },
  fda: { type: 'string' }, hda: { type: 'string' }, hdb: { type: 'string' }, hdd: { type: 'string' },
  cdrom: { type: 'string' }, boot: { type: 'string' },
  scsi: { type: 'string', multiple: true }, 'scsi-adapter': { type: 'string', multiple: true },
  undo: { type: 'boolean' }, commit: { type: 'boolean' }, 'keep-undo': { type: 'boolean' },
  memory: { type: 'string' }, clock: { type: 'string' }, 'no-reboot': { type: 'boolean' },
  'max-instructions': { type: 'string' }, bios: { type: 'string' }, 'post-codes': { type: 'boolean' },
  'reset-on-triple-fault': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  com1: { type: 'string' }, com2: { type: 'string' }, com3: { type: 'string' }, com4: { type: 'string' },
  gdb: { type: 'string' }, 'gdb-wait': { type: 'boolean' }, state: { type: 'string' },
  cpu: { type: 'string' }, 'jit-threshold': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseOptions>;

function parseOptions(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (see soulvm run --help)`);
  }
}

/** A user-facing failure: one line, exit status 1. */
class RunError extends Error { readonly userFacing = true; }

function readInput(path: string, what: string): Uint8Array {
  let st;
  try { st = statSync(path); } catch { throw new RunError(`${what} ${path}: no such file`); }
  if (!st.isFile()) throw new RunError(`${what} ${path}: not a regular file`);
  return new Uint8Array(readFileSync(path));
}

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} needs a positive whole number, got '${text}'`);
  return n;
}

export async function runCommand(argv: string[]): Promise<number> {
  const v = parseOptions(argv);
  if (v.help) { process.stdout.write(USAGE); return 0; }
  if (v.bios !== undefined) return runBios(v);
  return runPc(v);
}

/** --cpu and --jit-threshold, for the PC and the bare machine alike. */
function cpuOptions(v: Values): { cpu: CpuMode; jitThreshold?: number } {
  const cpu = v.cpu ?? 'jit';
  if (cpu !== 'jit' && cpu !== 'interp') throw new UsageError(`--cpu must be jit or interp, got '${cpu}'`);
  if (v['jit-threshold'] !== undefined && cpu !== 'jit') throw new UsageError('--jit-threshold goes with --cpu jit');
  const jitThreshold = v['jit-threshold'] === undefined ? undefined : positiveInt(v['jit-threshold'], 'jit-threshold', 0);
  return { cpu, jitThreshold };
}

function runBios(v: Values): number {
  for (const k of ['kernel', 'initrd', 'fda', 'hda', 'hdb', 'hdd', 'cdrom', 'undo', 'append', 'scsi', 'scsi-adapter', 'com1', 'com2', 'com3', 'com4', 'gdb', 'state'] as const) {
    if (v[k] !== undefined) throw new UsageError(`--bios runs a raw ROM on the bare machine; --${k} does not apply`);
  }
  const rom = readInput(v.bios!, 'ROM image');
  const r = runRom(rom, {
    ...cpuOptions(v),
    memoryMiB: positiveInt(v.memory, 'memory', 32),
    maxInstructions: positiveInt(v['max-instructions'], 'max-instructions', Number.MAX_SAFE_INTEGER),
    resetOnTripleFault: !!v['reset-on-triple-fault'],
    onConsole: (b) => process.stdout.write(new Uint8Array([b])),
    onPostCode: v['post-codes'] ? (code, port) => process.stderr.write(`POST ${code.toString(16).padStart(2, '0')} (port ${port.toString(16)}h)\n`) : undefined,
  });
  switch (r.stop) {
    case 'exit': return r.exitCode & 0xff;
    case 'halt': return 0;
    case 'triple-fault': process.stderr.write(`soulvm: triple fault after ${r.instructions} instructions\n`); return 1;
    case 'max-instructions': process.stderr.write(`soulvm: stopped after ${r.instructions} instructions (--max-instructions)\n`); return 1;
  }
}

const BOOT_DEVICES: Record<string, BootDevice> = { a: 'floppy', c: 'hd', d: 'cdrom' };

/** The machine's disks as opened for a run, and what happens to undo disks at its end. */
interface AttachedDisks {
  all: BlockDevice[];
  /** Undo files (.vud) opened for this run. */
  undo: string[];
}

/** Build the machine configuration from options (also used by `start`). */
function pcConfig(v: Values, disks: AttachedDisks): PcConfig {
  if (v['post-codes'] || v['reset-on-triple-fault']) throw new UsageError('--post-codes and --reset-on-triple-fault apply to --bios only');
  if ((v.initrd !== undefined || v.append !== undefined) && v.kernel === undefined) throw new UsageError('--initrd and --append need --kernel');
  if ((v.commit || v['keep-undo']) && !v.undo) throw new UsageError('--commit and --keep-undo go with --undo');
  if (v.commit && v['keep-undo']) throw new UsageError('--commit and --keep-undo exclude each other');
  const clock = v.clock ?? 'host';
  if (clock !== 'host' && clock !== 'deterministic') throw new UsageError(`--clock must be host or deterministic, got '${clock}'`);
  const memoryMiB = positiveInt(v.memory, 'memory', 128);
  if (memoryMiB < 2 || memoryMiB > 3584) throw new UsageError(`--memory must be between 2 and 3584 MiB, got ${memoryMiB}`);
  let bootOrder: BootDevice[] | undefined;
  let scsiFirst = false;
  if (v.boot !== undefined) {
    if (!/^[acds]{1,4}$/.test(v.boot) || new Set(v.boot).size !== v.boot.length || (v.boot.includes('c') && v.boot.includes('s'))) {
      throw new UsageError(`--boot takes the letters a (floppy), c or s (hard disk, s: SCSI first) and d (CD-ROM), each once, e.g. "dc"; got '${v.boot}'`);
    }
    scsiFirst = v.boot.includes('s');
    bootOrder = [...v.boot].map((ch) => BOOT_DEVICES[ch === 's' ? 'c' : ch]);
  }
  const exists = (path: string, what: string) => {
    if (!existsSync(path)) throw new RunError(`${what} ${path}: no such file`);
  };
  const keep = <T extends BlockDevice>(d: T): T => { disks.all.push(d); return d; };
  const hardDisk = (path: string): BlockDevice => {
    exists(path, 'disk image');
    if (!v.undo) return keep(openDisk(path));
    if (!/\.vhd$/i.test(path)) throw new RunError(`--undo needs VHD disks; ${path} is not a .vhd`);
    const vud = undoPathFor(path);
    const d = keep(openWithUndo(path, vud));
    disks.undo.push(vud);
    return d;
  };
  const config: PcConfig = { memoryMiB, clock, onReset: v['no-reboot'] ? 'stop' : 'reset', bootOrder, scsiFirst, ...cpuOptions(v) };
  if (v.fda) { exists(v.fda, 'floppy image'); config.floppies = [keep(RawDisk.open(v.fda))]; }
  config.hardDisks = [v.hda, v.hdb, v.hdd].filter((p): p is string => p !== undefined).map(hardDisk);
  if (v.cdrom !== undefined) { exists(v.cdrom, 'CD image'); config.cdrom = keep(IsoImage.open(v.cdrom)); }
  const scsi = scsiConfig(v.scsi ?? [], v['scsi-adapter'] ?? []);
  if (scsi.length) {
    config.scsi = scsi.map((a) => ({
      model: a.model,
      devices: a.devices.map(({ path, id }) => {
        if (/\.iso$/i.test(path)) { exists(path, 'CD image'); return { id, cdrom: keep(IsoImage.open(path)) }; }
        return { id, disk: hardDisk(path) };
      }),
    }));
  }
  if (v.kernel !== undefined) {
    config.linux = {
      kernel: readInput(v.kernel, 'kernel'), kernelName: v.kernel,
      initrd: v.initrd !== undefined ? readInput(v.initrd, 'initrd') : undefined, initrdName: v.initrd,
      cmdline: v.append ?? '',
    };
  } else if (!config.floppies && config.hardDisks.length === 0 && !config.cdrom && !config.scsi?.some((a) => a.devices.some((d) => d.disk))) {
    throw new UsageError('nothing to boot: give --kernel, --fda, --hda, --scsi or --cdrom (or --bios for a raw ROM)');
  }
  return config;
}

/** --scsi FILE[,id=N][,adapter=K] and --scsi-adapter MODEL: the adapters, their models and devices. */
export function scsiConfig(specs: readonly string[], models: readonly string[]): { model: ScsiAdapterModel; devices: { path: string; id: number }[] }[] {
  for (const m of models) {
    if (!(SCSI_ADAPTER_MODELS as readonly string[]).includes(m)) throw new UsageError(`--scsi-adapter must be ${SCSI_ADAPTER_MODELS.join(' or ')}, got '${m}'`);
  }
  const adapters: { model: ScsiAdapterModel; devices: { path: string; id: number }[] }[] = [];
  const adapter = (k: number) => {
    while (adapters.length <= k) {
      const model = (models[adapters.length] ?? models[models.length - 1] ?? 'buslogic') as ScsiAdapterModel;
      adapters.push({ model, devices: [] });
    }
    return adapters[k];
  };
  for (const spec of specs) {
    const [path, ...opts] = spec.split(',');
    if (!path) throw new UsageError(`--scsi needs a file: '${spec}'`);
    let id: number | undefined, k = 0;
    for (const o of opts) {
      const m = /^(id|adapter)=(\d+)$/.exec(o);
      if (!m) throw new UsageError(`--scsi ${spec}: unknown option '${o}' (id=N, adapter=K)`);
      if (m[1] === 'id') id = Number(m[2]); else k = Number(m[2]);
    }
    if (k >= MAX_SCSI_ADAPTERS) throw new UsageError(`--scsi ${spec}: adapter must be 0-${MAX_SCSI_ADAPTERS - 1}`);
    const a = adapter(k);
    const taken = new Set(a.devices.map((d) => d.id));
    if (id === undefined) { id = 0; while (taken.has(id) || id === 7) id++; }
    if (id === 7 || id > 15) throw new UsageError(`--scsi ${spec}: SCSI ID ${id} is not free (0-6 and 8-15; 7 is the adapter)`);
    if (taken.has(id)) throw new UsageError(`--scsi ${spec}: SCSI ID ${id} on adapter ${k} is taken`);
    a.devices.push({ path, id });
  }
  // A --scsi-adapter without devices still puts the adapter in.
  if (models.length) adapter(models.length - 1);
  adapters.forEach((a, k) => {
    const wide = a.devices.find((d) => d.id > 7);
    if (a.model === 'aha1542' && wide) throw new UsageError(`--scsi ${wide.path}: adapter ${k} is an AHA-1542, with SCSI IDs 0-6`);
  });
  if (adapters.filter((a) => a.model === 'aha1542').length > 2) throw new UsageError('at most two AHA-1542 adapters (330h and 334h)');
  return adapters;
}

/** The serial backends chosen with --com1..--com4: specs checked, stdio at most once. */
function serialSpecs(v: Values): string[] {
  const given = [v.com1, v.com2, v.com3, v.com4];
  const stdio = given.filter((s) => s === 'stdio').length;
  if (stdio > 1) throw new UsageError('only one COM port can be on stdio');
  return given.map((s, i) => s ?? (i === 0 && stdio === 0 ? 'stdio' : 'null'));
}

async function runPc(v: Values): Promise<number> {
  const disks: AttachedDisks = { all: [], undo: [] };
  const serial: HostBackend[] = [];
  let status = 1, saved = false;
  try {
    const config = pcConfig(v, disks);
    const specs = serialSpecs(v);
    // stdio is the terminal line below (with Ctrl-A x); the others are opened here, each
    // saying where it listens.
    for (const [i, spec] of specs.entries()) if (spec !== 'stdio') serial[i] = await openCharBackend(spec, { name: `COM${i + 1}` });
    for (const vud of disks.undo) process.stderr.write(`soulvm: writing changes to the undo disk ${vud}\n`);
    if (v['gdb-wait'] && v.gdb === undefined) throw new UsageError('--gdb-wait goes with --gdb');
    const gdb = v.gdb === undefined ? undefined : { listen: v.gdb, wait: !!v['gdb-wait'] };
    ({ status, saved } = await boot(config, specs.indexOf('stdio'), serial, positiveInt(v['max-instructions'], 'max-instructions', Number.MAX_SAFE_INTEGER), gdb, v.state));
  } finally {
    for (const b of serial) await b?.close();
    // Close every disk (flushing it) before anything touches the undo files.
    for (const d of disks.all) d.close();
  }
  for (const vud of disks.undo) {
    // A saved machine goes on with the disks as it left them: its undo disks stay.
    if (saved) { process.stderr.write(`soulvm: kept the undo disk ${vud} with the saved state\n`); continue; }
    if (v.commit) { commitUndo(vud); process.stderr.write(`soulvm: committed ${vud} into its disk\n`); }
    else if (v['keep-undo']) process.stderr.write(`soulvm: kept the undo disk ${vud}\n`);
    else { discardUndo(vud); process.stderr.write(`soulvm: discarded the changes in ${vud}\n`); }
  }
  return status;
}

/**
 * Run a PC with the port `stdioPort` (or none, -1) on stdin/stdout until it halts or the user
 * quits (Ctrl-A x on a terminal).
 */
async function boot(config: PcConfig, stdioPort: number, serial: CharBackend[], maxInstructions: number,
  gdb?: { listen: string; wait: boolean }, statePath?: string): Promise<{ status: number; saved: boolean }> {
  // Guest output is gathered and written when the run loop yields (every few ms), not byte by byte.
  let pending: number[] = [];
  const flush = () => { if (pending.length) { process.stdout.write(Uint8Array.from(pending)); pending = []; } };
  let toGuest: ((bytes: Uint8Array) => void) | null = null;
  const terminal: CharBackend = {
    write: (b) => { if (pending.push(b) === 1) setImmediate(flush); },
    onReceive: (cb) => { toGuest = cb; },
  };
  const lines = [0, 1, 2, 3].map((i) => (i === stdioPort ? terminal : serial[i] ?? null));
  const machine = new PcMachine({ ...config, serial: lines });
  if (statePath !== undefined && existsSync(statePath)) {
    machine.restoreStateFile(statePath); // a StateError says why it cannot, and nothing has run
    process.stderr.write(`soulvm: resumed from ${statePath}\n`);
  }
  const stub = gdb ? await GdbStub.start(machine, gdb) : null;
  const stdin = process.stdin;
  const raw = stdin.isTTY === true && stdioPort >= 0;
  let quitting = false, escape = false, saving = false;
  const save = () => { if (statePath !== undefined) { saving = true; machine.stop(); } };
  const onData = (buf: Buffer) => {
    for (const b of buf) {
      if (raw && escape) {
        escape = false;
        if (b === 0x78 /* x */) { quitting = true; machine.stop(); return; }
        if (b === 0x73 /* s */ && statePath !== undefined) { save(); return; }
        if (b !== 0x01) continue;
      } else if (raw && b === 0x01) { escape = true; continue; }
      toGuest?.(new Uint8Array([b]));
    }
  };
  // SIGINT/SIGTERM (from kill, or Ctrl-C when COM1 is not a raw terminal) stop the run the way
  // Ctrl-A x does, so the disks are still flushed and closed and the undo disks dealt with.
  let signal: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => { signal = s; machine.stop(); };
  if (raw) stdin.setRawMode(true);
  if (stdioPort >= 0) { stdin.on('data', onData); stdin.resume(); }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGUSR1', save);
  let stop: PcStop;
  try {
    stop = (await machine.run({ maxInstructions })).stop;
  } finally {
    flush();
    await stub?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGUSR1', save);
    stdin.off('data', onData);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    stdin.unref?.();
  }
  if (stop === 'stopped' && saving && signal === null) {
    machine.saveStateFile(statePath!);
    process.stderr.write(`soulvm: saved the machine to ${statePath} (the same command resumes it)\n`);
    return { status: 0, saved: true };
  }
  // A run that ends any other way has used the state it resumed from.
  if (statePath !== undefined && existsSync(statePath)) rmSync(statePath);
  switch (stop) {
    case 'halted': case 'poweroff': case 'reset': return { status: 0, saved: false };
    case 'stopped':
      if (signal !== null) { process.stderr.write(`soulvm: stopped by ${signal}\n`); return { status: 128 + osConstants.signals[signal], saved: false }; }
      return { status: quitting ? 0 : 1, saved: false };
    case 'boot-failed': process.stderr.write(`soulvm: ${machine.bios.bootFailureMessage()}\n`); return { status: 1, saved: false };
    default: process.stderr.write(`soulvm: stopped after ${maxInstructions} instructions (--max-instructions)\n`); return { status: 1, saved: false };
  }
}

const IMAGES = join(dirname(fileURLToPath(import.meta.url)), '../../images');

/** `soulvm start`: boot the default guest (images/out), building it first when missing. */
export async function startCommand(argv: string[]): Promise<number> {
  const v = parseOptions(argv);
  if (v.help) { process.stdout.write('usage: soulvm start [--memory MiB] [--clock host|deterministic]\n\nBoots the default Debian guest (images/out, built by images/build.sh when missing).\n'); return 0; }
  for (const k of ['kernel', 'initrd', 'fda', 'hda', 'hdb', 'hdd', 'cdrom', 'undo', 'bios', 'boot', 'append', 'scsi', 'scsi-adapter'] as const) {
    if (v[k] !== undefined) throw new UsageError(`start boots the default guest; use soulvm run for --${k}`);
  }
  const out = join(IMAGES, 'out');
  if (!existsSync(join(out, 'vmlinuz')) || !existsSync(join(out, 'initramfs.gz'))) {
    process.stderr.write('soulvm: building the default guest (images/build.sh)...\n');
    const r = spawnSync('bash', [join(IMAGES, 'build.sh')], { stdio: 'inherit' });
    if (r.status !== 0) throw new RunError('building the default guest failed (see the messages above)');
  }
  process.stderr.write('soulvm: booting the default guest on COM1 (the kernel decompresses itself first; Ctrl-A x quits)\n');
  const cmdline = existsSync(join(out, 'cmdline')) ? readFileSync(join(out, 'cmdline'), 'utf8').trim() : 'console=ttyS0';
  return runPc({ ...v, kernel: join(out, 'vmlinuz'), initrd: join(out, 'initramfs.gz'), append: cmdline });
}
