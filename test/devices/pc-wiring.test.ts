// The legacy devices wired as in a PC, driven by the real CPU through the run loop that
// clock.ts describes: a real-mode program programs the PIC and PIT, halts, and counts IRQ0s.
import { describe, expect, it } from 'vitest';
import { Stop } from '../../src/cpu/cpu.ts';
import { saveAll } from '../../src/state/state.ts';
import { buildPc } from './pc.ts';

/** A tiny 16-bit assembler: bytes, plus 'rel8:label' and 'abs16:label' fix-ups. */
function assemble(origin: number, build: (emit: (...b: (number | string)[]) => void, label: (name: string) => void) => void): Uint8Array {
  const bytes: number[] = [];
  const fixups: { at: number; ref: string }[] = [];
  const labels = new Map<string, number>();
  const emit = (...items: (number | string)[]) => {
    for (const b of items) {
      if (typeof b === 'number') { bytes.push(b); continue; }
      fixups.push({ at: bytes.length, ref: b });
      bytes.push(0);
      if (b.startsWith('abs16:')) bytes.push(0);
    }
  };
  build(emit, name => labels.set(name, bytes.length));
  for (const { at, ref } of fixups) {
    const [kind, name] = ref.split(':');
    const target = labels.get(name)!;
    if (kind === 'rel8') bytes[at] = (target - (at + 1)) & 0xff;
    else { bytes[at] = (origin + target) & 0xff; bytes[at + 1] = (origin + target) >> 8; }
  }
  return Uint8Array.from(bytes);
}

describe('legacy PC devices with the real CPU', () => {
  it('takes PIT interrupts through the PIC at the programmed rate, and prints on COM1 and 0xE9', () => {
    const program = assemble(0xf000, (e, label) => {
      e(0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x70);     // cli; ds = ss = 0; sp = 0x7000
      e(0xc7, 0x06, 0x20, 0x00, 'abs16:irq0');                           // IVT[8] = F000:irq0
      e(0xc7, 0x06, 0x22, 0x00, 0x00, 0xf0);
      e(0xc7, 0x06, 0x00, 0x05, 0x00, 0x00);                             // ticks = 0
      for (const [v, port] of [[0x11, 0x20], [0x08, 0x21], [0x04, 0x21], [0x01, 0x21], [0xfe, 0x21],
        [0x34, 0x43], [0xa9, 0x40], [0x04, 0x40],                           // PIT 0: mode 2, 1193 = 1 ms
        [0x4f, 0xe9], [0x4b, 0xe9], [0x83, 0x3fb], [0x01, 0x3f8], [0x00, 0x3f9], [0x03, 0x3fb]]) {
        if (port < 0x100) e(0xb0, v, 0xe6, port);                         // mov al, v; out port, al
        else e(0xba, port & 0xff, port >> 8, 0xb0, v, 0xee);              // mov dx, port; mov al, v; out dx, al
      }
      e(0xfb);                                                            // sti
      label('wait');
      e(0xf4);                                                            // hlt
      e(0x83, 0x3e, 0x00, 0x05, 0x0a);                                    // cmp word [0x500], 10
      e(0x72, 'rel8:wait');                                               // jb wait
      e(0xba, 0xf8, 0x03, 0xb0, 0x21, 0xee);                              // COM1 <- '!'
      e(0xfa, 0xf4);                                                      // cli; hlt
      label('irq0');
      e(0xff, 0x06, 0x00, 0x05);                                          // inc word [0x500]
      e(0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf);                        // push ax; EOI; pop ax; iret
    });
    // ROM: 4 KiB at 0xFF000 and below 4 GiB; code at F000:F000, reset vector jumps there.
    const rom = new Uint8Array(4096);
    rom.set(program, 0);
    rom.set([0xea, 0x00, 0xf0, 0x00, 0xf0], 0xff0);
    const pc = buildPc(rom);
    pc.run(1e9);
    expect(pc.cpu.stopReason).toBe(Stop.HaltNoIrq);
    expect(pc.mem.read16(0x500)).toBe(10);
    // The control word raises OUT0 (low after reset: the datasheet leaves it undefined), which
    // is the first tick; nine periods of 1193 clocks (1 ms each) follow.
    expect(pc.clock.now() / 1e6).toBeGreaterThan(8.99);
    expect(pc.clock.now() / 1e6).toBeLessThan(9.05);
    expect(pc.debug.text()).toBe('OK');
    expect(pc.serial.text()).toBe('!');
    // Every device's state can be saved together (unique section names).
    expect(saveAll(pc.devices).length).toBeGreaterThan(256 * 1024);
  });
});
