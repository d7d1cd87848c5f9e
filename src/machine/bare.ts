// A bare machine for CPU tests and `soulvm run --bios`: RAM, a ROM image at the top of the
// 1 MiB and 4 GiB spaces, the 0xE9 debug console, POST-code ports and QEMU's isa-debug-exit
// port 0xF4, and nothing else. Real guests use the PC in pc.ts.

import { MemoryBus } from '../bus/memory.ts';
import { IoBus } from '../bus/io.ts';
import { Cpu, Stop } from '../cpu/cpu.ts';
import { attachFpu } from '../cpu/fpu-host.ts';
import { setCpuMode, type CpuMode } from '../cpu/jit.ts';

export type BareStop = 'exit' | 'halt' | 'triple-fault' | 'max-instructions';

export interface BareRunResult {
  console: string;
  stop: BareStop;
  exitCode: number;
  instructions: number;
  postCodes: number[];
}

export interface BareOptions {
  memoryMiB?: number;
  maxInstructions?: number;
  /** Called with every byte written to port 0xE9 as it happens. */
  onConsole?: (byte: number) => void;
  /** Called with every POST code written to port 0x80 or 0x190. */
  onPostCode?: (code: number, port: number) => void;
  /** Reset the CPU on a triple fault instead of stopping. */
  resetOnTripleFault?: boolean;
  /** `jit` (the default) or `interp`. */
  cpu?: CpuMode;
  /** Executions of a block before the JIT compiles it (tests force 1). */
  jitThreshold?: number;
}

export class BareMachine {
  readonly mem: MemoryBus;
  readonly io = new IoBus();
  readonly cpu: Cpu;
  console = '';
  postCodes: number[] = [];
  exitCode = -1;

  constructor(rom: Uint8Array, readonly options: BareOptions = {}) {
    if (rom.length === 0 || rom.length % 4096 || rom.length > (1 << 20)) {
      throw Object.assign(new Error(`ROM image must be a non-empty multiple of 4 KiB up to 1 MiB, got ${rom.length} bytes`), { userFacing: true });
    }
    this.mem = new MemoryBus((options.memoryMiB ?? 32) << 20);
    // The whole image sits below 4 GiB; its last 128 KiB (or all of it, if smaller) also appear below 1 MiB.
    const low = rom.length > 0x20000 ? rom.subarray(rom.length - 0x20000) : rom;
    this.mem.mapRom(rom, (0x100000000 - rom.length) >>> 0);
    this.mem.mapRom(low, 0x100000 - low.length);
    this.cpu = new Cpu(this.mem, this.io);
    this.cpu.resetOnTripleFault = options.resetOnTripleFault ?? false;
    setCpuMode(this.cpu, options.cpu, options.jitThreshold);
    attachFpu(this.cpu);
    this.io.map(0xe9, 0xe9, {
      read8: () => 0xe9,
      write8: (_p, v) => { this.console += String.fromCharCode(v); options.onConsole?.(v); },
    });
    const post = (port: number, v: number) => { this.postCodes.push(v); options.onPostCode?.(v, port); };
    this.io.map(0x80, 0x80, { write8: post });
    this.io.map(0x190, 0x190, { write8: post });
    this.io.map(0xf4, 0xf7, {
      write8: (_p, v) => { this.exitCode = v; this.cpu.requestStop(); },
      write16: (_p, v) => { this.exitCode = v; this.cpu.requestStop(); },
      write32: (_p, v) => { this.exitCode = v; this.cpu.requestStop(); },
    });
  }

  run(maxInstructions = 50_000_000): BareRunResult {
    const cpu = this.cpu;
    let stop: BareStop = 'max-instructions';
    let left = maxInstructions;
    while (left > 0) {
      const n = cpu.run(Math.min(left, 1 << 20));
      left -= n;
      if (cpu.stopReason === Stop.Request) { stop = 'exit'; break; }
      if (cpu.stopReason === Stop.TripleFault) { stop = 'triple-fault'; break; }
      if (cpu.stopReason === Stop.HaltNoIrq || cpu.stopReason === Stop.Halt) { stop = 'halt'; break; }
    }
    return { console: this.console, stop, exitCode: this.exitCode, instructions: cpu.instructionCount, postCodes: this.postCodes };
  }
}

/** Run a ROM image on a bare machine until it exits, halts, triple-faults or runs out of budget. */
export function runRom(rom: Uint8Array, opts: BareOptions = {}): BareRunResult {
  return new BareMachine(rom, opts).run(opts.maxInstructions ?? 50_000_000);
}
