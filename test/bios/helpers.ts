// A PC-less BIOS test bench: CPU + soulvm's BIOS + a memory-backed text buffer at B8000, raw
// images in memory as block devices, and the 0xE9 console for the guest programs' output.
import { MemoryBus, type MmioHandler } from '../../src/bus/memory.ts';
import { IoBus } from '../../src/bus/io.ts';
import { Cpu, Stop } from '../../src/cpu/cpu.ts';
import { Bios, type BiosOptions } from '../../src/bios/bios.ts';
import type { BlockDevice } from '../../src/disk/block-device.ts';
import { Asm } from '../../src/bios/asm.ts';

/** A disk image held in memory, with the BlockDevice semantics of src/disk. */
export class MemDisk implements BlockDevice {
  readonly sectorSize = 512;
  constructor(readonly data: Uint8Array, readonly readOnly = false) {}
  get sectorCount(): number { return Math.ceil(this.data.length / 512); }
  read(sector: number, buf: Uint8Array): void { buf.set(this.data.subarray(sector * 512, sector * 512 + buf.length)); }
  write(sector: number, data: Uint8Array): void { this.data.set(data, sector * 512); }
  flush(): void {}
  close(): void {}
}

/** 128 KiB of plain memory for the VGA window (text modes only need a byte store). */
export function textWindow(): MmioHandler & { bytes: Uint8Array } {
  const bytes = new Uint8Array(0x20000);
  return { bytes, read8: (a) => bytes[a - 0xa0000], write8: (a, v) => { bytes[a - 0xa0000] = v; } };
}

export function makeBench(options: BiosOptions = {}, memoryMiB = 16) {
  const mem = new MemoryBus(memoryMiB << 20);
  const io = new IoBus();
  const cpu = new Cpu(mem, io);
  const vga = textWindow();
  mem.mapMmio(0xa0000, 0x20000, vga);
  let out = '';
  io.map(0xe9, 0xe9, { write8: (_p, v) => { out += String.fromCharCode(v); } });
  const bios = new Bios(cpu, options);
  bios.install();
  const run = (max = 5_000_000) => {
    let left = max;
    while (left > 0) {
      left -= cpu.run(Math.min(left, 100_000));
      if (cpu.stopReason === Stop.HaltNoIrq || cpu.stopReason === Stop.TripleFault) break;
    }
    return cpu.stopReason;
  };
  const screenLine = (row: number) => {
    let s = '';
    for (let col = 0; col < 80; col++) s += String.fromCharCode(vga.bytes[0x18000 + (row * 80 + col) * 2]);
    return s.trimEnd();
  };
  return { mem, io, cpu, bios, vga, run, console: () => out, screenLine };
}

/** A 512-byte boot sector: the code built by `body` at 0000:7C00, signature 55AA. */
export function bootSector(body: (a: Asm) => void): Uint8Array {
  const a = new Asm(512, 0x7c00);
  a.org(0x7c00);
  body(a);
  a.org(0x7c00 + 510).db(0x55, 0xaa);
  return a.finish();
}
