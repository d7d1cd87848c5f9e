import { describe, it, expect } from 'vitest';
import { Cpu, Seg } from '../../src/cpu/cpu.ts';
import { Ctx, CF } from '../../src/bios/context.ts';
import { CdromBoot, CD_DRIVE, ElToritoError, ideCdromBoot, ideHardDisks, readElTorito } from '../../src/bios/ata-bios.ts';
import { AtaDisk } from '../../src/devices/ide/ata-disk.ts';
import { AtapiCdrom } from '../../src/devices/ide/atapi-cdrom.ts';
import { MemoryDisk, testPc } from './helpers.ts';

/**
 * An ISO image laid out as the El Torito specification says: boot record volume descriptor
 * in sector 17, the catalog in sector 20, a 4-sector (2 KiB) no-emulation image at 21.
 */
function elToritoIso(opts: { badChecksum?: boolean; mediaType?: number; loadSegment?: number } = {}): MemoryDisk {
  const iso = new MemoryDisk(64, 2048, true).fillPattern();
  const b = iso.bytes, at = (s: number) => s * 2048;
  const ascii = (o: number, t: string) => { for (let i = 0; i < t.length; i++) b[o + i] = t.charCodeAt(i); };
  b.fill(0, at(17), at(18));
  b[at(17)] = 0; ascii(at(17) + 1, 'CD001'); b[at(17) + 6] = 1; ascii(at(17) + 7, 'EL TORITO SPECIFICATION');
  b[at(17) + 71] = 20;
  const c = at(20);
  b.fill(0, c, c + 2048);
  b[c] = 1; ascii(c + 4, 'soulvm test'); b[c + 30] = 0x55; b[c + 31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += b[c + i] | (b[c + i + 1] << 8);
  const fix = (-sum + (opts.badChecksum ? 1 : 0)) & 0xffff;
  b[c + 28] = fix & 0xff; b[c + 29] = fix >> 8;
  b[c + 32] = 0x88; b[c + 33] = opts.mediaType ?? 0;
  b[c + 34] = (opts.loadSegment ?? 0) & 0xff; b[c + 35] = (opts.loadSegment ?? 0) >> 8;
  b[c + 38] = 4; b[c + 40] = 21;
  return iso;
}

function cpuCtx() {
  const pc = testPc();
  const cpu = new Cpu(pc.mem, pc.io);
  cpu.setSegmentReal(Seg.SS, 0);
  cpu.regs16[8] = 0x7000; // SP: an interrupt frame (IP, CS, FLAGS) as the INT left it
  pc.mem.write16(0x7004, 0x0202);
  return { ...pc, cpu, c: new Ctx(cpu) };
}

describe('El Torito boot from the ATAPI CD-ROM', () => {
  it('reads the boot catalog and rejects damaged or unsupported ones', () => {
    expect(readElTorito(elToritoIso())).toEqual({ mediaType: 0, loadSegment: 0x7c0, sectorCount: 4, imageLba: 21, catalogLba: 20 });
    expect(() => readElTorito(elToritoIso({ badChecksum: true }))).toThrow(ElToritoError);
    expect(() => readElTorito(elToritoIso({ mediaType: 2 }))).toThrow(/emulation/);
    expect(() => readElTorito(new MemoryDisk(64, 2048))).toThrow(/no El Torito/);
    expect(() => readElTorito(new MemoryDisk(64, 512))).toThrow(/not a CD/);
  });

  it('finds the IDE disks in channel order and the CD-ROM', () => {
    const d0 = new MemoryDisk(64), d1 = new MemoryDisk(64), iso = elToritoIso();
    const { ide } = testPc([new AtaDisk(d0), new AtapiCdrom(iso)], [new AtaDisk(d1), undefined]);
    expect(ideHardDisks(ide)).toEqual([d0, d1]);
    expect(ideCdromBoot(ide)).toBeInstanceOf(CdromBoot);
  });

  it('loads the image at 07C0:0000, jumps there with DL = the CD drive, and serves INT 13h', () => {
    const { cpu, c, mem } = cpuCtx();
    const iso = elToritoIso();
    const boot = new CdromBoot(() => iso, { channel: 1, device: 0 });
    expect(boot.boot(c)).toBe(null);
    expect(cpu.segBase[Seg.CS]).toBe(0x7c00);
    expect(cpu.eip).toBe(0);
    expect(c.dl).toBe(CD_DRIVE);
    expect(Buffer.from(mem.readBytes(0x7c00, 2048)).equals(Buffer.from(iso.bytes.subarray(21 * 2048, 22 * 2048)))).toBe(true);

    // INT 13h AH=41h: extensions present.
    c.ah = 0x41; c.bx = 0x55aa; c.dl = CD_DRIVE;
    boot.int13(c);
    expect([c.bx, c.ah, mem.read16(0x7004) & CF]).toEqual([0xaa55, 0x21, 0]);

    // AH=42h: read 3 blocks of 2048 bytes from LBA 30 to 2000:0010.
    cpu.setSegmentReal(Seg.DS, 0x0100); c.si = 0;
    mem.write8(0x1000, 0x10); mem.write16(0x1002, 3); mem.write16(0x1004, 0x10); mem.write16(0x1006, 0x2000);
    mem.write32(0x1008, 30); mem.write32(0x100c, 0);
    c.ah = 0x42;
    boot.int13(c);
    expect(mem.read16(0x7004) & CF).toBe(0);
    expect(Buffer.from(mem.readBytes(0x20010, 3 * 2048)).equals(Buffer.from(iso.bytes.subarray(30 * 2048, 33 * 2048)))).toBe(true);

    // past the end: error, count zeroed
    mem.write32(0x1008, 63);
    c.ah = 0x42;
    boot.int13(c);
    expect(mem.read16(0x7004) & CF).toBe(CF);
    expect(c.ah).toBe(0x04);
    expect(mem.read16(0x1002)).toBe(0);

    // AH=4Bh AL=01h: the specification packet.
    c.ax = 0x4b01; c.si = 0x100;
    boot.int13(c);
    expect(mem.read16(0x7004) & CF).toBe(0);
    const p = mem.readBytes(0x1100, 0x13);
    expect([p[0], p[1], p[2], p[3]]).toEqual([0x13, 0, CD_DRIVE, 1]);
    expect(p[4] | (p[5] << 8)).toBe(21);
    expect(p[12] | (p[13] << 8)).toBe(0x7c0);
    expect(p[14]).toBe(4);

    // AH=48h: 2048-byte sectors, total size.
    mem.write16(0x1200, 0x1e); c.si = 0x200; c.ah = 0x48;
    boot.int13(c);
    expect(mem.read16(0x1200 + 24)).toBe(2048);
    expect(mem.read32(0x1200 + 16)).toBe(64);

    c.ah = 0x43;
    boot.int13(c);
    expect(c.ah).toBe(0x03);
  });

  it('reports why a disc cannot boot instead of jumping', () => {
    const { c, cpu } = cpuCtx();
    const before = cpu.segBase[Seg.CS];
    expect(new CdromBoot(() => undefined).boot(c)).toMatch(/no disc/);
    expect(new CdromBoot(() => new MemoryDisk(64, 2048)).boot(c)).toMatch(/El Torito/);
    expect(cpu.segBase[Seg.CS]).toBe(before);
  });
});
