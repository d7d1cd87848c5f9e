// MC146818 behaviour per its datasheet: registers A-D, update cycle, interrupts, CMOS bytes.
import { describe, expect, it } from 'vitest';
import { CMOS, Rtc } from '../../src/devices/rtc.ts';
import { loadAll, saveAll } from '../../src/state/state.ts';
import { Rig, TestLine } from './helpers.ts';

// Thursday 2021-03-04 05:06:07 UTC, on a second boundary.
const START = new Date(Date.UTC(2021, 2, 4, 5, 6, 7));

function setup(start = START) {
  const rig = new Rig();
  const irq = new TestLine(() => rig.clock.now());
  const rtc = new Rtc(rig.io, irq, rig.scheduler, { startTime: start });
  const rd = (r: number) => { rig.out8(0x70, r); return rig.in8(0x71); };
  const wr = (r: number, v: number) => { rig.out8(0x70, r); rig.out8(0x71, v); };
  return { rig, irq, rtc, rd, wr };
}

describe('MC146818 RTC', () => {
  it('shows the start time in BCD 24-hour format', () => {
    const { rd } = setup();
    expect([0, 2, 4, 6, 7, 8, 9, 0x32].map(rd)).toEqual([0x07, 0x06, 0x05, 0x05, 0x04, 0x03, 0x21, 0x20]);
    expect(rd(0x0a)).toBe(0x26);
    expect(rd(0x0b)).toBe(0x02);
    expect(rd(0x0d)).toBe(0x80);
  });

  it('keeps register bytes as written when the format changes, and counts in the current format', () => {
    const { rig, rd, wr } = setup();
    wr(0x0b, 0x06);                                         // binary, 24 h: bytes are not converted
    expect(rd(0x04)).toBe(0x05);
    expect(rd(0x09)).toBe(0x21);
    wr(0x0b, 0x84);                                         // SET, binary, 12 h
    wr(0x04, 0x0b); wr(0x02, 59); wr(0x00, 59);             // 11:59:59 AM
    wr(0x07, 4); wr(0x08, 3); wr(0x09, 21); wr(0x06, 5);
    wr(0x0b, 0x04);
    rig.runTo(1e9);
    expect([rd(0x04), rd(0x02), rd(0x00)]).toEqual([0x8c, 0, 0]); // 12 PM
    wr(0x0b, 0x84); wr(0x04, 0x8b); wr(0x02, 59); wr(0x00, 59); wr(0x0b, 0x04); // 11:59:59 PM
    rig.runTo(2e9);
    expect([rd(0x04), rd(0x07), rd(0x06)]).toEqual([0x0c, 5, 6]); // 12 AM, next day, Friday
    wr(0x0b, 0x80); wr(0x04, 0x92); wr(0x02, 0x59); wr(0x00, 0x59); wr(0x0b, 0x00); // BCD 12:59:59 PM
    rig.runTo(3e9);
    expect(rd(0x04)).toBe(0x81);                            // 1 PM
  });

  it('carries across month, leap day and century ends, and keeps a date set field by field', () => {
    const { rig, rd, wr } = setup();
    wr(0x0b, 0x86);                                         // SET, binary, 24 h
    // 1999-12-31 23:59:59 written while the date still says March: no normalization on the way.
    wr(0x07, 31); wr(0x08, 2); wr(0x08, 12); wr(0x09, 99); wr(0x32, 19);
    wr(0x04, 23); wr(0x02, 59); wr(0x00, 59); wr(0x06, 6);
    expect([rd(0x07), rd(0x08)]).toEqual([31, 12]);
    wr(0x0b, 0x06);
    rig.runTo(1e9);
    expect([0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32].map(rd)).toEqual([0, 0, 0, 7, 1, 1, 0, 20]);
    wr(0x0b, 0x86);
    wr(0x07, 28); wr(0x08, 2); wr(0x04, 23); wr(0x02, 59); wr(0x00, 59);  // 2000-02-28: leap year
    wr(0x0b, 0x06);
    rig.runTo(2e9);
    expect([rd(0x07), rd(0x08)]).toEqual([29, 2]);
    wr(0x09, 1);                                            // 2001: not a leap year
    wr(0x07, 28); wr(0x04, 23); wr(0x02, 59); wr(0x00, 59);
    rig.runTo(3e9);
    expect([rd(0x07), rd(0x08)]).toEqual([1, 3]);
  });

  it('raises UIP only in the 244 us before each update, and updates once per second', () => {
    const { rig, rd } = setup();
    rig.runTo(1e9 - 244_001);
    expect(rd(0x0a) & 0x80).toBe(0);
    expect(rd(0x00)).toBe(0x07);
    rig.runTo(1e9 - 244_000);
    expect(rd(0x0a) & 0x80).toBe(0x80);
    expect(rd(0x00)).toBe(0x07);
    rig.runTo(1e9);
    expect(rd(0x0a) & 0x80).toBe(0);
    expect(rd(0x00)).toBe(0x08);
    rig.runTo(54e9);                                        // across a minute
    expect([rd(0x00), rd(0x02)]).toEqual([0x01, 0x07]);
  });

  it('sets UF every update; IRQ8 and IRQF only with UIE; reading C clears and lowers', () => {
    const { rig, irq, rd, wr } = setup();
    wr(0x0a, 0x20);                                         // no periodic rate: PF stays clear
    rig.runTo(1.5e9);
    expect(irq.rises).toBe(0);
    expect(rd(0x0c)).toBe(0x10);                            // UF without IRQF
    expect(rd(0x0c)).toBe(0);
    wr(0x0b, 0x12);                                         // UIE
    rig.runTo(2.5e9);
    expect(irq.level).toBe(true);
    expect(irq.riseTimes).toEqual([2e9]);
    rig.runTo(3.5e9);
    expect(irq.rises).toBe(1);                              // no new edge until C is read
    expect(rd(0x0c)).toBe(0x90);
    expect(irq.level).toBe(false);
    rig.runTo(4.5e9);
    expect(irq.riseTimes).toEqual([2e9, 4e9]);
  });

  it('sets IRQF at once when an enable is written while its flag is set', () => {
    const { rig, irq, rd, wr } = setup();
    wr(0x0a, 0x20);
    rig.runTo(1.2e9);
    wr(0x0b, 0x12);
    expect(irq.level).toBe(true);
    expect(rd(0x0c)).toBe(0x90);
  });

  it('gives periodic interrupts at the register A rate', () => {
    const { rig, irq, rd, wr } = setup();
    wr(0x0a, 0x26);                                         // 1024 Hz
    wr(0x0b, 0x42);                                         // PIE
    const start = rig.clock.now();
    for (let i = 0; i < 2048; i++) {
      rig.runTo(rig.scheduler.nextDeadline());
      rd(0x0c);
    }
    const elapsed = irq.riseTimes.at(-1)! - irq.riseTimes[0];
    expect(irq.rises).toBe(2048);                           // UIE is off: updates set UF only
    expect(Math.abs(elapsed - (irq.rises - 1) * 976562.5)).toBeLessThan(2);
    expect(start).toBe(0);
    wr(0x0a, 0x2f);                                         // 2 Hz
    const before = irq.rises;
    rig.runFor(10e9 - 1);
    rd(0x0c);
    rig.runFor(1);
    expect(irq.rises - before).toBeGreaterThanOrEqual(1);
  });

  it('reports PF to a poller with PIE off, and stops with rate 0 or divider reset', () => {
    const { rig, irq, rd, wr } = setup();
    wr(0x0a, 0x2f);                                         // 500 ms
    rd(0x0c);
    rig.runFor(400e6);
    expect(rd(0x0c) & 0x40).toBe(0);
    rig.runFor(200e6);
    expect(rd(0x0c) & 0x40).toBe(0x40);
    expect(irq.rises).toBe(0);
    wr(0x0a, 0x20);
    rig.runFor(2e9);
    expect(rd(0x0c) & 0x40).toBe(0);
    wr(0x0b, 0x06);                                         // binary
    wr(0x0a, 0x70);                                         // divider reset: time stops
    const sec = rd(0x00);
    rig.runFor(5e9);
    expect(rd(0x00)).toBe(sec);
    wr(0x0a, 0x26);                                         // first update half a second later
    rig.runFor(499e6); expect(rd(0x00)).toBe(sec);
    rig.runFor(2e6); expect(rd(0x00)).toBe(sec + 1);
  });

  it('fires the alarm, with don\'t-care bytes matching anything', () => {
    const { rig, irq, rd, wr } = setup();
    wr(0x01, 0x10); wr(0x03, 0x06); wr(0x05, 0x05);         // 05:06:10
    wr(0x0a, 0x20);
    wr(0x0b, 0x22);                                         // AIE
    rig.runTo(2.5e9);
    expect(irq.rises).toBe(0);
    rig.runTo(3e9);
    expect(irq.riseTimes).toEqual([3e9]);
    expect(rd(0x0c)).toBe(0x80 | 0x20 | 0x10);
    wr(0x03, 0xc0); wr(0x05, 0xff);                         // every minute at :10
    rig.runTo(63e9);
    expect(irq.riseTimes).toEqual([3e9, 63e9]);
  });

  it('SET stops updates and lets the time be written', () => {
    const { rig, rd, wr } = setup();
    wr(0x0b, 0x82);
    wr(0x00, 0x59); wr(0x02, 0x59); wr(0x04, 0x23);
    rig.runTo(3.1e9);
    expect(rd(0x00)).toBe(0x59);
    expect(rd(0x0a) & 0x80).toBe(0);
    wr(0x0b, 0x02);
    rig.runTo(4.1e9);
    expect([rd(0x00), rd(0x02), rd(0x04), rd(0x07), rd(0x06)]).toEqual([0x00, 0x00, 0x00, 0x05, 0x06]); // Friday the 5th
  });

  it('masks NMI with bit 7 of port 0x70', () => {
    const { rig, rtc, rd } = setup();
    rig.out8(0x70, 0x00);
    expect(rtc.nmiMasked).toBe(false);
    rig.out8(0x70, 0x8f);
    expect(rtc.nmiMasked).toBe(true);
    rig.out8(0x71, 0x5a);
    expect(rd(0x0f)).toBe(0x5a);
  });

  it('fills the memory size bytes and the checksum for the BIOS', () => {
    const { rtc, rd } = setup();
    rtc.setMemorySize(128 << 20);
    expect([rd(0x15), rd(0x16)]).toEqual([0x80, 0x02]);     // 640 KiB
    expect([rd(0x17), rd(0x18), rd(0x30), rd(0x31)]).toEqual([0xff, 0xff, 0xff, 0xff]); // capped
    expect([rd(0x34), rd(0x35)]).toEqual([0x00, 0x07]);     // 112 MiB / 64 KiB
    rtc.setMemorySize(8 << 20, 2 ** 32);
    expect([rd(0x17), rd(0x18)]).toEqual([0x00, 0x1c]);     // 7168 KiB
    expect([rd(0x5b), rd(0x5c), rd(0x5d)]).toEqual([0x00, 0x00, 0x01]);
    rtc.setFloppyTypes(4, 0);
    rtc.setEquipment(1, true);
    rtc.setDiskTypes(true, false);
    rtc.updateChecksum();
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += rd(i);
    expect((rd(CMOS.CHECKSUM) << 8) | rd(CMOS.CHECKSUM + 1)).toBe(sum);
    expect(rd(0x10)).toBe(0x40);
    expect(rd(0x14)).toBe(0x03);
    expect(rtc.readCmos(0x00)).toBe(0x07);
  });

  it('keeps the CMOS and interrupt state across save and restore', () => {
    const a = setup();
    a.wr(0x0a, 0x2a); a.wr(0x0b, 0x52); a.wr(0x40, 0x77);
    a.rig.runTo(1.3e9);
    const blob = saveAll([a.rig.clock, a.rtc]);
    const b = setup(new Date(0));
    loadAll([b.rig.clock, b.rtc], blob);
    expect(b.rd(0x40)).toBe(0x77);
    expect(b.rd(0x00)).toBe(a.rd(0x00));
    expect(b.irq.level).toBe(true);
    for (let t = 1.31e9; t < 3e9; t += 7e6) {
      a.rig.runTo(t); b.rig.runTo(t);
      expect(b.rd(0x0c)).toBe(a.rd(0x0c));
    }
    expect(b.irq.riseTimes.slice(-50)).toEqual(a.irq.riseTimes.slice(-50));
    expect(b.rd(0x00)).toBe(a.rd(0x00));
  });
});
