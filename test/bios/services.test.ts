// BIOS services as a guest sees them: boot sectors (test/bios/programs, built with nasm by
// build.sh there) call the services and leave results in memory for these checks.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { makeBench, MemDisk } from './helpers.ts';
import { e820Map } from '../../src/bios/system.ts';

const program = (name: string) => new Uint8Array(readFileSync(new URL(`./programs/${name}.bin`, import.meta.url)));

/** A disk image whose every sector starts with its own number (u32) and is filled with its low byte. */
function numberedImage(sectors: number): Uint8Array {
  const img = new Uint8Array(sectors * 512);
  for (let s = 0; s < sectors; s++) {
    img.fill(s & 0xff, s * 512, s * 512 + 512);
    new DataView(img.buffer).setUint32(s * 512, s, true);
  }
  return img;
}

function bootFromHd(name: string, sectors = 4096, memoryMiB = 16) {
  const img = numberedImage(sectors);
  img.set(program(name), 0);
  const disk = new MemDisk(img);
  const b = makeBench({ hardDisks: [disk] }, memoryMiB);
  const stop = b.run();
  return { ...b, img, stop };
}

describe('BIOS memory services', () => {
  it('reports the E820 map, E801h, 88h, INT 12h and INT 11h for 16 MiB', () => {
    const b = bootFromHd('e820');
    expect(b.console()).toBe('D');
    const n = b.mem.read16(0x8ff0);
    const entries = [];
    for (let i = 0; i < n; i++) {
      const at = 0x9000 + i * 20;
      entries.push({
        base: b.mem.read32(at) >>> 0 + (b.mem.read32(at + 4) >>> 0) * 2 ** 32,
        length: (b.mem.read32(at + 8) >>> 0) + (b.mem.read32(at + 12) >>> 0) * 2 ** 32,
        type: b.mem.read32(at + 16),
      });
    }
    expect(entries).toEqual([
      { base: 0, length: 0x9fc00, type: 1 },
      { base: 0x9fc00, length: 0x400, type: 2 },
      { base: 0xe0000, length: 0x20000, type: 2 },
      { base: 0x100000, length: (15 << 20) - 0x10000, type: 1 },
      { base: 0xff0000, length: 0xf000, type: 3 },    // ACPI tables
      { base: 0xfff000, length: 0x1000, type: 4 },    // ACPI NVS (the FACS)
      { base: 0xfffe0000, length: 0x20000, type: 2 },
    ]);
    expect(entries).toEqual(e820Map(16 << 20));
    // E801h and 88h count the RAM an OS may use, below the ACPI tables.
    expect(b.mem.read16(0x8fe0)).toBe(15 * 1024 - 64); // E801 AX: KiB between 1 and 16 MiB
    expect(b.mem.read16(0x8fe2)).toBe(0);         // BX: 64 KiB blocks above 16 MiB
    expect(b.mem.read16(0x8fe4)).toBe(15 * 1024 - 64);
    expect(b.mem.read16(0x8fe8)).toBe(15 * 1024 - 64); // 88h
    expect(b.mem.read16(0x8fea)).toBe(639);       // INT 12h: conventional memory below the EBDA
    expect(b.mem.read16(0x8fec) & 0x30).toBe(0x20); // INT 11h: 80x25 colour
  });

  it('counts memory above 16 MiB in E801h and caps 88h at 63 MiB', () => {
    const b = bootFromHd('e820', 4096, 128);
    expect(b.mem.read16(0x8fe2)).toBe((128 - 16) * 16 - 1); // the top 64 KiB hold the ACPI tables
    expect(b.mem.read16(0x8fe8)).toBe(0xfc00);
    expect(b.mem.read32(0x9000 + 3 * 20 + 8)).toBe((127 << 20) - 0x10000);
  });

  it('lays out the BDA and EBDA as firmware does', () => {
    const b = bootFromHd('e820');
    expect(b.mem.read16(0x40e)).toBe(0x9fc0);      // EBDA segment
    expect(b.mem.read16(0x413)).toBe(639);
    expect(b.mem.read8(0x9fc00)).toBe(1);          // EBDA size in KiB
    expect(b.mem.read8(0x475)).toBe(1);            // one hard disk
    expect(b.mem.read16(0x41a)).toBe(0x1e);        // keyboard buffer head/tail/start/end
    expect(b.mem.read16(0x482)).toBe(0x3e);
    expect(b.mem.read32(0x13 * 4) >>> 0).toBe(0xf000e3fe); // INT 13h at its AT address
    expect(b.mem.read32(0x19 * 4) >>> 0).toBe(0xf000e6f2);
    expect(b.mem.read8(0xffffe)).toBe(0xfc);       // model byte
  });
});

describe('INT 13h', () => {
  it('reads by CHS and LBA, writes by LBA, and reports geometry and EDD on a hard disk', () => {
    const b = bootFromHd('disk');
    expect(b.console()).toBe('D');
    const m = b.mem;
    expect(m.read8(0x8f1c)).toBe(0x80); // DL at boot
    // 4096 sectors: 16 heads x 63 sectors, 4 cylinders -> CX = cyl 3 | sector 63, DH = 15, DL = 1 drive
    expect(m.read16(0x8f00)).toBe(0x033f);
    expect(m.read16(0x8f02)).toBe(0x0f01);
    expect(m.read16(0x8f04)).toBe(0xaa55);   // 41h: BX
    expect(m.read16(0x8f06) & 1).toBe(1);    // extended disk access
    expect(m.read8(0x8f09)).toBe(0);         // CF clear
    expect(m.read16(0x8f0a)).toBe(0x0001);   // CHS read: AH = 0, AL = 1 sector
    expect(m.read8(0x8f0c)).toBe(0);
    // cylinder 0, head 1, sector 38 = LBA 63 + 37 = 100
    expect(m.read32(0x10000)).toBe(100);
    expect(m.read8(0x10000 + 511)).toBe(100);
    expect(m.read8(0x8f0e)).toBe(0);         // 42h
    expect(m.read8(0x8f0f)).toBe(0);
    expect(m.read16(0x8f10)).toBe(2);
    expect(m.read32(0x20000)).toBe(2000);
    expect(m.read32(0x20200)).toBe(2001);
    expect(m.read8(0x8f14)).toBe(0);         // 43h wrote sector 100's data to sector 3000
    expect(new DataView(b.img.buffer).getUint32(3000 * 512, true)).toBe(100);
    expect(b.img[3000 * 512 + 300]).toBe(100);
    expect(m.read8(0x8f18)).toBe(0x04);      // past the end: sector not found, CF set
    expect(m.read8(0x8f19)).toBe(1);
    expect(m.read16(0x8f1e)).toBe(0x1e);     // 48h: 30-byte result
    expect(m.read32(0x8f1e + 16)).toBe(4096); // total sectors
    expect(m.read16(0x8f1e + 24)).toBe(512);
  });

  it('reads a 1.44 MB floppy by CHS and refuses a transfer across a 64 KiB DMA boundary', () => {
    const img = numberedImage(2880);
    img.set(program('floppy'), 0);
    const b = makeBench({ floppies: [new MemDisk(img)] });
    b.run();
    expect(b.console()).toBe('D');
    const m = b.mem;
    expect(m.read8(0x8f1c)).toBe(0x00);
    expect(m.read16(0x8f00)).toBe(0x4f12);   // 80 cylinders, 18 sectors
    expect(m.read16(0x8f02)).toBe(0x0101);   // 2 heads, 1 drive
    expect(m.read8(0x8f04)).toBe(4);         // 1.44 MB drive type
    expect(m.read16(0x8f06)).toBe(0xefc7);   // ES:DI: the diskette parameter table
    expect(m.read16(0x8f08)).toBe(0xf000);
    expect(m.read16(0x8f0a)).toBe(0x0001);
    expect(m.read32(0x10000)).toBe((1 * 2 + 1) * 18 + 4);
    expect(m.read8(0x8f0e)).toBe(0x09);
    expect(m.read8(0x8f0f)).toBe(1);
  });
});

describe('INT 10h', () => {
  it('writes text by teletype, character/attribute calls and write-string, and scrolls', () => {
    const b = bootFromHd('video');
    expect(b.console()).toBe('D');
    const m = b.mem;
    // Before the scroll: cursor at row 1, col 5 after "Hello\r\nWorld"; XXX written without moving it.
    expect(m.read16(0x8f00)).toBe(0x0105);
    expect(m.read16(0x8f04)).toBe(0x1f58);   // AH=08h: 'X' with attribute 1Fh
    // The line feed on the last row scrolled everything up by one line.
    expect(b.screenLine(0)).toBe('WorldXXX');
    expect(b.screenLine(23)).toBe('A');
    expect(b.screenLine(10)).toBe('  String');
    expect(b.vga.cell(10, 2)).toEqual({ char: 0x53, attr: 0x4e });
    expect(b.vga.cursor).toMatchObject({ row: 10, col: 8 }); // the CRTC cursor follows
    expect(m.read16(0x8f06)).toBe(0x5003);   // AH=0Fh: 80 columns, mode 3
    expect(m.read16(0x450)).toBe(0x0a08);    // the write-string moved the cursor to row 10, col 8
  });
});

describe('INT 16h, INT 08h/1Ch, INT 1Ah, INT 15h C0h and A20', () => {
  it('buffers keys, chains the timer tick, and reports configuration and the A20 gate', () => {
    const b = bootFromHd('misc');
    expect(b.console()).toBe('D');
    const m = b.mem;
    expect(m.read16(0x8f00)).toBe(0x1e61);
    expect(m.read8(0x8f02)).toBe(0);         // key available: ZF clear
    expect(m.read16(0x8f04)).toBe(0x1e61);
    expect(m.read8(0x8f06)).toBe(1);         // buffer empty again
    expect(m.read16(0x8f08)).toBe(2);        // INT 1Ch ran on each tick
    const before = (m.read16(0x8f0c) << 16) | m.read16(0x8f0a);
    const after = (m.read16(0x8f10) << 16) | m.read16(0x8f0e);
    expect(after - before).toBe(2);
    expect(m.read16(0x8f12)).toBe(0xf000);
    const table = 0xf0000 + m.read16(0x8f14);
    expect(m.read16(table)).toBe(8);
    expect(m.read8(table + 2)).toBe(0xfc);
    expect(m.read8(0x8f16)).toBe(0);
    expect(m.read8(0x8f18)).toBe(1);         // A20 on at boot
    expect(m.read8(0x8f1a)).toBe(0);         // off after 2400h
    expect(m.read8(0x8f1c)).toBe(1);         // on after 2401h
  });
});

describe('bootstrap', () => {
  it('boots the first bootable drive in the order and passes its number in DL', () => {
    const floppy = new Uint8Array(1440 * 1024); // no signature: skipped
    const hd = numberedImage(4096);
    hd.set(program('disk'), 0);
    const b = makeBench({ floppies: [new MemDisk(floppy)], hardDisks: [new MemDisk(hd)] });
    b.run();
    expect(b.mem.read8(0x8f1c)).toBe(0x80);
    expect(b.mem.readBytes(0x7c00, 64)).toEqual(program('disk').subarray(0, 64)); // (the program patches its data later on)
  });

  it('reports an unbootable image through INT 18h', () => {
    let failure = '';
    const b = makeBench({ hardDisks: [new MemDisk(new Uint8Array(512 * 100))], onBootFailure: (m) => { failure = m; } });
    b.run();
    expect(failure).toMatch(/no boot signature/);
    expect(b.bios.bootFailureMessage()).toMatch(/hard disk 0: no boot signature/);
    expect(b.screenLine(0)).toMatch(/^No bootable device/);
  });
});
