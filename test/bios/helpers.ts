// A small BIOS test bench: CPU + soulvm's BIOS + the VGA (no PIC, PIT or RTC), raw
// images in memory as block devices, and the 0xE9 console for the guest programs' output.
import { MemoryBus } from '../../src/bus/memory.ts';
import { Vga } from '../../src/devices/vga.ts';
import { Clock, Scheduler } from '../../src/machine/clock.ts';
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

export function makeBench(options: BiosOptions = {}, memoryMiB = 16) {
  const mem = new MemoryBus(memoryMiB << 20);
  const io = new IoBus();
  const cpu = new Cpu(mem, io);
  const vga = new Vga(io, mem, new Scheduler(new Clock()));
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
  const screenLine = (row: number) => vga.screenText().split('\n')[row];
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
