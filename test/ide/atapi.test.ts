import { describe, it, expect } from 'vitest';
import { AtapiCdrom, toMsf } from '../../src/devices/ide/atapi-cdrom.ts';
import { AtaPorts, BMIBA, MemoryDisk, testPc, writePrds } from './helpers.ts';

const DRDY = 0x40, DRQ = 0x08, ERR = 0x01;

interface PacketResult { data: Uint8Array; status: number; error: number; ireason: number; chunks: number[] }

function setup(sectors = 100, withMedia = true) {
  const iso = new MemoryDisk(sectors, 2048, true).fillPattern();
  let ejected = 0;
  const cd = new AtapiCdrom(withMedia ? iso : undefined, { onEject: () => { ejected++; } });
  const pc = testPc([], [cd, undefined]);
  const ata = new AtaPorts(pc.io, 0x170, 0x376);
  /** Send a packet by PIO and collect every data chunk the drive offers. */
  const packet = (cdb: number[], limit = 0xfffe): PacketResult => {
    ata.select(0);
    ata.set(1, 0);
    ata.set(4, limit & 0xff); ata.set(5, limit >>> 8);
    ata.command(0xa0);
    expect(ata.alt() & (DRQ | 0x80)).toBe(DRQ);
    expect(ata.reg(2) & 3).toBe(1);               // CoD=1, IO=0: send the command packet
    const bytes = new Uint8Array(12);
    bytes.set(cdb);
    ata.writeBytes(bytes);
    const chunks: number[] = [], parts: Uint8Array[] = [];
    while (ata.status() & DRQ) {
      expect(ata.reg(2) & 3).toBe(2);             // IO=1, CoD=0: data to the host
      const n = ata.reg(4) | (ata.reg(5) << 8);
      chunks.push(n);
      parts.push(ata.readBytes(n));
      if (chunks.length > 1000) throw new Error('endless data phase');
    }
    return { data: new Uint8Array(Buffer.concat(parts)), status: ata.alt(), error: ata.error(), ireason: ata.reg(2) & 3, chunks };
  };
  const sense = () => { const r = packet([0x03, 0, 0, 0, 18, 0]); return [r.data[2] & 0xf, r.data[12], r.data[13]]; };
  return { ...pc, iso, cd, ata, packet, sense, ejected: () => ejected };
}

describe('ATAPI CD-ROM', () => {
  it('aborts IDENTIFY DEVICE with its signature and answers IDENTIFY PACKET DEVICE', () => {
    const { ata } = setup();
    ata.select(0);
    ata.set(4, 0); ata.set(5, 0);
    ata.command(0xec);
    expect(ata.status() & ERR).toBe(ERR);
    expect([ata.reg(4), ata.reg(5)]).toEqual([0x14, 0xeb]);
    ata.command(0xa1);
    expect(ata.status() & DRQ).toBe(DRQ);
    const w = ata.readWords(256);
    expect(w[0]).toBe(0x85c0);
    expect(w[49] & 0x0100).toBe(0x0100);
    expect(ata.status() & DRQ).toBe(0);
  });

  it('TEST UNIT READY, INQUIRY and READ CAPACITY complete with the command-complete interrupt reason', () => {
    const { packet, irqs } = setup(100);
    let r = packet([0x00]);
    expect(r.status & (ERR | DRQ)).toBe(0);
    expect(r.ireason).toBe(3);
    expect(irqs.level[15]).toBe(false); // consumed by the status reads
    r = packet([0x12, 0, 0, 0, 36, 0]);
    expect(r.data.length).toBe(36);
    expect(r.data[0]).toBe(0x05);
    expect(r.data[1]).toBe(0x80);
    expect(Buffer.from(r.data.subarray(16, 32)).toString().trim()).toBe('Virtual CD-ROM');
    r = packet([0x12, 0, 0, 0, 5, 0]); // the allocation length cuts the reply
    expect(r.data.length).toBe(6 - 1);
    r = packet([0x25]);
    expect(Array.from(r.data)).toEqual([0, 0, 0, 99, 0, 0, 8, 0]);
  });

  it('READ(10) and READ(12) in chunks no larger than the byte count limit, across buffer refills', () => {
    const { packet, iso } = setup(100);
    let r = packet([0x28, 0, 0, 0, 0, 3, 0, 0, 40, 0], 5000);
    expect(r.data.length).toBe(40 * 2048);
    expect(Math.max(...r.chunks)).toBeLessThanOrEqual(5000);
    expect(Buffer.from(r.data).equals(Buffer.from(iso.bytes.subarray(3 * 2048, 43 * 2048)))).toBe(true);
    expect(r.ireason).toBe(3);
    r = packet([0xa8, 0, 0, 0, 0, 90, 0, 0, 0, 10, 0, 0], 0xffff);
    expect(r.chunks.every((n) => n % 2 === 0)).toBe(true);
    expect(Buffer.from(r.data).equals(Buffer.from(iso.bytes.subarray(90 * 2048)))).toBe(true);
    r = packet([0x28, 0, 0, 0, 0, 99, 0, 0, 2, 0]);
    expect(r.status & ERR).toBe(ERR);
    expect(r.error >> 4).toBe(5);
  });

  it('reports errors through sense data: bad opcode, LBA out of range, then NO SENSE', () => {
    const { packet, sense } = setup();
    let r = packet([0xff]);
    expect(r.status & (ERR | DRDY)).toBe(ERR | DRDY);
    expect(r.ireason).toBe(3);
    expect(sense()).toEqual([5, 0x20, 0]);
    r = packet([0x28, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
    expect(sense()).toEqual([5, 0x21, 0]);
    expect(sense()).toEqual([0, 0, 0]);
  });

  it('signals a media change with UNIT ATTENTION once, and a new-media event', () => {
    const { packet, sense, cd, iso } = setup(100, false);
    let r = packet([0x00]);
    expect(r.error >> 4).toBe(2);
    expect(sense()).toEqual([2, 0x3a, 0]);
    let ev = packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0]);
    expect(ev.data[5] & 2).toBe(0);
    cd.insert(iso);
    r = packet([0x12, 0, 0, 0, 36, 0]);       // INQUIRY is not held up by the unit attention
    expect(r.status & ERR).toBe(0);
    ev = packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0]);
    expect([ev.data[2], ev.data[4], ev.data[5]]).toEqual([0x04, 2, 2]);
    ev = packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0]);
    expect(ev.data[4]).toBe(0);                // reported once
    r = packet([0x00]);
    expect(r.error >> 4).toBe(6);
    expect(sense()).toEqual([6, 0x28, 0]);     // the sense of that check condition
    expect(sense()).toEqual([0, 0, 0]);
    r = packet([0x00]);
    expect(r.status & ERR).toBe(0);
    r = packet([0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0]); // asynchronous notification is not supported
    expect(r.error >> 4).toBe(5);
  });

  it('READ TOC formats 0 and 1 in LBA and MSF, and the raw TOC', () => {
    const { packet } = setup(1000);
    let r = packet([0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0]);
    expect(Array.from(r.data)).toEqual([0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xaa, 0, 0, 0, 0x03, 0xe8]);
    r = packet([0x43, 2, 0, 0, 0, 0, 0, 0, 100, 0]);
    const [m, s, f] = toMsf(1000);
    expect(Array.from(r.data.subarray(4))).toEqual([0, 0x14, 1, 0, 0, 0, 2, 0, 0, 0x14, 0xaa, 0, 0, m, s, f]);
    r = packet([0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0]);
    expect(Array.from(r.data)).toEqual([0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0]);
    r = packet([0x43, 2, 2, 0, 0, 0, 0, 0, 200, 0]);
    expect(r.data.length).toBe(4 + 4 * 11);
    expect(r.data[4 + 2 * 11 + 3]).toBe(0xa2);
    expect(Array.from(r.data.subarray(4 + 2 * 11 + 8, 4 + 2 * 11 + 11))).toEqual([m, s, f]);
    r = packet([0x43, 0, 0, 0, 0, 0, 5, 0, 100, 0]); // no track 5
    expect(r.error >> 4).toBe(5);
    expect(toMsf(0)).toEqual([0, 2, 0]);
  });

  it('MODE SENSE returns the capabilities and error recovery pages, and rejects others', () => {
    const { packet, sense } = setup();
    let r = packet([0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255, 0]);
    expect((r.data[0] << 8 | r.data[1]) + 2).toBe(r.data.length);
    expect(r.data[8]).toBe(0x2a);
    expect(r.data[9]).toBe(0x14);
    r = packet([0x1a, 0, 0x3f, 0, 255, 0]);
    expect(r.data[0] + 1).toBe(r.data.length);
    expect(r.data[4]).toBe(0x01);
    expect(r.data[12]).toBe(0x2a);
    r = packet([0x5a, 0, 0x05, 0, 0, 0, 0, 0, 255, 0]);
    expect(sense()).toEqual([5, 0x24, 0]);
  });

  it('GET CONFIGURATION reports the CD-ROM profile and features', () => {
    const { packet } = setup();
    let r = packet([0x46, 0, 0, 0, 0, 0, 0, 0x01, 0, 0]);
    const len = (r.data[0] << 24 | r.data[1] << 16 | r.data[2] << 8 | r.data[3]) + 4;
    expect(len).toBe(r.data.length);
    expect(r.data[6] << 8 | r.data[7]).toBe(0x0008);
    expect(r.data[8] << 8 | r.data[9]).toBe(0x0000);
    r = packet([0x46, 2, 0x00, 0x10, 0, 0, 0, 0, 100, 0]);
    expect(r.data.length).toBe(8 + 12);
    expect(r.data[8] << 8 | r.data[9]).toBe(0x0010);
    expect(r.data[14]).toBe(0x08);              // 2048-byte blocks
  });

  it('PREVENT ALLOW MEDIUM REMOVAL blocks START STOP UNIT eject; an allowed eject empties the drive', () => {
    const { packet, sense, ejected, cd } = setup();
    packet([0x1e, 0, 0, 0, 1, 0]);
    let r = packet([0x1b, 0, 0, 0, 2, 0]);
    expect(r.status & ERR).toBe(ERR);
    expect(sense()).toEqual([5, 0x53, 2]);
    expect(cd.hasMedia).toBe(true);
    packet([0x1e, 0, 0, 0, 0, 0]);
    r = packet([0x1b, 0, 0, 0, 2, 0]);
    expect(r.status & ERR).toBe(0);
    expect(ejected()).toBe(1);
    expect(cd.hasMedia).toBe(false);
    r = packet([0x00]);
    expect(sense()).toEqual([2, 0x3a, 0]);
    r = packet([0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]);
    expect(r.data.length).toBe(8);
    expect(r.data[1] & 0x10).toBe(0x10);
  });

  it('READ DISC INFORMATION describes one complete session', () => {
    const { packet } = setup();
    const r = packet([0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    expect(r.data.length).toBe(34);
    expect(r.data[2]).toBe(0x0e);
    expect([r.data[3], r.data[4], r.data[5], r.data[6]]).toEqual([1, 1, 1, 1]);
  });

  it('reads by DMA when the PACKET feature asks for it', () => {
    const { io, mem, ata, iso, irqs } = setup(100);
    writePrds(mem, 0x8000, [[0x20000, 3000, false], [0x30000, 1096, true]]);
    io.write32(BMIBA + 8 + 4, 0x8000);
    io.write8(BMIBA + 8, 9);
    ata.select(0);
    ata.set(1, 1);                             // DMA
    ata.command(0xa0);
    const cdb = new Uint8Array(12);
    cdb.set([0x28, 0, 0, 0, 0, 7, 0, 0, 2, 0]);
    ata.writeBytes(cdb.subarray(0, 10));
    expect(irqs.level[15]).toBe(false);
    ata.writeBytes(cdb.subarray(10));
    expect(irqs.level[15]).toBe(true);
    expect(io.read8(BMIBA + 10) & 7).toBe(4);
    expect(ata.status()).toBe(DRDY | 0x10);
    expect(ata.reg(2) & 3).toBe(3);
    const want = iso.bytes.subarray(7 * 2048, 9 * 2048);
    expect(Buffer.from(mem.readBytes(0x20000, 3000)).equals(Buffer.from(want.subarray(0, 3000)))).toBe(true);
    expect(Buffer.from(mem.readBytes(0x30000, 1096)).equals(Buffer.from(want.subarray(3000)))).toBe(true);
  });

  it('DEVICE RESET restores the signature without an interrupt', () => {
    const { ata, irqs } = setup();
    ata.select(0);
    ata.set(4, 0x55);
    ata.command(0x08);
    expect(irqs.level[15]).toBe(false);
    expect([ata.reg(4), ata.reg(5), ata.alt()]).toEqual([0x14, 0xeb, 0]);
  });
});
