// The PC: CPU, memory, the legacy platform devices, the 440BX/PIIX4 chipset with its IDE
// drives, soulvm's BIOS (with the PCI BIOS and El Torito boot) and the run loop.
//
// The run loop executes the CPU until the scheduler's next deadline, advances the virtual
// clock, fires due timers, and handles what stopped the CPU: HLT waits for the next event
// (a jump in deterministic mode, a sleep in host mode), HLT with interrupts off ends the run
// (how Linux halts and powers off without ACPI), ACPI soft-off through the PIIX4 ends it too, a
// guest reset (8042 pulse, port 92h, port CF9h, triple fault) restarts the machine or ends the
// run, as configured.

import { MemoryBus } from '../bus/memory.ts';
import { IoBus } from '../bus/io.ts';
import { irqLine } from '../bus/interrupts.ts';
import { Cpu, Stop } from '../cpu/cpu.ts';
import { Clock, Scheduler, type ClockMode } from './clock.ts';
import { attachFpu } from '../cpu/fpu-host.ts';
import { PicPair } from '../devices/pic.ts';
import { Pit } from '../devices/pit.ts';
import { Bios, type BootDevice } from '../bios/bios.ts';
import type { BlockDevice } from '../disk/block-device.ts';
import { LinuxLoader, type LinuxBootOptions } from './linux.ts';
import { attachPlatform, type Platform } from './platform.ts';
import { Chipset } from '../devices/pci/chipset.ts';
import { PciBios } from '../bios/pci-bios.ts';
import { ideCdromBoot, ideHardDisks } from '../bios/ata-bios.ts';
import { createHash } from 'node:crypto';
import { loadAll, saveAll, StateError, type Stateful } from '../state/state.ts';
import { CpuState, fpuState } from '../state/cpu-state.ts';
import { decodeVsv, encodeVsv, readVsvFile, writeFileAtomic, type VsvDisk, type VsvHeader } from '../state/vsv.ts';
import { attachScsi, scsiBiosDisks, type ScsiAdapterConfig, type ScsiAdapterInfo } from '../devices/scsi/index.ts';
import { Dma8237 } from '../devices/dma8237.ts';
import { setCpuMode, type CpuMode } from '../cpu/jit.ts';
import { NullBackend, type CharBackend } from '../devices/char-backend.ts';
import { openCharBackend, type HostBackendOptions } from '../devices/char-host.ts';

export interface PcConfig {
  /** RAM in MiB (default 128). */
  memoryMiB?: number;
  /** `host`: virtual time follows the wall clock; `deterministic`: it follows instructions (default). */
  clock?: ClockMode;
  /** Deterministic mode: virtual ns per instruction (default 5, a 200 MIPS machine). */
  nsPerInstruction?: number;
  /** `jit` (default): hot code compiled to JavaScript; `interp`: the reference interpreter only. */
  cpu?: CpuMode;
  /** Executions of a block before the JIT compiles it. */
  jitThreshold?: number;
  floppies?: (BlockDevice | null)[];
  /**
   * IDE hard disks, at most three, placed as Virtual PC places them: primary master, primary
   * slave, secondary slave. The BIOS numbers them 80h, 81h, 82h in that order.
   */
  hardDisks?: BlockDevice[];
  /** The IDE CD-ROM drive (secondary master): a disc, or null for an empty drive. Absent: no drive. */
  cdrom?: BlockDevice | null;
  /** SCSI host adapters (at most four) with their disks and CD-ROM drives. */
  scsi?: ScsiAdapterConfig[];
  /**
   * INT 13h numbers the SCSI disks before the IDE ones, so that 80h, the boot disk, is the first
   * SCSI disk ("boot from SCSI"). Without it they follow the IDE disks (at most four in all).
   */
  scsiFirst?: boolean;
  /** What INT 19h tries, in order (default: floppy, hard disk, then CD-ROM). */
  bootOrder?: BootDevice[];
  /** Direct kernel boot instead of the disk bootstrap. */
  linux?: LinuxBootOptions;
  /** What the RTC shows at power-on (default: the host's time now). */
  rtcStart?: Date;
  /** What a guest-initiated reset or triple fault does: restart the machine (default) or end the run. */
  onReset?: 'reset' | 'stop';
  /**
   * Where COM1–COM4 lead (index 0 is COM1): backends, e.g. from `openCharBackend('unix:/run/x/com2,server')`.
   * COM1 without one is the machine's own line (`serialOutput`, `sendSerial`, `onSerialOutput`);
   * with one, COM1's output still collects in `serialOutput` and `sendSerial` still types into
   * it. Ports without one lead nowhere. The machine closes backends it replaces, not these.
   */
  serial?: (CharBackend | null | undefined)[];
  /** Bytes the guest writes to COM1 (in addition to `serialOutput`). */
  onSerialOutput?: (byte: number) => void;
  /** Bytes the guest writes to the 0xE9 debug console. */
  onDebugConsole?: (byte: number) => void;
}

/** Why a run ended. */
export type PcStop =
  | 'halted'         // HLT with interrupts off: the guest halted or powered off
  | 'poweroff'       // ACPI soft-off through the PIIX4's power management
  | 'reset'          // the guest reset the machine and onReset is 'stop'
  | 'boot-failed'    // INT 18h: nothing bootable
  | 'stopped'        // stop() was called
  | 'found'          // runUntil: the awaited output appeared
  | 'limit';         // the instruction or time limit ran out

export interface RunOptions {
  /** Stop after this many instructions. */
  maxInstructions?: number;
  /** Stop after this much wall-clock time. */
  timeoutMs?: number;
  /** Stop when COM1 output (since the run began) contains this. */
  until?: string | RegExp;
}

export interface RunResult { stop: PcStop; instructions: number; seconds: number }

/** A debugger attached to the run loop (src/debug/gdb-stub.ts). */
export interface MachineDebugger {
  /** While true the run loop executes nothing (the guest is stopped in the debugger). */
  readonly holding: boolean;
  /** The CPU left a slice for a host breakpoint (Stop.Debug) or a stop request: the debugger's? */
  cpuStopped(reason: Stop): void;
}

export class PcMachine {
  readonly mem: MemoryBus;
  readonly io = new IoBus();
  readonly cpu: Cpu;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly pic: PicPair;
  readonly pit: Pit;
  readonly bios: Bios;
  readonly chipset: Chipset;
  readonly pciBios: PciBios;
  readonly platform: Platform;
  readonly linux: LinuxLoader | null;
  /** The SCSI host adapters and their targets, with their saved-state sections. */
  readonly scsi: { adapters: ScsiAdapterInfo[]; statefuls: Stateful[]; reset(): void };
  /** The two 8237 DMA controllers. */
  readonly dma: Dma8237;
  /** Everything written to COM1 since the machine was created. */
  serialOutput = '';
  private stopRequested = false;
  private resetRequested = false;
  private bootFailed = false;
  private powerOffRequested = false;
  private searchFrom = 0;
  private serialReceiver: ((bytes: Uint8Array) => void) | null = null;
  /** The attached debugger, if any (it sets itself here). */
  debugger: MachineDebugger | null = null;
  /** What each COM port leads to now (COM1's as given, before the machine's tap). */
  private readonly serialBackends: (CharBackend | null)[];

  constructor(readonly config: PcConfig = {}) {
    this.mem = new MemoryBus((config.memoryMiB ?? 128) << 20);
    this.cpu = new Cpu(this.mem, this.io);
    setCpuMode(this.cpu, config.cpu, config.jitThreshold);
    this.clock = new Clock({ mode: config.clock ?? 'deterministic', nsPerInstruction: config.nsPerInstruction ?? 5 });
    this.clock.setInFlightCounter(() => this.cpu.sliceRetired);
    this.scheduler = new Scheduler(this.clock);
    // A timer armed mid-slice earlier than the slice's end (the guest programming the PIT, say)
    // must end the slice, or its interrupt comes late: ticks pile up and are lost.
    this.scheduler.onEarlierDeadline = () => this.cpu.requestStop();
    this.cpu.readTsc = () => this.clock.tsc();
    this.cpu.tscOffset = 0;
    this.cpu.resetOnTripleFault = false;

    this.pic = new PicPair(this.io, () => this.cpu.interruptPending());
    this.cpu.pic = this.pic;
    // The x87 reports errors on FERR# → IRQ 13 (with CR0.NE clear); a write to port F0h clears the latch.
    const fpu = attachFpu(this.cpu, (asserted) => this.pic.setIrq(13, asserted));
    this.io.map(0xf0, 0xf0, { write8: () => this.pic.setIrq(13, false) });
    this.pit = new Pit(this.io, irqLine(this.pic, 0), this.scheduler);
    this.serialBackends = [0, 1, 2, 3].map((i) => config.serial?.[i] ?? null);
    this.platform = attachPlatform(this, {
      serial: [this.com1Tap(this.serialBackends[0]), ...this.serialBackends.slice(1)],
      onDebugConsole: config.onDebugConsole,
      rtcStart: config.rtcStart,
      onResetRequest: () => { this.resetRequested = true; this.cpu.requestStop(); },
    });

    const [hda, hdb, hdd, ...extra] = config.hardDisks ?? [];
    if (extra.length) throw new RangeError('at most three IDE hard disks (the CD-ROM drive is the fourth position)');
    this.chipset = new Chipset({
      io: this.io, mem: this.mem, irqs: this.pic, nowNs: () => this.clock.now(),
      hda, hdb, hdd, cdrom: config.cdrom,
      onPowerOff: () => { this.powerOffRequested = true; this.cpu.requestStop(); },
      onReset: () => { this.resetRequested = true; this.cpu.requestStop(); },
    });
    this.dma = new Dma8237(this.io, this.mem);
    this.scsi = attachScsi({ pci: this.chipset.pci, io: this.io, mem: this.mem, dma: this.dma, irqs: this.pic }, config.scsi ?? []);
    this.pciBios = new PciBios(this.chipset.pci, this.io, this.mem);
    this.pciBios.install(this.cpu);

    this.linux = config.linux ? new LinuxLoader(this.mem, config.linux) : null;
    this.bios = new Bios(this.cpu, {
      floppies: config.floppies,
      hardDisks: config.scsiFirst
        ? [...scsiBiosDisks(this.scsi.adapters), ...ideHardDisks(this.chipset.ide)]
        : [...ideHardDisks(this.chipset.ide), ...scsiBiosDisks(this.scsi.adapters)],
      cdrom: ideCdromBoot(this.chipset.ide), pciBios: this.pciBios,
      bootOrder: config.bootOrder,
      cpuMhz: Math.round(this.clock.tscHz / 1e6),
      now: () => this.clock.now(),
      setA20: (on) => this.platform.a20.set('port92', on),
      bootHook: this.linux ? (c) => this.linux!.boot(c) : undefined,
      onBootFailure: () => { this.bootFailed = true; this.cpu.requestStop(); },
    });
    this.bios.install();

    this.statefuls = [
      this.clock, new CpuState(this.cpu), fpuState(fpu), this.pic, this.pit,
      this.platform.rtc, this.platform.i8042, this.platform.port92, ...this.platform.uarts, this.platform.vga,
      ...this.chipset.statefuls, this.dma, ...this.scsi.statefuls, this.bios,
    ];
  }

  /**
   * Every stateful part of the machine, in a fixed order: what a saved state holds (with the
   * RAM). Caches (TLB, decoded code) are rebuilt after a restore, never saved.
   */
  readonly statefuls: Stateful[];

  /** What a saved state must agree on to be loaded into this machine. */
  private stateConfig(): Record<string, unknown> {
    return {
      memoryMiB: this.mem.ramSize / 1048576,
      clock: this.clock.mode,
      nsPerInstruction: this.clock.mode === 'deterministic' ? this.clock.nsPerInstruction : null,
      sections: this.statefuls.map((s) => `${s.stateDesc.name}@${s.stateDesc.version}`),
      disks: this.diskIdentities().map((d) => `${d.slot}:${d.sectors}x${d.sectorSize}`),
    };
  }

  private diskIdentities(): VsvDisk[] {
    const c = this.config;
    const slots: [string, BlockDevice | null | undefined][] = [
      ['fda', c.floppies?.[0]], ['fdb', c.floppies?.[1]],
      ['hda', c.hardDisks?.[0]], ['hdb', c.hardDisks?.[1]], ['hdd', c.hardDisks?.[2]], ['cdrom', c.cdrom],
    ];
    (c.scsi ?? []).forEach((a, k) => a.devices.forEach((d) => slots.push([`scsi${k}:${d.id}`, d.disk ?? d.cdrom])));
    return slots.filter((e): e is [string, BlockDevice] => !!e[1])
      .map(([slot, d]) => ({ slot, sectors: d.sectorCount, sectorSize: d.sectorSize, readOnly: d.readOnly }));
  }

  /**
   * The whole machine as a saved state (.vsv bytes). Call between runs, not during one. The
   * disks are flushed first: a state always goes with the disk contents it saw.
   */
  saveState(): Uint8Array {
    this.flush();
    // The TLB is not saved, so the machine that goes on must drop it too: a guest that changed
    // a page table without INVLPG (Linux clearing accessed bits) would otherwise see the old
    // translation here and the new one in the restored machine. Dropping TLB entries at any
    // moment is what the architecture allows.
    this.cpu.flushTlb(true);
    const config = this.stateConfig();
    const header: VsvHeader = {
      soulvm: '0.1.0', savedAt: new Date().toISOString(), config,
      configDigest: createHash('sha256').update(JSON.stringify(config)).digest('hex'),
      disks: this.diskIdentities(),
    };
    return encodeVsv(header, saveAll(this.statefuls), this.mem.bytes.subarray(0, this.mem.ramSize));
  }

  /**
   * Resume from saveState's bytes. The file is checked in full before anything changes: a
   * damaged, truncated, mismatched or newer file is a StateError and the machine is as it was.
   */
  restoreState(file: Uint8Array): void {
    const v = decodeVsv(file, this.mem.ramSize);
    const config = this.stateConfig();
    const digest = createHash('sha256').update(JSON.stringify(config)).digest('hex');
    if (v.header.configDigest !== digest) {
      const theirs = v.header.config ?? {};
      const diff = Object.keys(config).filter((k) => JSON.stringify(config[k]) !== JSON.stringify(theirs[k]));
      throw new StateError(`saved state is for another machine configuration (${diff.join(', ') || 'configuration'} differ${diff.length === 1 ? 's' : ''})`);
    }
    loadAll(this.statefuls, v.devices); // checks every section before applying any
    this.mem.bytes.set(v.ram, 0);
    this.mem.noteWrite(0, v.ram.length); // drops the decoded blocks of the RAM just replaced
    this.cpu.flushTlb(true);
    this.cpu.cancelStopRequest();
    this.stopRequested = this.resetRequested = this.bootFailed = this.powerOffRequested = false;
  }

  saveStateFile(path: string): void { writeFileAtomic(path, this.saveState()); }
  restoreStateFile(path: string): void { this.restoreState(readVsvFile(path)); }

  /**
   * COM1 as the UART sees it: output is recorded in `serialOutput` (and `onSerialOutput`)
   * before it goes to the backend; input comes from the backend and from `sendSerial`.
   */
  private com1Tap(inner: CharBackend | null): CharBackend {
    const b: CharBackend = inner ?? new NullBackend();
    return {
      write: (byte) => { this.serialOutput += String.fromCharCode(byte); this.config.onSerialOutput?.(byte); b.write(byte); },
      onReceive: (cb) => { this.serialReceiver = cb; b.onReceive(cb); },
      writable: b.writable && (() => b.writable!()),
      connected: b.connected && (() => b.connected!()),
      onStatus: b.onStatus && ((cb) => b.onStatus!(cb)),
      pauseInput: b.pauseInput && (() => b.pauseInput!()),
      resumeInput: b.resumeInput && (() => b.resumeInput!()),
    };
  }

  /** What COM`port + 1` leads to (null: nothing, or for COM1 the machine's own line). */
  serialBackend(port: number): CharBackend | null { return this.serialBackends[port] ?? null; }

  /**
   * Attach COM`port + 1` (0–3) to another backend while the machine runs: a backend object,
   * a spec as the command line takes it (`unix:PATH,server`, `tcp::4555,server`, ...), or null
   * to detach it. The backend it replaces is closed. The guest sees carrier follow the new
   * backend. Bad specs reject with a one-line CharBackendError and leave the port as it was.
   */
  async attachSerial(port: number, backend: CharBackend | string | null, opts: HostBackendOptions = {}): Promise<CharBackend | null> {
    if (!Number.isInteger(port) || port < 0 || port > 3) throw new RangeError(`COM${port + 1}: there are COM1 to COM4`);
    const next = typeof backend === 'string' ? await openCharBackend(backend, { name: `COM${port + 1}`, ...opts }) : backend;
    const old = this.serialBackends[port];
    this.serialBackends[port] = next;
    this.platform.uarts[port].setBackend(port === 0 ? this.com1Tap(next) : next ?? new NullBackend());
    if (old && old !== next) await old.close?.();
    return next;
  }

  /** Close every serial backend (sockets, FIFOs, files); the ports lead nowhere afterwards. */
  async closeSerial(): Promise<void> {
    for (let i = 0; i < 4; i++) if (this.serialBackends[i]) await this.attachSerial(i, null);
  }

  /** Feed bytes to COM1 as if typed on the serial line. */
  sendSerial(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.serialReceiver?.(bytes);
  }

  /** Ask a running `run` to return (from a callback or another task). */
  stop(): void { this.stopRequested = true; this.cpu.requestStop(); }

  /** Restart the machine as the reset button does. */
  reset(): void {
    this.cpu.reset();
    this.pic.reset();
    this.pit.reset();
    this.platform.reset();
    this.chipset.reset();
    this.dma.reset();
    this.scsi.reset();
  }

  /** Every disk and disc attached to the machine. */
  get blockDevices(): BlockDevice[] {
    const scsi = (this.config.scsi ?? []).flatMap((a) => a.devices.map((d) => d.disk ?? d.cdrom ?? null));
    const all = [...(this.config.floppies ?? []), ...(this.config.hardDisks ?? []), this.config.cdrom ?? null, ...scsi];
    return all.filter((d): d is BlockDevice => d !== null && d !== undefined);
  }

  /** Make everything the guest wrote durable (the disks' flush: an fsync). */
  flush(): void { for (const d of this.blockDevices) if (!d.readOnly) d.flush(); }

  /** Flush and close every attached disk; the machine cannot run afterwards. */
  close(): void { for (const d of this.blockDevices) d.close(); }

  /**
   * Run until the guest halts, resets (with onReset 'stop'), fails to boot, the awaited output
   * appears, a limit is reached or stop() is called. Yields to the event loop between slices
   * so that host-mode input and timers keep working.
   */
  async run(opts: RunOptions = {}): Promise<RunResult> {
    const t0 = performance.now();
    const startInstr = this.cpu.instructionCount;
    const maxInstr = opts.maxInstructions ?? Infinity;
    const deadline = opts.timeoutMs !== undefined ? t0 + opts.timeoutMs : Infinity;
    this.searchFrom = this.serialOutput.length;
    this.stopRequested = false;
    const done = (stop: PcStop): RunResult => ({ stop, instructions: this.cpu.instructionCount - startInstr, seconds: (performance.now() - t0) / 1000 });
    let lastYield = performance.now();
    for (;;) {
      if (this.debugger?.holding) {
        // Stopped in the debugger: the guest's time stands still; host events go on.
        if (this.stopRequested) { this.stopRequested = false; return done('stopped'); }
        if (performance.now() >= deadline) return done('limit');
        await sleep(2);
        lastYield = performance.now();
        continue;
      }
      const r = this.slice(maxInstr - (this.cpu.instructionCount - startInstr));
      if (r !== null && typeof r === 'string') return done(r);
      if (opts.until !== undefined && this.found(opts.until)) return done('found');
      if (this.cpu.instructionCount - startInstr >= maxInstr) return done('limit');
      const now = performance.now();
      if (now >= deadline) return done('limit');
      if (typeof r === 'number' && r > 0) {
        // Host mode, halted: sleep until the next event (at most 10 ms, so input is seen promptly).
        await sleep(Math.min(r / 1e6, 10));
        lastYield = performance.now();
      } else if (now - lastYield > 20) {
        await sleep(0);
        lastYield = performance.now();
      }
    }
  }

  /**
   * Whether the awaited output has appeared: a string must be completed by output of this run
   * (so a prompt printed before the run does not count); a pattern also sees the 256
   * characters before the run began.
   */
  private found(what: string | RegExp): boolean {
    if (typeof what === 'string') return this.serialOutput.includes(what, Math.max(0, this.searchFrom - what.length + 1));
    return what.test(this.serialOutput.slice(Math.max(0, this.searchFrom - 256)));
  }

  /**
   * One slice of the run loop. Returns a stop reason, the ns to sleep (host mode, halted), or
   * null to go on.
   */
  slice(budget = Infinity): PcStop | number | null {
    const { cpu, clock, scheduler } = this;
    const n = cpu.run(Math.max(1, Math.min(clock.instructionsUntil(scheduler.nextDeadline()), budget)));
    clock.advance(n);
    let sleepNs = 0;
    switch (cpu.stopReason) {
      case Stop.Halt:
        sleepNs = clock.idle(scheduler.nextDeadline());
        break;
      case Stop.HaltNoIrq:
        if (!cpu.nmiPending) return 'halted';
        break;
      case Stop.TripleFault:
        if (this.config.onReset === 'stop') return 'reset';
        this.reset();
        break;
      case Stop.Debug:
        this.debugger?.cpuStopped(Stop.Debug);
        break;
      case Stop.Request:
        this.debugger?.cpuStopped(Stop.Request);
        if (this.stopRequested) { this.stopRequested = false; return 'stopped'; }
        if (this.bootFailed) { this.bootFailed = false; return 'boot-failed'; }
        if (this.powerOffRequested) { this.powerOffRequested = false; return 'poweroff'; }
        if (this.resetRequested) {
          this.resetRequested = false;
          if (this.config.onReset === 'stop') return 'reset';
          this.reset();
        }
        break;
    }
    scheduler.runDue();
    return sleepNs > 0 ? sleepNs : null;
  }
}

function sleep(ms: number): Promise<void> { return new Promise((resolve) => setTimeout(resolve, ms)); }
