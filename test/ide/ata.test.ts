import { describe, it, expect } from 'vitest';
import { AtaDisk, defaultGeometry } from '../../src/devices/ide/ata-disk.ts';
import { AtapiCdrom } from '../../src/devices/ide/atapi-cdrom.ts';
import { AtaPorts, BMIBA, MemoryDisk, SparseDisk, testPc } from './helpers.ts';

const BSY = 0x80, DRDY = 0x40, DF = 0x20, DRQ = 0x08, ERR = 0x01;
const ABRT = 0x04, IDNF = 0x10, UNC = 0x40;

function setup(sectors = 2048, opts: { slave?: 'cd' | 'disk' } = {}) {
  const disk = new MemoryDisk(sectors).fillPattern();
  const slave = opts.slave === 'cd' ? new AtapiCdrom(undefined) : opts.slave === 'disk' ? new AtaDisk(new MemoryDisk(64)) : undefined;
  const pc = testPc([new AtaDisk(disk), slave]);
  return { ...pc, disk, ata: new AtaPorts(pc.io) };
}

describe('ATA registers, signatures and reset', () => {
  it('shows ATA and ATAPI signatures, status 0 for an absent slave and FFh for an empty channel', () => {
    const { ata, io } = setup();
    expect(ata.status()).toBe(DRDY | 0x10);
    expect([ata.reg(2), ata.reg(3), ata.reg(4), ata.reg(5)]).toEqual([1, 1, 0, 0]);
    expect(ata.error()).toBe(0x01);
    ata.select(1);
    expect(ata.status()).toBe(0);
    ata.set(2, 0x55); // registers still latch for the absent slave
    expect(ata.reg(2)).toBe(0x55);
    expect(io.read8(0x177)).toBe(0xff);
    expect(io.read8(0x172)).toBe(0xff);
    const cd = setup(64, { slave: 'cd' });
    cd.ata.select(1);
    expect([cd.ata.reg(4), cd.ata.reg(5)]).toEqual([0x14, 0xeb]);
    expect(cd.ata.status()).toBe(0);
  });

  it('software reset: BSY while SRST is set, signatures after, interrupt dropped, device 0 selected', () => {
    const { ata, irqs } = setup(2048, { slave: 'cd' });
    ata.select(0);
    ata.command(0x99 + 0x1000); // nonsense gets masked to a byte: 0x99 is SLEEP
    ata.command(0xff);          // unknown: aborted with an interrupt
    expect(irqs.level[14]).toBe(true);
    ata.set(4, 0x12);
    ata.control(0x04);
    expect(ata.alt() & BSY).toBe(BSY);
    expect(irqs.level[14]).toBe(false);
    ata.control(0x00);
    expect(ata.alt()).toBe(DRDY | 0x10);
    expect(ata.reg(4)).toBe(0);
    expect(ata.error()).toBe(0x01);
    ata.select(1);
    expect([ata.reg(4), ata.reg(5), ata.alt()]).toEqual([0x14, 0xeb, 0]);
  });

  it('HOB selects the previous (high order) byte of each register pair; a register write clears HOB', () => {
    const { ata } = setup();
    ata.set(3, 0x11); ata.set(3, 0x22);
    ata.set(2, 0x33); ata.set(2, 0x44);
    expect(ata.reg(3)).toBe(0x22);
    ata.control(0x80);
    expect(ata.reg(3)).toBe(0x11);
    expect(ata.reg(2)).toBe(0x33);
    ata.set(5, 0);
    expect(ata.reg(3)).toBe(0x22);
  });
});

describe('ATA commands', () => {
  it('IDENTIFY DEVICE: data Linux and Windows check, with interrupt and DRQ sequencing', () => {
    const { ata, irqs, disk } = setup(100000);
    ata.select(0);
    ata.command(0xec);
    expect(irqs.level[14]).toBe(true);
    expect(ata.alt() & (DRQ | DRDY | BSY)).toBe(DRQ | DRDY);
    expect(irqs.level[14]).toBe(true);   // alternate status does not clear the interrupt
    expect(ata.status() & DRQ).toBe(DRQ);
    expect(irqs.level[14]).toBe(false);  // status does
    const w = ata.readWords(256);
    expect(ata.status() & DRQ).toBe(0);
    const text = (first: number, n: number) => Array.from(w.subarray(first, first + n), (x) => String.fromCharCode(x >> 8, x & 0xff)).join('').trim();
    expect(text(27, 20)).toBe('Virtual HD');
    expect(text(23, 4)).toBe('1.1.0');
    expect(text(10, 10).length).toBeGreaterThan(0);
    const g = defaultGeometry(disk.sectorCount);
    expect([w[1], w[3], w[6]]).toEqual([g.cylinders, g.heads, g.sectors]);
    expect(w[60] | (w[61] << 16)).toBe(100000);
    expect(w[100] + w[101] * 65536).toBe(100000);
    expect(w[49] & 0x0300).toBe(0x0300);           // LBA and DMA
    expect(w[83] & 0x0400).toBe(0x0400);           // 48-bit
    expect(w[88] & 0x3f).toBe(0x3f);
    expect(w[47] & 0xff).toBe(16);
    let sum = 0;
    for (let i = 0; i < 256; i++) sum += (w[i] & 0xff) + (w[i] >> 8);
    expect(w[255] & 0xff).toBe(0xa5);
    expect(sum & 0xff).toBe(0);                     // integrity word checksum
  });

  it('READ SECTORS (PIO): one interrupt per sector, registers at the last sector, no interrupt at the end', () => {
    const { ata, irqs, disk } = setup();
    ata.lba28(0, 10, 3);
    const edges = irqs.edges[14];
    ata.command(0x20);
    const got: Uint8Array[] = [];
    for (let s = 0; s < 3; s++) {
      expect(irqs.level[14]).toBe(true);
      expect(ata.status()).toBe(DRDY | 0x10 | DRQ);
      got.push(ata.readBytes(512));
    }
    expect(irqs.edges[14] - edges).toBe(3);
    expect(irqs.level[14]).toBe(false);
    expect(ata.status()).toBe(DRDY | 0x10);
    expect(Buffer.concat(got).equals(Buffer.from(disk.bytes.subarray(10 * 512, 13 * 512)))).toBe(true);
    expect([ata.reg(3), ata.reg(4), ata.reg(5), ata.reg(6) & 0x0f]).toEqual([12, 0, 0, 0]);
  });

  it('WRITE SECTORS (PIO): DRQ without interrupt first, then an interrupt after every sector', () => {
    const { ata, irqs, disk } = setup();
    ata.lba28(0, 100, 2);
    ata.command(0x30);
    expect(irqs.level[14]).toBe(false);
    expect(ata.alt() & DRQ).toBe(DRQ);
    const data = new Uint8Array(1024).map((_, i) => (i * 31) & 0xff);
    ata.writeBytes(data.subarray(0, 512));
    expect(irqs.level[14]).toBe(true);
    expect(ata.status() & DRQ).toBe(DRQ);
    ata.writeBytes(data.subarray(512));
    expect(irqs.level[14]).toBe(true);
    expect(ata.status()).toBe(DRDY | 0x10);
    expect(Buffer.from(disk.bytes.subarray(100 * 512, 102 * 512)).equals(Buffer.from(data))).toBe(true);
  });

  it('32-bit data port accesses move two words at once', () => {
    const { ata, io, disk } = setup();
    ata.lba28(0, 5, 1);
    ata.command(0x20);
    ata.status();
    const words: number[] = [];
    for (let i = 0; i < 128; i++) words.push(io.read32(0x1f0) >>> 0);
    expect(words[0]).toBe((disk.bytes[2560] | (disk.bytes[2561] << 8) | (disk.bytes[2562] << 16) | (disk.bytes[2563] << 24)) >>> 0);
    expect(ata.status() & DRQ).toBe(0);
  });

  it('READ/WRITE MULTIPLE need SET MULTIPLE MODE and move that many sectors per interrupt', () => {
    const { ata, irqs, disk } = setup();
    ata.lba28(0, 0, 10);
    ata.command(0xc4);
    expect(ata.status()).toBe(DRDY | ERR);
    expect(ata.error()).toBe(ABRT);
    ata.set(2, 3);
    ata.command(0xc6);                  // not a power of two
    expect(ata.status() & ERR).toBe(ERR);
    ata.set(2, 4);
    ata.command(0xc6);
    expect(ata.status()).toBe(DRDY | 0x10);
    ata.lba28(0, 20, 10);
    const edges = irqs.edges[14];
    ata.command(0xc4);
    // A block starts with an interrupt: count the sectors between interrupts.
    const blocks: number[] = [];
    const out: Uint8Array[] = [];
    let seen = edges;
    while (ata.alt() & DRQ) {
      if (irqs.edges[14] !== seen) { seen = irqs.edges[14]; blocks.push(0); ata.status(); }
      out.push(ata.readBytes(512));
      blocks[blocks.length - 1]++;
    }
    expect(blocks).toEqual([4, 4, 2]);
    expect(irqs.edges[14] - edges).toBe(3);
    expect(Buffer.concat(out).equals(Buffer.from(disk.bytes.subarray(20 * 512, 30 * 512)))).toBe(true);

    ata.lba28(0, 200, 6);
    ata.command(0xc5);
    const data = new Uint8Array(6 * 512).map((_, i) => (i * 7 + 3) & 0xff);
    const e2 = irqs.edges[14];
    ata.writeBytes(data.subarray(0, 2048));        // first block: 4 sectors
    expect(ata.status() & DRQ).toBe(DRQ);
    ata.writeBytes(data.subarray(2048));           // last block: 2 sectors
    expect(ata.status()).toBe(DRDY | 0x10);
    expect(irqs.edges[14] - e2).toBe(2);
    expect(Buffer.from(disk.bytes.subarray(200 * 512, 206 * 512)).equals(Buffer.from(data))).toBe(true);
  });

  it('LBA48 commands use both bytes of each register pair, count 0 meaning 65536', () => {
    const disk = new SparseDisk(0x200000000); // 8 TiB, beyond LBA28
    const { io } = testPc([new AtaDisk(disk)]);
    const ata = new AtaPorts(io);
    const lba = 0x123456789;
    ata.lba48(0, lba, 2);
    ata.command(0x24);
    ata.status();
    const got = ata.readBytes(1024);
    expect(got[0]).toBe(SparseDisk.pattern(lba, 0));
    expect(got[512 + 7]).toBe(SparseDisk.pattern(lba + 1, 7));
    expect(ata.status()).toBe(DRDY | 0x10);
    expect([ata.reg(3), ata.reg(4), ata.reg(5)]).toEqual([0x8a, 0x67, 0x45]); // last sector read: ...678A
    ata.control(0x80);
    expect([ata.reg(3), ata.reg(4), ata.reg(5)]).toEqual([0x23, 0x01, 0x00]);
    ata.control(0x00);
    // WRITE SECTORS EXT at the very top of the disk
    ata.lba48(0, 0x1ffffffff, 1);
    ata.command(0x34);
    ata.writeBytes(new Uint8Array(512).fill(0xee));
    expect(ata.status()).toBe(DRDY | 0x10);
    expect(disk.written.get(0x1ffffffff)?.[0]).toBe(0xee);
    // past the end: IDNF
    ata.lba48(0, 0x1ffffffff, 2);
    ata.command(0x24);
    expect(ata.status()).toBe(DRDY | ERR);
    expect(ata.error()).toBe(IDNF);
    // LBA28 commands see at most 2^28-1 sectors; READ NATIVE MAX ADDRESS EXT gives the real top
    ata.set(6, 0x40);
    ata.command(0x27);
    ata.status();
    ata.control(0x80);
    expect([ata.reg(3), ata.reg(4), ata.reg(5)]).toEqual([0xff, 0x01, 0x00]); // top sector 1_FFFF_FFFFh
    ata.control(0);
    expect([ata.reg(3), ata.reg(4), ata.reg(5)]).toEqual([0xff, 0xff, 0xff]);
    ata.set(6, 0xe0);
    ata.command(0xf8);
    ata.status();
    expect([ata.reg(3), ata.reg(4), ata.reg(5), ata.reg(6) & 0xf]).toEqual([0xfe, 0xff, 0xff, 0xf]);
  });

  it('reads with count 0 in LBA48 move 65536 sectors', () => {
    const disk = new SparseDisk(1 << 20);
    const { io } = testPc([new AtaDisk(disk)]);
    const ata = new AtaPorts(io);
    ata.lba48(0, 1000, 0);
    ata.command(0x24);
    let sectors = 0;
    while (ata.status() & DRQ) { ata.readBytes(512); sectors++; }
    expect(sectors).toBe(65536);
  });

  it('CHS addressing follows INITIALIZE DEVICE PARAMETERS; bad sector numbers get IDNF', () => {
    const { ata, disk } = setup(20000);
    // C/H/S 1/2/3 with the default 16 heads, 63 sectors: (1*16+2)*63 + 2
    ata.set(2, 1); ata.set(3, 3); ata.set(4, 1); ata.set(5, 0); ata.set(6, 0xa2);
    ata.command(0x20);
    ata.status();
    expect(ata.readBytes(512)[0]).toBe(disk.bytes[((1 * 16 + 2) * 63 + 2) * 512]);
    ata.set(2, 32); ata.set(6, 0xa0 | 7); // 8 heads, 32 sectors per track
    ata.command(0x91);
    expect(ata.status()).toBe(DRDY | 0x10);
    ata.set(2, 1); ata.set(3, 3); ata.set(4, 1); ata.set(5, 0); ata.set(6, 0xa2);
    ata.command(0x20);
    ata.status();
    expect(ata.readBytes(512)[0]).toBe(disk.bytes[((1 * 8 + 2) * 32 + 2) * 512]);
    ata.set(3, 0); ata.set(6, 0xa0); ata.set(2, 1);  // sector 0 does not exist
    ata.command(0x20);
    expect(ata.status()).toBe(DRDY | ERR);
    expect(ata.error()).toBe(IDNF);
  });

  it('nIEN keeps INTRQ low while the command still completes', () => {
    const { ata, irqs } = setup();
    ata.control(0x02);
    ata.lba28(0, 0, 1);
    const edges = irqs.edges[14];
    ata.command(0x20);
    expect(irqs.edges[14]).toBe(edges);
    expect(ata.alt() & DRQ).toBe(DRQ);
    ata.readBytes(512);
    ata.command(0xe7);
    expect(irqs.level[14]).toBe(false);
    ata.control(0x00);                // the pending request shows once enabled
    expect(irqs.level[14]).toBe(true);
  });

  it('FLUSH CACHE (EXT) flushes the disk; power commands report the power mode', () => {
    const { ata, disk } = setup();
    ata.command(0xe7);
    ata.command(0xea);
    expect(disk.flushes).toBe(2);
    expect(ata.status()).toBe(DRDY | 0x10);
    ata.command(0xe0);                // STANDBY IMMEDIATE
    ata.command(0xe5);
    expect(ata.reg(2)).toBe(0x00);
    ata.command(0xe1);                // IDLE IMMEDIATE
    ata.command(0xe5);
    expect(ata.reg(2)).toBe(0xff);
  });

  it('SET FEATURES selects transfer modes that IDENTIFY then reports, and rejects impossible ones', () => {
    const { ata } = setup();
    ata.set(1, 0x03); ata.set(2, 0x42); ata.command(0xef);   // UDMA 2
    expect(ata.status()).toBe(DRDY | 0x10);
    ata.command(0xec); ata.status();
    let w = ata.readWords(256);
    expect(w[88] >> 8).toBe(0x04);
    expect(w[63] >> 8).toBe(0);
    ata.set(1, 0x03); ata.set(2, 0x22); ata.command(0xef);   // multiword DMA 2
    ata.command(0xec); ata.status();
    w = ata.readWords(256);
    expect(w[63] >> 8).toBe(0x04);
    expect(w[88] >> 8).toBe(0);
    ata.set(1, 0x03); ata.set(2, 0x47); ata.command(0xef);   // UDMA 7 does not exist
    expect(ata.status()).toBe(DRDY | ERR);
    ata.set(1, 0x77); ata.command(0xef);                      // unknown subcommand
    expect(ata.error()).toBe(ABRT);
  });

  it('unknown commands abort with an interrupt; host I/O failures become UNC and DF', () => {
    const { ata, irqs, disk } = setup();
    for (const cmd of [0x00, 0xa0, 0xa1, 0x08, 0x50, 0xff]) {
      ata.command(cmd);
      expect(irqs.level[14]).toBe(true);
      expect(ata.status()).toBe(DRDY | ERR);
      expect(ata.error()).toBe(ABRT);
    }
    disk.failing = true;
    ata.lba28(0, 7, 1);
    ata.command(0x20);
    expect(ata.status()).toBe(DRDY | ERR);
    expect(ata.error()).toBe(UNC);
    expect(ata.reg(3)).toBe(7);
    ata.lba28(0, 7, 1);
    ata.command(0x30);
    ata.writeBytes(new Uint8Array(512));
    expect(ata.status()).toBe(DRDY | DF | ERR);
    const ro = testPc([new AtaDisk(new MemoryDisk(64, 512, true))]);
    const p = new AtaPorts(ro.io);
    p.lba28(0, 0, 1);
    p.command(0x30);
    expect(p.status()).toBe(DRDY | ERR);
    expect(p.error()).toBe(ABRT);
  });

  it('EXECUTE DEVICE DIAGNOSTIC resets both devices and interrupts from device 0', () => {
    const { ata, irqs } = setup(64, { slave: 'disk' });
    ata.select(1);
    ata.set(4, 0x33);
    ata.command(0x90);
    ata.select(0);
    expect(irqs.level[14]).toBe(true);
    expect(ata.error()).toBe(0x01);
    expect(ata.reg(4)).toBe(0);
  });
});

describe('bus-master DMA', () => {
  const PRD = 0x8000, BUF = 0x10000;

  function dma(sectors = 2048) {
    const s = setup(sectors);
    const bm = (off: number) => s.io.read8(BMIBA + off);
    const start = (toMemory: boolean) => {
      s.io.write32(BMIBA + 4, PRD);
      s.io.write8(BMIBA, (toMemory ? 8 : 0) | 1);
    };
    return { ...s, bm, start };
  }

  it('READ DMA scatters across PRDs of odd sizes; interrupt=1 active=0 when the table is used up exactly', async () => {
    const { ata, mem, disk, irqs, bm, start } = dma();
    const { writePrds } = await import('./helpers.ts');
    writePrds(mem, PRD, [[BUF, 100, false], [BUF + 0x1001, 900, false], [0x30000, 536, true]]);
    ata.lba28(0, 40, 3);
    ata.command(0xc8);
    expect(ata.alt() & DRQ).toBe(DRQ);            // waiting for the bus master
    expect(irqs.level[14]).toBe(false);
    start(true);
    expect(irqs.level[14]).toBe(true);
    expect(bm(2) & 7).toBe(4);
    expect(ata.status()).toBe(DRDY | 0x10);
    const want = disk.bytes.subarray(40 * 512, 43 * 512);
    expect(Buffer.from(mem.readBytes(BUF, 100)).equals(Buffer.from(want.subarray(0, 100)))).toBe(true);
    expect(Buffer.from(mem.readBytes(BUF + 0x1000, 900)).equals(Buffer.from(want.subarray(100, 1000)))).toBe(true); // bit 0 ignored
    expect(Buffer.from(mem.readBytes(0x30000, 536)).equals(Buffer.from(want.subarray(1000)))).toBe(true);
    s_clearInterrupt(bm, (v) => ata.io.write8(BMIBA + 2, v));
    expect(bm(2) & 4).toBe(0);
  });

  it('the device finishing before the PRDs end leaves active set; stopping clears it', async () => {
    const { ata, mem, io, bm, start } = dma();
    const { writePrds } = await import('./helpers.ts');
    writePrds(mem, PRD, [[BUF, 4096, true]]);
    start(true);                                  // bus master first, command second
    expect(bm(2) & 1).toBe(1);
    ata.lba28(0, 0, 2);
    ata.command(0xc8);
    expect(bm(2) & 5).toBe(5);
    io.write8(BMIBA, 8);
    expect(bm(2) & 1).toBe(0);
  });

  it('a PRD table too short stalls the device with DRQ: no interrupt, active and interrupt clear', async () => {
    const { ata, mem, irqs, bm, start } = dma();
    const { writePrds } = await import('./helpers.ts');
    writePrds(mem, PRD, [[BUF, 512, true]]);
    ata.lba28(0, 0, 4);
    ata.command(0xc8);
    start(true);
    expect(bm(2) & 7).toBe(0);
    expect(irqs.level[14]).toBe(false);
    expect(ata.alt() & DRQ).toBe(DRQ);
    ata.control(0x04); ata.control(0x00);         // the driver's recovery: reset
    expect(ata.alt()).toBe(DRDY | 0x10);
  });

  it('byte count 0 means 64 KiB; a table without EOT goes on into the next descriptor in memory', async () => {
    const { ata, mem, disk, bm, start } = dma();
    const { writePrds } = await import('./helpers.ts');
    writePrds(mem, PRD, [[0x100000, 0, false], [0x200000, 1024, true]]); // 64 KiB, then 1 KiB
    ata.lba28(0, 0, 130);
    ata.command(0xc8);
    start(true);
    expect(bm(2) & 7).toBe(4);
    expect(Buffer.from(mem.readBytes(0x100000, 65536)).equals(Buffer.from(disk.bytes.subarray(0, 65536)))).toBe(true);
    expect(Buffer.from(mem.readBytes(0x200000, 1024)).equals(Buffer.from(disk.bytes.subarray(65536, 66560)))).toBe(true);
  });

  it('WRITE DMA gathers from memory; DMA into ROM is dropped and from beyond RAM reads all ones', async () => {
    const { ata, mem, disk, io, bm, start } = dma();
    const { writePrds } = await import('./helpers.ts');
    mem.mapRom(new Uint8Array(0x10000).fill(0x77), 0xf0000);
    const data = new Uint8Array(1024).map((_, i) => (i * 5) & 0xff);
    mem.writeBytes(BUF, data);
    writePrds(mem, PRD, [[BUF, 1024, false], [0xf0000, 512, false], [0x7ff00000, 512, true]]);
    ata.lba28(0, 300, 4);
    ata.command(0xca);
    start(false);
    expect(ata.status()).toBe(DRDY | 0x10);
    expect(bm(2) & 7).toBe(4);
    expect(Buffer.from(disk.bytes.subarray(300 * 512, 302 * 512)).equals(Buffer.from(data))).toBe(true);
    expect(disk.bytes[302 * 512]).toBe(0x77);         // read from ROM
    expect(disk.bytes[303 * 512 + 5]).toBe(0xff);     // nothing there: all ones
    io.write8(BMIBA, 0);
    writePrds(mem, PRD, [[0xf0000, 1024, false], [0x7ff00000, 512, true]]);
    ata.lba28(0, 0, 3);
    ata.command(0xc8);
    start(true);
    expect(ata.status()).toBe(DRDY | 0x10);
    expect(mem.read8(0xf0000)).toBe(0x77);            // ROM untouched
  });

  it('needs bus mastering enabled in the PCI command register', async () => {
    const { ata, mem, io, bm, start, disk } = dma();
    const { writePrds, cfgWrite } = await import('./helpers.ts');
    cfgWrite(io, 0x39, 0x04, 0x0001, 2);
    writePrds(mem, PRD, [[BUF, 512, true]]);
    ata.lba28(0, 1, 1);
    ata.command(0xc8);
    start(true);
    expect(ata.alt() & DRQ).toBe(DRQ);
    io.write8(BMIBA, 8);
    cfgWrite(io, 0x39, 0x04, 0x0005, 2);
    start(true);
    expect(bm(2) & 7).toBe(4);
    expect(mem.read8(BUF + 3)).toBe(disk.bytes[512 + 3]);
  });

  it('READ DMA EXT beyond the disk is IDNF with an interrupt and no transfer', async () => {
    const { ata, mem, irqs, start } = dma(100);
    const { writePrds } = await import('./helpers.ts');
    writePrds(mem, PRD, [[BUF, 1024, true]]);
    ata.lba48(0, 99, 2);
    ata.command(0x25);
    expect(irqs.level[14]).toBe(true);
    expect(ata.status()).toBe(DRDY | ERR);
    expect(ata.error()).toBe(IDNF);
    start(true);
    expect(mem.read8(BUF)).toBe(0);
  });
});

function s_clearInterrupt(read: (off: number) => number, write: (v: number) => void): void {
  write(read(2) | 4);
}
