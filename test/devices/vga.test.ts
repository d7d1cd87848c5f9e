// VGA text modes through memory and ports, per the IBM VGA Technical Reference.
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { Vga } from '../../src/devices/vga.ts';
import { loadState, saveState } from '../../src/state/state.ts';
import { Rig } from './helpers.ts';

function setup() {
  const rig = new Rig();
  const mem = new MemoryBus(1 << 20);
  const vga = new Vga(rig.io, mem, rig.scheduler);
  const put = (base: number, text: string, attr = 0x07) => {
    for (let i = 0; i < text.length; i++) { mem.write8(base + i * 2, text.charCodeAt(i)); mem.write8(base + i * 2 + 1, attr); }
  };
  const crtc = (i: number, v: number) => { rig.out8(0x3d4, i); rig.out8(0x3d5, v); };
  return { rig, mem, vga, put, crtc };
}

describe('VGA text mode', () => {
  it('shows what is written at 0xB8000 as an 80x25 screen', () => {
    const { mem, vga, put } = setup();
    expect([vga.columns, vga.rows]).toEqual([80, 25]);
    put(0xb8000, 'Hello, world');
    put(0xb8000 + 24 * 160 + 70 * 2, 'bottom\xc9\xcd\xbb', 0x1f);
    const lines = vga.screenText().split('\n');
    expect(lines.length).toBe(25);
    expect(lines[0]).toBe('Hello, world');
    expect(lines[24]).toBe(' '.repeat(70) + 'bottom╔═╗');
    expect(vga.cell(24, 70)).toEqual({ char: 0x62, attr: 0x1f });
    expect(mem.read16(0xb8000)).toBe(0x0748);                 // word access: char + attribute
    expect(mem.read8(0xb8000 + 1)).toBe(0x07);
  });

  it('moves the cursor and the start address through the CRTC ports', () => {
    const { rig, vga, put, crtc } = setup();
    rig.io.write16(0x3d4, 0x0e | (0x01 << 8));              // out dx, ax: index + data
    rig.io.write16(0x3d4, 0x0f | (0x45 << 8));              // 0x145 = row 4, col 5
    expect(vga.cursor).toEqual({ row: 4, col: 5, visible: true });
    rig.out8(0x3d4, 0x0f);
    expect(rig.in8(0x3d5)).toBe(0x45);
    crtc(0x0a, 0x20);                                       // cursor off
    expect(vga.cursor.visible).toBe(false);
    put(0xb8000, 'first');
    put(0xb8000 + 160, 'second');
    crtc(0x0c, 0x00); crtc(0x0d, 80);                       // start one row down
    expect(vga.screenText().split('\n')[0]).toBe('second');
    expect(vga.cursor.row).toBe(3);
  });

  it('derives rows and columns from the CRTC timing registers', () => {
    const { vga, crtc } = setup();
    crtc(0x09, 0x47);                                       // 8-line characters: 50 rows
    expect(vga.rows).toBe(50);
    crtc(0x11, 0x0e);                                       // clear write protect
    crtc(0x01, 39);
    crtc(0x13, 20);
    expect(vga.columns).toBe(40);
    expect(vga.pitch).toBe(40);
  });

  it('write-protects CRTC registers 0-7 with 11h bit 7', () => {
    const { rig, crtc } = setup();
    crtc(0x01, 0x30);
    rig.out8(0x3d4, 0x01);
    expect(rig.in8(0x3d5)).toBe(0x4f);
    crtc(0x07, 0x00);
    rig.out8(0x3d4, 0x07);
    expect(rig.in8(0x3d5)).toBe(0x0f);                      // only bit 4 changed
  });

  it('switches to mono mode 7: window at 0xB0000, CRTC at 0x3B4', () => {
    const { rig, mem, vga } = setup();
    vga.setTextMode(7);
    mem.write8(0xb0000, 0x41);
    expect(mem.read8(0xb8000)).toBe(0xff);                  // outside the mapped window
    expect(vga.screenText().split('\n')[0]).toBe('A');
    rig.out8(0x3b4, 0x0f); rig.out8(0x3b5, 0x02);
    expect(vga.cursor.col).toBe(2);
    expect(rig.in8(0x3d5)).toBe(0xff);                      // color ports are off
    expect(rig.in8(0x3cc)).toBe(0x66);
  });

  it('toggles retrace on port 0x3DA with virtual time and resets the attribute flip-flop', () => {
    const { rig } = setup();
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) { seen.add(rig.in8(0x3da) & 0x09); rig.runFor(7919); }
    expect([...seen].sort()).toEqual([0, 1, 9]);
    rig.out8(0x3c0, 0x30);                                  // index (leaves flip-flop at data)
    rig.in8(0x3da);                                         // back to index
    rig.out8(0x3c0, 0x10); rig.out8(0x3c0, 0x0d);
    expect(rig.in8(0x3c0)).toBe(0x10);
    expect(rig.in8(0x3c1)).toBe(0x0d);
  });

  it('stores sequencer, graphics and DAC registers', () => {
    const { rig } = setup();
    rig.out8(0x3c4, 0x01); rig.out8(0x3c5, 0x21);
    expect(rig.in8(0x3c5)).toBe(0x21);
    rig.out8(0x3ce, 0x08); rig.out8(0x3cf, 0x5a);
    expect(rig.in8(0x3cf)).toBe(0x5a);
    rig.out8(0x3c8, 0x10);
    for (const v of [0x3f, 0x20, 0x01, 0x02]) rig.out8(0x3c9, v);
    expect(rig.in8(0x3c8)).toBe(0x11);
    rig.out8(0x3c7, 0x10);
    expect(rig.in8(0x3c7)).toBe(0x03);
    expect([rig.in8(0x3c9), rig.in8(0x3c9), rig.in8(0x3c9), rig.in8(0x3c9)]).toEqual([0x3f, 0x20, 0x01, 0x02]);
  });

  it('writes plane 2 in planar mode, as the BIOS does to load fonts', () => {
    const { rig, mem, vga } = setup();
    rig.out8(0x3c4, 0x02); rig.out8(0x3c5, 0x04);           // map mask: plane 2
    rig.out8(0x3c4, 0x04); rig.out8(0x3c5, 0x06);           // odd/even off
    rig.out8(0x3ce, 0x05); rig.out8(0x3cf, 0x00);
    rig.out8(0x3ce, 0x06); rig.out8(0x3cf, 0x04);           // A0000, 64 KiB
    rig.out8(0x3ce, 0x04); rig.out8(0x3cf, 0x02);           // read plane 2
    mem.write8(0xa0000 + 0x41 * 32, 0x7e);
    expect(mem.read8(0xa0000 + 0x41 * 32)).toBe(0x7e);
    expect(vga.vram[2 * 0x10000 + 0x41 * 32]).toBe(0x7e);
    expect(vga.vram[0x41 * 32]).toBe(0x20);                 // plane 0 untouched
  });

  it('saves and restores memory and registers', () => {
    const a = setup();
    a.put(0xb8000, 'saved');
    a.crtc(0x0f, 0x07);
    const blob = saveState(a.vga.stateDesc, a.vga);
    const b = setup();
    loadState(b.vga.stateDesc, b.vga, blob);
    expect(b.vga.screenText()).toBe(a.vga.screenText());
    expect(b.vga.cursor).toEqual({ row: 0, col: 7, visible: true });
  });
});
