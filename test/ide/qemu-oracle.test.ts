// The ide-probe program (test/ide/oracle/ide-probe.asm) drives the IDE controller by its
// registers and reports what it sees: register values, status sequences, when IRQ 14/15 rise
// and fall (through the PIC's request register), bus-master status, ATAPI replies and data. ide-probe.qemu.bin is what QEMU 7.2's PIIX IDE reported
// (regenerate with `npx tsx test/ide/oracle/regen.ts`); soulvm must report the same, except
// at the few places listed below where QEMU and the ATA specification part ways.
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { BareMachine } from '../../src/machine/bare.ts';
import { PicPair } from '../../src/devices/pic.ts';
import { Chipset } from '../../src/devices/pci/chipset.ts';
import { MemoryDisk } from './helpers.ts';
import { probeCd, probeDisk } from './oracle/images.ts';

const dir = path.join(import.meta.dirname, 'oracle');

function runProbe(): Uint8Array {
  const rom = zlib.gunzipSync(fs.readFileSync(path.join(dir, 'ide-probe.bin.gz')));
  const m = new BareMachine(new Uint8Array(rom));
  const hda = new MemoryDisk(2048);
  hda.bytes.set(probeDisk());
  const cd = new MemoryDisk(64, 2048, true);
  cd.bytes.set(probeCd());
  new Chipset({ io: m.io, mem: m.mem, irqs: new PicPair(m.io), nowNs: () => 0, hda, cdrom: cd });
  const r = m.run(100_000_000);
  expect(r.stop).toBe('exit');
  return Uint8Array.from(r.console, (c) => c.charCodeAt(0));
}

describe('IDE behaviour against QEMU as an oracle', () => {
  it('reports the same registers, status sequences, bus-master status and data as QEMU', () => {
    const golden = new Uint8Array(fs.readFileSync(path.join(dir, 'ide-probe.qemu.bin')));
    const ours = runProbe();
    expect(ours.length).toBe(golden.length);
    // Where soulvm and QEMU part ways on purpose: byte index -> [QEMU, soulvm, why]. The indices
    // are those of the committed golden output; regenerating it means checking them again.
    const expectedDifferences = new Map<number, [number, number, string]>([
      [1, [0x00, 0x01, 'A1: after power-on the error register holds diagnostic code 01h (ATA-6 9.1)']],
      [66, [0x50, 0x58, 'AB: the PRD table ran out, the drive still has data and keeps DRQ until reset']],
      [180, [0x00, 0x40, 'AD: clearing nIEN lets a still pending INTRQ through (nIEN only gates the INTRQ driver)']],
      [208, [0x0e, 0x86, 'AE: INQUIRY checksum: QEMU\'s vendor/product strings are not Virtual PC\'s']],
      [209, [0x07, 0x08, 'AE: INQUIRY checksum, high byte']],
      [273, [0x70, 0x01, 'B1: MODE SENSE medium type: 01h (120 mm data disc) rather than 70h (no disc)']],
      [291, [0x10, 0x34, 'B1: GET CONFIGURATION lists core, removable, random readable and CD read features too']],
    ]);
    for (let i = 0; i < golden.length; i++) {
      const d = expectedDifferences.get(i);
      if (d) {
        expect([golden[i], ours[i], d[2]]).toEqual([d[0], d[1], d[2]]);
      } else if (ours[i] !== golden[i]) {
        const hex = (b: Uint8Array) => Array.from(b.subarray(Math.max(0, i - 4), i + 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
        expect(`byte ${i}: ${hex(ours)}`).toBe(`byte ${i}: ${hex(golden)}`);
      }
    }
  });
});
