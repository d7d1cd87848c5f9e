// 8254 behaviour per the Intel 8254 datasheet: mode waveforms, latch, read-back, status.
import { describe, expect, it } from 'vitest';
import { Pit, pitTick, pitTickStart } from '../../src/devices/pit.ts';
import { loadAll, saveAll } from '../../src/state/state.ts';
import { Rig, TestLine } from './helpers.ts';

function setup() {
  const rig = new Rig();
  const irq = new TestLine(() => pitTick(rig.clock.now()));
  const pit = new Pit(rig.io, irq, rig.scheduler);
  /** Move to PIT tick t (a tick begins at pitTickStart). */
  const at = (t: number) => rig.runTo(pitTickStart(t));
  const count = (c: number) => { rig.out8(0x43, c << 6); return rig.in8(0x40 + c) | (rig.in8(0x40 + c) << 8); };
  const status = (c: number) => { rig.out8(0x43, 0xe0 | (2 << c)); return rig.in8(0x40 + c); };
  const out2 = () => (rig.in8(0x61) & 0x20) !== 0;
  return { rig, irq, pit, at, count, status, out2 };
}

describe('8254 PIT', () => {
  it('converts between virtual ns and 1.193182 MHz ticks exactly', () => {
    for (const t of [0, 1, 2, 1193181, 1193182, 123456789, 9e9]) {
      const ns = pitTickStart(t);
      expect(pitTick(ns)).toBe(t);
      if (t > 0) expect(pitTick(ns - 1)).toBe(t - 1);
    }
    expect(pitTickStart(1193182)).toBe(1e9);
  });

  it('mode 2: IRQ0 rises every N clocks after load; CE counts N..1; OUT low at CE=1', () => {
    const { rig, irq, pit, at, count, status } = setup();
    rig.out8(0x43, 0x34); rig.out8(0x40, 100); rig.out8(0x40, 0); // written during tick 0, loaded at tick 1
    at(1); expect(count(0)).toBe(100);
    at(50); expect(count(0)).toBe(51);
    at(100); expect(count(0)).toBe(1); expect(status(0) & 0x80).toBe(0);
    at(101); expect(count(0)).toBe(100); expect(status(0) & 0x80).toBe(0x80);
    at(200); expect(pit.output(0)).toBe(false);               // OUT low while CE = 1
    at(201); expect(pit.output(0)).toBe(true);
    at(1001);
    expect(irq.riseTimes).toEqual([0, 101, 201, 301, 401, 501, 601, 701, 801, 901, 1001]);
  });

  it('mode 2: count 0 means 65536; a new count takes effect at the next reload', () => {
    const { rig, irq, at, count } = setup();
    rig.out8(0x43, 0x34); rig.out8(0x40, 0); rig.out8(0x40, 0);
    at(2); expect(count(0)).toBe(0xffff);
    at(65537); expect(irq.riseTimes).toEqual([0, 65537]);      // the control word already set OUT high
    rig.out8(0x40, 10); rig.out8(0x40, 0);                  // during tick 65537
    at(65600); expect(count(0)).toBe(65536 - 63);            // old period continues
    at(131073 + 30);
    expect(irq.riseTimes).toEqual([0, 65537, 131073, 131083, 131093, 131103]);
  });

  it('mode 3: square wave on OUT2 with even and odd counts, CE decrementing by two', () => {
    const { rig, at, count, out2 } = setup();
    rig.out8(0x61, 0x01);                                   // gate 2 high
    rig.out8(0x43, 0xb6); rig.out8(0x42, 10); rig.out8(0x42, 0);
    const wave: boolean[] = [], values: number[] = [];
    for (let t = 1; t <= 20; t++) { at(t); wave.push(out2()); values.push(count(2)); }
    expect(wave).toEqual([true, true, true, true, true, false, false, false, false, false,
      true, true, true, true, true, false, false, false, false, false]);
    expect(values.slice(0, 10)).toEqual([10, 8, 6, 4, 2, 10, 8, 6, 4, 2]);
    // Odd N = 7: high (N+1)/2 = 4 clocks, low (N-1)/2 = 3.
    rig.out8(0x43, 0xb6); rig.out8(0x42, 7); rig.out8(0x42, 0); // during tick 20, loaded at 21
    const odd: boolean[] = [], oddValues: number[] = [];
    for (let t = 21; t <= 34; t++) { at(t); odd.push(out2()); oddValues.push(count(2)); }
    expect(odd).toEqual([true, true, true, true, false, false, false, true, true, true, true, false, false, false]);
    expect(oddValues.slice(0, 7)).toEqual([7, 6, 4, 2, 7, 4, 2]);
  });

  it('mode 3: gate low forces OUT high and stops counting; rising gate reloads', () => {
    const { rig, at, count, out2 } = setup();
    rig.out8(0x61, 0x01);
    rig.out8(0x43, 0xb6); rig.out8(0x42, 8); rig.out8(0x42, 0);
    at(6); expect(out2()).toBe(false); expect(count(2)).toBe(6);
    rig.out8(0x61, 0x00);
    expect(out2()).toBe(true);
    at(40); expect(count(2)).toBe(6);
    rig.out8(0x61, 0x01);                                   // reload on tick 41
    at(41); expect(count(2)).toBe(8);
    at(45); expect(out2()).toBe(false);
  });

  it('mode 0: OUT low after the control word, high N+1 clocks after the count is written', () => {
    const { rig, at, count, out2, status } = setup();
    rig.out8(0x61, 0x01);
    rig.out8(0x43, 0xb0);
    expect(out2()).toBe(false);
    rig.out8(0x42, 0xe8); rig.out8(0x42, 0x03);             // 1000
    at(1000); expect(out2()).toBe(false); expect(count(2)).toBe(1);
    at(1001); expect(out2()).toBe(true); expect(count(2)).toBe(0);
    at(1002); expect(count(2)).toBe(0xffff);                // wraps, OUT stays high
    at(70000); expect(out2()).toBe(true);
    expect(status(2)).toBe(0x80 | 0x30);                     // OUT, LSB/MSB, mode 0, binary
  });

  it('mode 0: gate low pauses counting; first byte of a new count stops it', () => {
    const { rig, at, count, out2 } = setup();
    rig.out8(0x61, 0x01);
    rig.out8(0x43, 0xb0); rig.out8(0x42, 100); rig.out8(0x42, 0);
    at(11); expect(count(2)).toBe(90);
    rig.out8(0x61, 0x00);
    at(50); expect(count(2)).toBe(90);
    rig.out8(0x61, 0x01);                                   // resumes on tick 51
    at(60); expect(count(2)).toBe(81);
    at(141); expect(out2()).toBe(true);
    rig.out8(0x42, 5);                                      // LSB only so far: counting stops, OUT low
    expect(out2()).toBe(false);
    at(150); expect(count(2)).toBe(0);                      // held where it stopped (terminal count)
    rig.out8(0x42, 0);                                      // during tick 150
    at(156); expect(out2()).toBe(true);
  });

  it('mode 0 on counter 0 raises IRQ0 once at terminal count', () => {
    const { rig, irq, at } = setup();
    rig.out8(0x43, 0x30);
    expect(irq.level).toBe(false);
    rig.out8(0x40, 50); rig.out8(0x40, 0);
    at(1000);
    expect(irq.riseTimes).toEqual([51]);
  });

  it('mode 1: a gate trigger starts a retriggerable one-shot', () => {
    const { rig, at, out2, count } = setup();
    rig.out8(0x43, 0xb2); rig.out8(0x42, 20); rig.out8(0x42, 0);
    at(10); expect(out2()).toBe(true);
    rig.out8(0x61, 0x01);                                   // trigger during tick 10
    at(11); expect(out2()).toBe(false); expect(count(2)).toBe(20);
    at(25); rig.out8(0x61, 0x00); rig.out8(0x61, 0x01);     // retrigger during tick 25
    at(45); expect(out2()).toBe(false);
    at(46); expect(out2()).toBe(true);
  });

  it('modes 4 and 5: one-clock strobe at terminal count', () => {
    const { rig, irq, at, out2 } = setup();
    rig.out8(0x43, 0x38); rig.out8(0x40, 30); rig.out8(0x40, 0);
    at(200);
    expect(irq.riseTimes).toEqual([0, 32]);                 // control word: OUT high; low during tick 31
    rig.out8(0x43, 0xba); rig.out8(0x42, 5); rig.out8(0x42, 0);
    at(210); expect(out2()).toBe(true);
    rig.out8(0x61, 0x01);                                   // trigger during tick 210
    at(216); expect(out2()).toBe(false);
    at(217); expect(out2()).toBe(true);
  });

  it('counter latch holds a value until read; a second latch is ignored', () => {
    const { rig, at } = setup();
    rig.out8(0x43, 0x34); rig.out8(0x40, 0x00); rig.out8(0x40, 0x10);
    at(101);
    rig.out8(0x43, 0x00);
    at(300);
    rig.out8(0x43, 0x00);
    expect(rig.in8(0x40) | (rig.in8(0x40) << 8)).toBe(0x1000 - 100);
    const live = rig.in8(0x40) | (rig.in8(0x40) << 8);
    expect(live).toBe(0x1000 - 299);
  });

  it('read-back returns status before count; null count until the count is loaded', () => {
    const { rig, at } = setup();
    rig.out8(0x43, 0x36);                                   // counter 0, LSB/MSB, mode 3
    rig.out8(0x43, 0xe2);
    expect(rig.in8(0x40)).toBe(0x80 | 0x40 | 0x36);         // OUT high, null count
    rig.out8(0x40, 0x20); rig.out8(0x40, 0);
    rig.out8(0x43, 0xe2);
    expect(rig.in8(0x40) & 0x40).toBe(0x40);                // written but not yet loaded
    at(5);
    rig.out8(0x43, 0xc2);                                   // latch status and count
    expect(rig.in8(0x40)).toBe(0x80 | 0x36);
    expect(rig.in8(0x40) | (rig.in8(0x40) << 8)).toBe(0x20 - 8);
  });

  it('LSB-only, MSB-only access and BCD counting', () => {
    const { rig, at } = setup();
    rig.out8(0x43, 0x54);                                   // counter 1, LSB only, mode 2
    rig.out8(0x41, 50);
    at(11); expect(rig.in8(0x41)).toBe(40);
    rig.out8(0x43, 0x64);                                   // counter 1, MSB only
    rig.out8(0x41, 0x02);
    at(12); expect(rig.in8(0x41)).toBe(0x02);               // 0x200
    at(13); expect(rig.in8(0x41)).toBe(0x01);               // 0x1FF
    rig.out8(0x43, 0x75);                                   // counter 1, LSB/MSB, mode 2, BCD
    rig.out8(0x41, 0x00); rig.out8(0x41, 0x10);             // 1000 decimal
    at(14); expect(rig.in8(0x41) | (rig.in8(0x41) << 8)).toBe(0x1000);
    at(15); expect(rig.in8(0x41) | (rig.in8(0x41) << 8)).toBe(0x0999);
    at(14 + 1000); expect(rig.in8(0x41) | (rig.in8(0x41) << 8)).toBe(0x1000);
  });

  it('port 0x61: refresh bit toggles every 15 us; speaker needs gate and data bits', () => {
    const { rig, pit } = setup();
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) { rig.runFor(7000); seen.add(rig.in8(0x61) & 0x10); }
    expect([...seen].sort()).toEqual([0, 0x10]);
    rig.out8(0x61, 0x03);
    expect(pit.speakerOn).toBe(true);
    expect(rig.in8(0x61) & 0x0f).toBe(0x03);
  });

  it('resumes a saved state with identical IRQ timing', () => {
    const a = setup();
    a.rig.out8(0x43, 0x34); a.rig.out8(0x40, 0x9c); a.rig.out8(0x40, 0x2e); // 11932, ~100 Hz
    a.at(30000);
    a.rig.out8(0x61, 0x01); a.rig.out8(0x43, 0xb6); a.rig.out8(0x42, 77); a.rig.out8(0x42, 0);
    a.at(30010);
    const blob = saveAll([a.rig.clock, a.pit]);
    const b = setup();
    loadAll([b.rig.clock, b.pit], blob);
    expect(b.count(2)).toBe(a.count(2));
    a.at(100000); b.at(100000);
    expect(b.irq.riseTimes).toEqual(a.irq.riseTimes.filter(t => t > 30010));
    expect(b.count(2)).toBe(a.count(2));
  });
});
