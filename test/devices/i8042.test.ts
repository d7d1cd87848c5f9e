// 8042 controller and PS/2 keyboard per the IBM PS/2 Technical Reference; port 0x92.
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { A20Gate } from '../../src/devices/a20.ts';
import { I8042 } from '../../src/devices/i8042.ts';
import { Port92 } from '../../src/devices/port92.ts';
import { loadState, saveState } from '../../src/state/state.ts';
import { Rig, TestLine } from './helpers.ts';

function setup() {
  const rig = new Rig();
  const mem = new MemoryBus(2 << 20);
  const a20 = new A20Gate(mem);
  let resets = 0;
  const irq1 = new TestLine(), irq12 = new TestLine();
  const kbc = new I8042(rig.io, irq1, irq12, a20, () => resets++);
  const port92 = new Port92(rig.io, a20, () => resets++);
  const cmd = (v: number) => rig.out8(0x64, v);
  const data = () => rig.in8(0x60);
  const obf = () => (rig.in8(0x64) & 1) === 1;
  /** Everything in the output buffer, in order. */
  const drain = () => { const out: number[] = []; while (obf()) out.push(data()); return out; };
  return { rig, mem, a20, kbc, port92, irq1, irq12, cmd, data, obf, drain, resets: () => resets };
}

describe('8042 keyboard controller', () => {
  it('passes its self test and interface tests, and sets the system flag', () => {
    const { rig, cmd, drain } = setup();
    expect(rig.in8(0x64) & 0x04).toBe(0);
    cmd(0xaa);
    expect(rig.in8(0x64) & 0x0d).toBe(0x0d);                // OBF, SYS, last write was a command
    expect(drain()).toEqual([0x55]);
    cmd(0xab); expect(drain()).toEqual([0x00]);
    cmd(0xa9); expect(drain()).toEqual([0x00]);
  });

  it('reads and writes the command byte; IRQ1 follows its enable bit', () => {
    const { rig, cmd, drain, irq1 } = setup();
    cmd(0x20);
    expect(irq1.level).toBe(true);
    expect(drain()).toEqual([0x45]);
    expect(irq1.level).toBe(false);
    cmd(0x60); rig.out8(0x60, 0x44);                        // interrupts off
    cmd(0x20);
    expect(irq1.level).toBe(false);
    expect(drain()).toEqual([0x44]);
  });

  it('switches A20 through the output port, 0xDD/0xDF and port 0x92 together', () => {
    const { rig, mem, cmd, drain } = setup();
    expect(mem.a20Enabled).toBe(true);                      // on at power-on
    cmd(0xd0); expect(drain()).toEqual([0xcf]);
    cmd(0xdd);
    expect(mem.a20Enabled).toBe(false);
    mem.write8(0x100000, 0x11);
    expect(mem.read8(0)).toBe(0x11);                        // wraps at 1 MiB
    cmd(0xd1); rig.out8(0x60, 0x03);
    expect(mem.a20Enabled).toBe(true);
    cmd(0xd0); expect(drain()).toEqual([0x03]);
    cmd(0xdd); expect(mem.a20Enabled).toBe(false);
    cmd(0xdf); expect(mem.a20Enabled).toBe(true);
    cmd(0xdd);
    rig.out8(0x92, 0x02);
    expect(mem.a20Enabled).toBe(true);                      // either source enables it
    expect(rig.in8(0x92)).toBe(0x02);
    rig.out8(0x92, 0x00);
    expect(mem.a20Enabled).toBe(false);
  });

  it('resets the CPU by pulsing the output port, writing bit 0 low, or port 0x92 bit 0', () => {
    const { rig, cmd, resets } = setup();
    cmd(0xff);
    expect(resets()).toBe(0);                               // pulse of no bits
    cmd(0xfe);
    expect(resets()).toBe(1);
    cmd(0xd1); rig.out8(0x60, 0x02);
    expect(resets()).toBe(2);
    rig.out8(0x92, 0x01);
    expect(resets()).toBe(3);
    rig.out8(0x92, 0x01);
    expect(resets()).toBe(3);                               // only a 0→1 write resets
  });

  it('answers keyboard reset with ACK and BAT passed, and identify with the MF2 ID', () => {
    const { rig, drain } = setup();
    rig.out8(0x60, 0xff);
    expect(drain()).toEqual([0xfa, 0xaa]);
    rig.out8(0x60, 0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]);            // 0x83 translated, as on real PCs
    rig.out8(0x60, 0xee);
    expect(drain()).toEqual([0xee]);
    rig.out8(0x60, 0x12);
    expect(drain()).toEqual([0xfe]);                        // unknown command
  });

  it('takes LED, typematic and scan set commands with parameters', () => {
    const { rig, kbc, cmd, drain } = setup();
    rig.out8(0x60, 0xed); rig.out8(0x60, 0x07);
    expect(drain()).toEqual([0xfa, 0xfa]);
    expect(kbc.keyboard.leds).toBe(7);
    rig.out8(0x60, 0xf3); rig.out8(0x60, 0x20);
    expect(drain()).toEqual([0xfa, 0xfa]);
    expect(kbc.keyboard.typematic).toBe(0x20);
    cmd(0x60); rig.out8(0x60, 0x05);                        // translation off
    rig.out8(0x60, 0xf0); rig.out8(0x60, 0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x02]);
  });

  it('translates fed scan codes to set 1 and interrupts per byte', () => {
    const { kbc, drain, irq1, data } = setup();
    kbc.keyboard.sendScancodes([0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75]); // a, up arrow
    expect(irq1.level).toBe(true);
    expect(data()).toBe(0x1e);
    expect(irq1.level).toBe(true);                          // the next byte is already there
    expect(drain()).toEqual([0x9e, 0xe0, 0x48, 0xe0, 0xc8]);
    expect(irq1.level).toBe(false);
    kbc.keyboard.typeText('Hi\n');
    expect(drain()).toEqual([0x2a, 0x23, 0xa3, 0xaa, 0x17, 0x97, 0x1c, 0x9c]);
  });

  it('types in scan code set 1 when the guest selects it with translation off', () => {
    const { rig, kbc, cmd, drain } = setup();
    cmd(0x60); rig.out8(0x60, 0x05);                        // translation off
    rig.out8(0x60, 0xf0); rig.out8(0x60, 0x01);
    expect(drain()).toEqual([0xfa, 0xfa]);
    kbc.keyboard.typeText('A');
    expect(drain()).toEqual([0x2a, 0x1e, 0x9e, 0xaa]);
    rig.out8(0x60, 0xf0); rig.out8(0x60, 0x02);
    drain();
    kbc.keyboard.typeText('a');
    expect(drain()).toEqual([0x1c, 0xf0, 0x1c]);           // raw set 2
  });

  it('holds keys while scanning or the keyboard interface is disabled', () => {
    const { rig, kbc, cmd, drain } = setup();
    rig.out8(0x60, 0xf5); expect(drain()).toEqual([0xfa]);
    kbc.keyboard.typeText('a');
    expect(drain()).toEqual([]);
    rig.out8(0x60, 0xf4); expect(drain()).toEqual([0xfa]);
    cmd(0xad);
    kbc.keyboard.typeText('a');
    expect(drain()).toEqual([]);
    cmd(0xae);
    expect(drain()).toEqual([0x1e, 0x9e]);
  });

  it('answers aux commands with 0xFE on IRQ12 and echoes 0xD3 writes as aux data', () => {
    const { rig, cmd, irq12, irq1 } = setup();
    cmd(0x60); rig.out8(0x60, 0x47);                        // both interrupts on
    cmd(0xd3); rig.out8(0x60, 0x5a);
    expect(rig.in8(0x64) & 0x21).toBe(0x21);
    expect(irq12.level).toBe(true);
    expect(irq1.level).toBe(false);
    expect(rig.in8(0x60)).toBe(0x5a);
    cmd(0xd4); rig.out8(0x60, 0xff);
    expect(rig.in8(0x60)).toBe(0xfe);
  });

  it('saves and restores the controller, keyboard queue and A20', () => {
    const a = setup();
    a.cmd(0xdd);
    a.kbc.keyboard.typeText('ok');
    a.data();
    const blob = saveState(a.kbc.stateDesc, a.kbc);
    const b = setup();
    loadState(b.kbc.stateDesc, b.kbc, blob);
    expect(b.mem.a20Enabled).toBe(false);
    expect(b.drain()).toEqual(a.drain());
  });
});
