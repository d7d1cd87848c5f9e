// Direct kernel boot, like QEMU's -kernel: a bzImage and an initrd are placed in memory as a
// boot loader would (Documentation/arch/x86/boot.rst, "The Linux/x86 Boot Protocol"), and
// INT 19h jumps to the kernel's real-mode setup code on soulvm's BIOS, so the kernel's own
// setup asks the BIOS for the memory map, the video mode and the rest.

import type { MemoryBus } from '../bus/memory.ts';
import { Seg } from '../cpu/cpu.ts';
import type { Ctx } from '../bios/context.ts';
import { IF } from '../bios/context.ts';
import { e820Map, E820_RAM } from '../bios/system.ts';

/** A kernel or initrd the loader cannot use; the message is meant for the user. */
export class KernelLoadError extends Error {
  readonly userFacing = true;
  override name = 'KernelLoadError';
}

// Where the pieces go (the layout QEMU uses for protocol 2.02+).
const REAL_MODE_ADDR = 0x10000;   // setup sectors; segment 0x1000
const CMDLINE_ADDR = 0x20000;
const PROT_MODE_ADDR = 0x100000;  // code32_start for a bzImage
const HEAP_END = 0xfe00;          // heap_end_ptr: offset from the setup segment, below the command line

export interface KernelImage {
  protocol: number;
  setupBytes: number;
  /** The real-mode part (boot sector + setup), then the protected-mode kernel. */
  setup: Uint8Array;
  kernel: Uint8Array;
  initrdAddrMax: number;
  cmdlineSize: number;
  initSize: number;
  version: string;
}

/** Parse and check a bzImage. `name` prefixes error messages. */
export function parseBzImage(file: Uint8Array, name = 'kernel'): KernelImage {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 0x264) throw new KernelLoadError(`${name}: too short to be a Linux kernel (${file.length} bytes)`);
  if (dv.getUint16(0x1fe, true) !== 0xaa55 || dv.getUint32(0x202, true) !== 0x53726448 /* "HdrS" */) {
    throw new KernelLoadError(`${name}: not a Linux bzImage (no boot signature / "HdrS" setup header)`);
  }
  const protocol = dv.getUint16(0x206, true);
  if (protocol < 0x0202) throw new KernelLoadError(`${name}: boot protocol ${fmtProtocol(protocol)} is too old (2.02 or newer needed)`);
  if (!(file[0x211] & 0x01)) throw new KernelLoadError(`${name}: a zImage (loaded low) is not supported; use a bzImage`);
  const setupSects = file[0x1f1] || 4;
  const setupBytes = (setupSects + 1) * 512;
  // syssize counts 16-byte paragraphs, rounded up: the last one may be partial (memtest86+'s is).
  const syssize = protocol >= 0x0204 ? dv.getUint32(0x1f4, true) * 16 : 0;
  if (file.length < setupBytes + syssize - 15 || file.length <= setupBytes) {
    throw new KernelLoadError(`${name}: truncated: ${file.length} bytes, the header describes ${setupBytes + syssize}`);
  }
  const versionOff = dv.getUint16(0x20e, true);
  let version = '';
  if (versionOff) for (let i = 0x200 + versionOff; i < file.length && file[i] && version.length < 128; i++) version += String.fromCharCode(file[i]);
  return {
    protocol, setupBytes,
    setup: file.subarray(0, setupBytes), kernel: file.subarray(setupBytes),
    initrdAddrMax: protocol >= 0x0203 ? dv.getUint32(0x22c, true) : 0x37ffffff,
    cmdlineSize: protocol >= 0x0206 ? dv.getUint32(0x238, true) : 255,
    initSize: protocol >= 0x020a ? dv.getUint32(0x260, true) : 0,
    version,
  };
}

function fmtProtocol(p: number): string { return `${p >> 8}.${(p & 0xff).toString().padStart(2, '0')}`; }

export interface LinuxBootOptions {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  cmdline?: string;
  kernelName?: string;
  initrdName?: string;
}

/** The loader: checks everything up front, then loads into memory each time INT 19h boots. */
export class LinuxLoader {
  readonly image: KernelImage;
  readonly initrdAddr: number;
  private readonly cmdline: Uint8Array;

  constructor(private readonly mem: MemoryBus, private readonly opts: LinuxBootOptions) {
    this.image = parseBzImage(opts.kernel, opts.kernelName ?? 'kernel');
    const img = this.image;
    const cmd = opts.cmdline ?? '';
    if (cmd.length > img.cmdlineSize) throw new KernelLoadError(`kernel command line is ${cmd.length} bytes; this kernel takes at most ${img.cmdlineSize}`);
    this.cmdline = new TextEncoder().encode(cmd + '\0');
    // The top of the RAM the kernel may use: the end of the E820 region at 1 MiB.
    const ramTop = e820Map(mem.ramSize).filter((e) => e.type === E820_RAM && e.base === PROT_MODE_ADDR).map((e) => e.base + e.length)[0];
    const kernelEnd = PROT_MODE_ADDR + Math.max(img.kernel.length, img.initSize);
    if (kernelEnd > ramTop) {
      throw new KernelLoadError(`${opts.kernelName ?? 'kernel'} needs ${mib(kernelEnd)} of RAM to decompress; the machine has ${mib(mem.ramSize)}`);
    }
    this.initrdAddr = 0;
    if (opts.initrd) {
      const size = opts.initrd.length;
      const max = Math.min(img.initrdAddrMax + 1, ramTop);
      const addr = Math.floor((max - size) / 4096) * 4096;
      if (addr < kernelEnd) {
        throw new KernelLoadError(`${opts.initrdName ?? 'initrd'} (${mib(size)}) does not fit in RAM beside the kernel (${mib(mem.ramSize)} of RAM; try a larger --memory)`);
      }
      this.initrdAddr = addr;
    }
  }

  /** Put the kernel, initrd and command line in memory and fill in the setup header. */
  load(): void {
    const { mem, image: img, opts } = this;
    mem.writeBytes(REAL_MODE_ADDR, img.setup);
    mem.writeBytes(PROT_MODE_ADDR, img.kernel);
    mem.writeBytes(CMDLINE_ADDR, this.cmdline);
    const hdr = REAL_MODE_ADDR;
    mem.write8(hdr + 0x210, 0xff);                                  // type_of_loader: undefined
    mem.write8(hdr + 0x211, mem.read8(hdr + 0x211) | 0x80);         // loadflags: CAN_USE_HEAP
    mem.write16(hdr + 0x224, HEAP_END);                             // heap_end_ptr
    mem.write32(hdr + 0x228, CMDLINE_ADDR);                         // cmd_line_ptr
    if (opts.initrd) {
      mem.writeBytes(this.initrdAddr, opts.initrd);
      mem.write32(hdr + 0x218, this.initrdAddr);                    // ramdisk_image
      mem.write32(hdr + 0x21c, opts.initrd.length);                 // ramdisk_size
    } else {
      mem.write32(hdr + 0x218, 0); mem.write32(hdr + 0x21c, 0);
    }
  }

  /** The INT 19h hook: load, then enter the setup code at seg+0x20:0 with interrupts off. */
  boot(c: Ctx): void {
    this.load();
    const cpu = c.cpu, seg = REAL_MODE_ADDR >> 4;
    for (const s of [Seg.DS, Seg.ES, Seg.FS, Seg.GS, Seg.SS]) cpu.setSegmentReal(s, seg);
    cpu.regs[4] = HEAP_END + 0x200 - 0x10; // ESP: the top of the heap area, below the command line
    cpu.setFlag(IF, false);
    c.jump(seg + 0x20, 0);
  }
}

function mib(bytes: number): string { return `${(bytes / (1 << 20)).toFixed(1).replace(/\.0$/, '')} MiB`; }
