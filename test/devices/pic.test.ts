// 8259A pair behaviour per the Intel 8259A datasheet and PIIX4 ELCR.
import { describe, expect, it } from 'vitest';
import { PicPair } from '../../src/devices/pic.ts';
import { loadState, saveState, StateError } from '../../src/state/state.ts';
import { Rig } from './helpers.ts';

function setup(opts: { autoEoi?: boolean } = {}) {
  const rig = new Rig();
  let notified = 0;
  const pic = new PicPair(rig.io, () => notified++);
  const icw4 = opts.autoEoi ? 0x03 : 0x01;
  // The PC BIOS programming: vectors 0x08 and 0x70, slave on IR2.
  rig.out8(0x20, 0x11); rig.out8(0x21, 0x08); rig.out8(0x21, 0x04); rig.out8(0x21, icw4);
  rig.out8(0xa0, 0x11); rig.out8(0xa1, 0x70); rig.out8(0xa1, 0x02); rig.out8(0xa1, icw4);
  return { rig, pic, notified: () => notified };
}

const pulse = (pic: PicPair, irq: number) => { pic.setIrq(irq, true); pic.setIrq(irq, false); };

describe('8259A pair', () => {
  it('delivers an edge request with the ICW2 vector and notifies the CPU', () => {
    const { pic, notified } = setup();
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(1, true);
    expect(notified()).toBeGreaterThan(0);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x09);
    expect(pic.hasInterrupt()).toBe(false); // in service, line still high: no new edge
  });

  it('resolves fixed priority IR0 highest and nests higher over lower in service', () => {
    const { rig, pic } = setup();
    pic.setIrq(4, true); pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x0b);                   // IR3 before IR4
    expect(pic.hasInterrupt()).toBe(false);                 // IR4 is lower than IR3 in service
    pulse(pic, 0);
    expect(pic.acknowledge()).toBe(0x08);                   // IR0 interrupts IR3's handler
    rig.out8(0x20, 0x0b);                                   // OCW3: read ISR
    expect(rig.in8(0x20)).toBe(0x09);
    rig.out8(0x20, 0x20);                                   // non-specific EOI clears the highest (IR0)
    expect(rig.in8(0x20)).toBe(0x08);
    rig.out8(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x0c);
  });

  it('reads IRR and ISR through OCW3 and IMR through port 1', () => {
    const { rig, pic } = setup();
    rig.out8(0x21, 0xfe);
    expect(rig.in8(0x21)).toBe(0xfe);
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(false);                 // masked
    rig.out8(0x20, 0x0a);
    expect(rig.in8(0x20)).toBe(0x20);                       // IRR has it anyway
    rig.out8(0x21, 0x00);
    expect(pic.acknowledge()).toBe(0x0d);
    rig.out8(0x20, 0x0b);
    expect(rig.in8(0x20)).toBe(0x20);
  });

  it('cascades slave requests through IR2 and needs EOI on both chips', () => {
    const { rig, pic } = setup();
    pic.setIrq(14, true);
    expect(pic.acknowledge()).toBe(0x76);
    rig.out8(0xa0, 0x0b); rig.out8(0x20, 0x0b);
    expect(rig.in8(0xa0)).toBe(0x40);
    expect(rig.in8(0x20)).toBe(0x04);
    pulse(pic, 8);
    expect(pic.hasInterrupt()).toBe(false);                 // master IR2 still in service
    rig.out8(0xa0, 0x20);                                   // slave EOI
    expect(pic.hasInterrupt()).toBe(false);
    rig.out8(0x20, 0x20);                                   // master EOI: IR8 comes through
    expect(pic.acknowledge()).toBe(0x70);
  });

  it('lets a higher slave request through an in-service IR2 in special fully nested mode', () => {
    const { rig, pic } = setup();
    rig.out8(0x20, 0x11); rig.out8(0x21, 0x08); rig.out8(0x21, 0x04); rig.out8(0x21, 0x11); // SFNM
    pic.setIrq(14, true);
    expect(pic.acknowledge()).toBe(0x76);
    pulse(pic, 8);
    expect(pic.acknowledge()).toBe(0x70);
  });

  it('gives the ISA IRQ2 line to IRQ9', () => {
    const { pic } = setup();
    pic.setIrq(2, true);
    expect(pic.acknowledge()).toBe(0x71);
  });

  it('specific EOI clears only the named level', () => {
    const { rig, pic } = setup();
    pic.setIrq(3, true); expect(pic.acknowledge()).toBe(0x0b);
    pulse(pic, 1); expect(pic.acknowledge()).toBe(0x09);
    rig.out8(0x20, 0x63);                                   // specific EOI for IR3
    rig.out8(0x20, 0x0b);
    expect(rig.in8(0x20)).toBe(0x02);
  });

  it('rotates priorities on EOI and by set-priority command', () => {
    const { rig, pic } = setup();
    pulse(pic, 0); pulse(pic, 1); pulse(pic, 5);
    expect(pic.acknowledge()).toBe(0x08);
    rig.out8(0x20, 0xa0);                                   // rotate on non-specific EOI: IR0 lowest
    pulse(pic, 0);
    expect(pic.acknowledge()).toBe(0x09);                   // now IR1 highest
    rig.out8(0x20, 0xe1);                                   // rotate on specific EOI IR1: IR2 highest
    expect(pic.acknowledge()).toBe(0x0d);                   // IR5 before IR0
    rig.out8(0x20, 0x20);
    rig.out8(0x20, 0xc4);                                   // set priority: IR4 lowest, IR5 highest
    pulse(pic, 4); pulse(pic, 7);
    expect(pic.acknowledge()).toBe(0x0f);                   // IR7 > IR0 > IR4
  });

  it('auto-EOI leaves ISR clear, and rotate-in-auto-EOI rotates', () => {
    const { rig, pic } = setup({ autoEoi: true });
    pulse(pic, 3);
    expect(pic.acknowledge()).toBe(0x0b);
    rig.out8(0x20, 0x0b);
    expect(rig.in8(0x20)).toBe(0);
    rig.out8(0x20, 0x80);                                   // rotate in auto-EOI mode
    pulse(pic, 0); pulse(pic, 1);
    expect(pic.acknowledge()).toBe(0x08);                   // IR0 becomes lowest
    pulse(pic, 0);
    expect(pic.acknowledge()).toBe(0x09);
  });

  it('special mask mode lets lower levels through a masked in-service level', () => {
    const { rig, pic } = setup();
    pic.setIrq(3, true); expect(pic.acknowledge()).toBe(0x0b);
    pulse(pic, 5);
    expect(pic.hasInterrupt()).toBe(false);
    rig.out8(0x21, 0x08);                                   // mask IR3
    rig.out8(0x20, 0x68);                                   // OCW3: set special mask
    expect(pic.acknowledge()).toBe(0x0d);
    rig.out8(0x20, 0x48);                                   // reset special mask
    pulse(pic, 6);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('poll mode returns 0x80|level and acknowledges', () => {
    const { rig, pic } = setup();
    rig.out8(0x20, 0x0c);
    expect(rig.in8(0x20)).toBe(0);                          // nothing pending
    pulse(pic, 6);
    rig.out8(0x20, 0x0c);
    expect(rig.in8(0x20)).toBe(0x86);
    rig.out8(0x20, 0x0b);
    expect(rig.in8(0x20)).toBe(0x40);                       // IR6 in service
  });

  it('gives spurious IRQ7 / IRQ15 when a level request disappears before INTA', () => {
    const { rig, pic } = setup();
    rig.out8(0x4d0, 0xff); rig.out8(0x4d1, 0xff);
    expect(rig.in8(0x4d0)).toBe(0xf8);                      // IRQ0-2 are always edge
    expect(rig.in8(0x4d1)).toBe(0xde);                      // IRQ8 and 13 too
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(true);
    pic.setIrq(5, false);
    expect(pic.acknowledge()).toBe(0x0f);                   // spurious IRQ7
    rig.out8(0x20, 0x0b);
    expect(rig.in8(0x20)).toBe(0);                          // and no ISR bit
    pic.setIrq(11, true);
    expect(pic.hasInterrupt()).toBe(true);
    rig.out8(0xa1, 0x08);                                   // masked after INT went to the master
    expect(pic.acknowledge()).toBe(0x77);                   // spurious IRQ15
    rig.out8(0xa0, 0x0b); rig.out8(0x20, 0x0b);
    expect(rig.in8(0xa0)).toBe(0);
    expect(rig.in8(0x20)).toBe(0x04);                       // the master's IR2 is in service
  });

  it('level-triggered inputs request again after EOI while the line stays high', () => {
    const { rig, pic } = setup();
    rig.out8(0x4d1, 0x08);                                  // IRQ11 level
    pic.setIrq(11, true);
    expect(pic.acknowledge()).toBe(0x73);
    rig.out8(0xa0, 0x20); rig.out8(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x73);                   // still high → again
    pic.setIrq(11, false);
    rig.out8(0xa0, 0x20); rig.out8(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
    // An edge input does not repeat.
    pic.setIrq(10, true);
    expect(pic.acknowledge()).toBe(0x72);
    rig.out8(0xa0, 0x20); rig.out8(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('ICW1 clears masks and ISR and needs a new edge', () => {
    const { rig, pic } = setup();
    rig.out8(0x21, 0xff);
    pic.setIrq(4, true);
    rig.out8(0x20, 0x11); rig.out8(0x21, 0x20); rig.out8(0x21, 0x04); rig.out8(0x21, 0x01);
    expect(rig.in8(0x21)).toBe(0);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(4, false); pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x24);
  });

  it('saves and restores its state', () => {
    const a = setup();
    a.pic.setIrq(3, true); a.pic.acknowledge(); pulse(a.pic, 12); a.rig.out8(0x21, 0x40);
    a.rig.out8(0x4d1, 0x08);
    const blob = saveState(a.pic.stateDesc, a.pic);
    const b = setup();
    loadState(b.pic.stateDesc, b.pic, blob);
    expect(b.rig.in8(0x21)).toBe(0x40);
    expect(b.rig.in8(0x4d1)).toBe(0x08);
    expect(b.pic.acknowledge()).toBe(0x74);
    expect(() => loadState(b.pic.stateDesc, b.pic, blob.subarray(0, blob.length - 3))).toThrow(StateError);
  });
});
