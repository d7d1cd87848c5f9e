// The assembled PC running a boot sector (test/bios/programs/pc.asm) that uses BIOS services
// backed by the real devices: PIT ticks, the RTC, the 8042 keyboard, COM1 and INT 15h waits.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { PcMachine } from '../../src/machine/pc.ts';
import { MemDisk } from '../bios/helpers.ts';

describe('PC machine', () => {
  it('runs a boot sector against the timer, RTC, keyboard and serial port', async () => {
    const img = new Uint8Array(1 << 20);
    img.set(readFileSync(new URL('../bios/programs/pc.bin', import.meta.url)));
    const m = new PcMachine({ hardDisks: [new MemDisk(img)], memoryMiB: 16, rtcStart: new Date('2026-03-04T12:34:56Z') });
    expect((await m.run({ until: 'S', maxInstructions: 50e6 })).stop).toBe('found');
    m.platform.i8042.keyboard.typeText('k');
    const end = await m.run({ maxInstructions: 50e6 });
    expect(end.stop).toBe('halted');
    expect(m.serialOutput).toBe('SE');
    const mem = m.mem;
    expect(mem.read16(0x8f00)).toBe(0x1234);             // 12:34 (BCD)
    expect(mem.read8(0x8f03)).toBeGreaterThanOrEqual(0x56); // seconds, a little after power-on
    expect(mem.read16(0x8f04)).toBe(0x256b);             // 'k': scan code 25h, ASCII 6Bh
    const waited = mem.read16(0x8f08) - mem.read16(0x8f06);
    expect(waited).toBeGreaterThanOrEqual(1);            // 100 ms is 1.8 ticks of 54.9 ms
    expect(waited).toBeLessThanOrEqual(3);
    expect(mem.read8(0x8f0b) & 0x60).toBe(0x60);         // COM1 LSR: transmitter empty
    expect(mem.read32(0x46c)).toBeGreaterThan(3);
  });

  it('gives the same run twice in deterministic mode', async () => {
    const runOnce = async () => {
      const img = new Uint8Array(1 << 20);
      img.set(readFileSync(new URL('../bios/programs/pc.bin', import.meta.url)));
      const m = new PcMachine({ hardDisks: [new MemDisk(img)], memoryMiB: 16, rtcStart: new Date('2026-03-04T12:34:56Z') });
      await m.run({ until: 'S', maxInstructions: 50e6 });
      const at = m.cpu.instructionCount;
      return { at, ticks: m.mem.read32(0x46c), now: m.clock.now() };
    };
    expect(await runOnce()).toEqual(await runOnce());
  });

  // test/bios/programs/pitwrap.asm: a guest polling the PIT with interrupts off must never see
  // counter 0 reload before IRQ0 is pending (the race that cost Linux's pit clocksource a jiffy).
  for (const clock of ['deterministic', 'host'] as const) {
    it(`raises IRQ0 at the instant counter 0 reloads (${clock} clock)`, async () => {
      const img = new Uint8Array(1 << 20);
      img.set(readFileSync(new URL('../bios/programs/pitwrap.bin', import.meta.url)));
      const m = new PcMachine({ hardDisks: [new MemDisk(img)], memoryMiB: 16, clock });
      expect((await m.run({ maxInstructions: 100e6 })).stop).toBe('halted');
      expect(m.mem.read16(0x8f00)).toBe(500);   // reloads seen
      expect(m.mem.read16(0x8f02)).toBe(0);     // ... none of them ahead of IRQ0
      expect(m.mem.read16(0x8f04)).toBeGreaterThanOrEqual(500); // and every IRQ0 was taken
    });
  }
});
