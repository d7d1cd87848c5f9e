// 16550A behaviour per the PC16550D datasheet: FIFOs, trigger levels, IIR priorities, loopback.
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/devices/char-backend.ts';
import { Uart } from '../../src/devices/uart.ts';
import { loadState, saveState } from '../../src/state/state.ts';
import { Rig, TestLine } from './helpers.ts';

const B = 0x3f8;
const [RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR] = [0, 1, 2, 3, 4, 5, 6, 7].map(i => B + i);

function setup(options: { paceTransmit?: boolean } = {}) {
  const rig = new Rig();
  const irq = new TestLine();
  const backend = new MemoryBackend();
  const uart = new Uart(rig.io, B, irq, rig.scheduler, backend, options);
  // 115200 8N1, as Linux sets up ttyS0.
  rig.out8(LCR, 0x83); rig.out8(B, 1); rig.out8(B + 1, 0); rig.out8(LCR, 0x03);
  return { rig, irq, backend, uart, charNs: uart.charTimeNs };
}

describe('16550A UART', () => {
  it('programs the divisor latch and computes character time from it', () => {
    const { rig, uart } = setup();
    expect(uart.charTimeNs).toBe(86806);                    // 10 bits at 115200 baud
    rig.out8(LCR, 0x80);
    expect([rig.in8(B), rig.in8(B + 1)]).toEqual([1, 0]);
    rig.out8(B, 0x80); rig.out8(B + 1, 0x01);               // 300 baud
    rig.out8(LCR, 0x1f);                                    // 8 data bits, 2 stop, even parity
    expect(uart.charTimeNs).toBe(Math.ceil(12 * 0x180 * 16 * 1e9 / 1843200));
    rig.out8(SCR, 0x5a);
    expect(rig.in8(SCR)).toBe(0x5a);
  });

  it('transmits to the backend and raises THRE, cleared by reading IIR', () => {
    const { rig, irq, backend } = setup();
    rig.out8(B, 0x41); rig.out8(B, 0x42);
    expect(backend.text()).toBe('AB');
    expect(rig.in8(LSR) & 0x60).toBe(0x60);
    rig.out8(MCR, 0x08);                                    // OUT2 lets the IRQ through
    rig.out8(IER, 0x02);                                    // enabling ETBEI with THR empty interrupts at once
    expect(irq.level).toBe(true);
    expect(rig.in8(IIR)).toBe(0x02);
    expect(rig.in8(IIR)).toBe(0x01);                        // reading IIR cleared it
    expect(irq.level).toBe(false);
    rig.out8(B, 0x43);
    expect(rig.in8(IIR)).toBe(0x02);
  });

  it('gates the IRQ with MCR OUT2', () => {
    const { rig, irq, backend } = setup();
    rig.out8(IER, 0x01);
    backend.inject('x');
    rig.runFor(100_000);
    expect(rig.in8(IIR)).toBe(0x04);
    expect(irq.level).toBe(false);
    rig.out8(MCR, 0x08);
    expect(irq.level).toBe(true);
    expect(rig.in8(RBR)).toBe(0x78);
    expect(irq.level).toBe(false);
  });

  it('receives one character per character time and interrupts at the FIFO trigger level', () => {
    const { rig, irq, backend, charNs } = setup();
    rig.out8(0x3fa, 0x87);                                  // FIFO on, clear both, trigger 8
    rig.out8(MCR, 0x08); rig.out8(IER, 0x01);
    backend.inject('0123456789');
    rig.runFor(7 * charNs);
    expect(rig.in8(LSR) & 1).toBe(1);
    expect(rig.in8(IIR)).toBe(0xc1);                        // 7 bytes: below trigger
    rig.runFor(charNs);
    expect(rig.in8(IIR)).toBe(0xc4);
    expect(irq.level).toBe(true);
    let got = '';
    for (let i = 0; i < 3; i++) got += String.fromCharCode(rig.in8(RBR));
    expect(rig.in8(IIR)).toBe(0xc1);                        // 5 left, then 2 more arrive
    rig.runFor(2 * charNs);
    expect(rig.in8(IIR)).toBe(0xc1);
    rig.runFor(4 * charNs - 1);
    expect(rig.in8(IIR)).toBe(0xc1);
    rig.runFor(1);
    expect(rig.in8(IIR)).toBe(0xcc);                        // character timeout: 4 char times idle
    got += String.fromCharCode(rig.in8(RBR));
    expect(rig.in8(IIR)).toBe(0xc1);                        // a read clears it and restarts the timer
    while (rig.in8(LSR) & 1) got += String.fromCharCode(rig.in8(RBR));
    expect(got).toBe('0123456789');
    rig.runFor(10 * charNs);
    expect(rig.in8(IIR)).toBe(0xc1);                        // no timeout with an empty FIFO
  });

  it('supports all four trigger levels', () => {
    for (const [fcr, level] of [[0x01, 1], [0x41, 4], [0x81, 8], [0xc1, 14]]) {
      const { rig, backend, charNs } = setup();
      rig.out8(0x3fa, fcr); rig.out8(IER, 0x01);
      backend.inject('abcdefghijklmnop');
      rig.runFor((level - 1) * charNs);
      expect(rig.in8(IIR) & 0x0f).toBe(0x01);
      rig.runFor(charNs);
      expect(rig.in8(IIR) & 0x0f).toBe(0x04);
    }
  });

  it('without FIFOs interrupts on each character and overruns on the second', () => {
    const { rig, backend, charNs } = setup();
    rig.out8(IER, 0x05);
    backend.inject('a');
    rig.runFor(charNs);
    expect(rig.in8(IIR)).toBe(0x04);
    rig.out8(MCR, 0x10);                                    // loopback: transmitted bytes come back
    rig.out8(B, 0x62);
    expect(rig.in8(IIR)).toBe(0x06);                        // overrun: line status first
    expect(rig.in8(LSR) & 0x03).toBe(0x03);
    expect(rig.in8(LSR) & 0x02).toBe(0);                    // read-to-clear
    expect(rig.in8(RBR)).toBe(0x62);                        // the newer byte replaced the older
  });

  it('holds host input back while the receiver is full instead of overrunning', () => {
    const { rig, backend, charNs } = setup();
    backend.inject('abc');
    let got = '';
    for (let i = 0; i < 3; i++) {
      rig.runFor(10 * charNs);                              // a slow guest
      expect(rig.in8(LSR) & 0x03).toBe(0x01);               // data ready, no overrun
      got += String.fromCharCode(rig.in8(RBR));
    }
    expect(got).toBe('abc');
  });

  it('orders interrupt sources: line status > RX data > THRE > modem status', () => {
    const { rig, irq } = setup();
    rig.out8(0x3fa, 0x07);                                  // FIFO, trigger 1
    rig.out8(MCR, 0x18);                                    // loopback, OUT2
    for (let i = 0; i < 17; i++) rig.out8(B, 0x30 + i);     // 17 bytes into a 16-byte FIFO: overrun
    rig.out8(MCR, 0x1a);                                    // RTS on: CTS delta
    rig.out8(IER, 0x0f);
    expect(irq.level).toBe(true);
    expect(rig.in8(IIR)).toBe(0xc6);
    expect(rig.in8(LSR) & 0x03).toBe(0x03);
    expect(rig.in8(IIR)).toBe(0xc4);
    for (let i = 0; i < 16; i++) expect(rig.in8(RBR)).toBe(0x30 + i);
    expect(rig.in8(IIR)).toBe(0xc2);                        // THRE (set by enabling ETBEI)
    expect(rig.in8(IIR)).toBe(0xc0);                        // modem status
    expect(rig.in8(MSR)).toBe(0x80 | 0x10 | 0x02 | 0x01);   // DCD (OUT2), CTS (RTS), deltas DSR and CTS
    expect(rig.in8(IIR)).toBe(0xc1);
    expect(irq.level).toBe(false);
  });

  it('loops MCR to MSR in loopback, with delta and trailing-edge RI bits', () => {
    const { rig, backend } = setup();
    rig.out8(MCR, 0x10);
    expect(rig.in8(MSR)).toBe(0x00 | 0x0b);                 // leaving the line: CTS, DSR, DCD dropped
    rig.out8(MCR, 0x1f);
    expect(rig.in8(MSR)).toBe(0xf0 | 0x0b);
    rig.out8(MCR, 0x1b);                                    // OUT1 (RI) off: trailing edge
    expect(rig.in8(MSR)).toBe(0xb0 | 0x04);
    rig.out8(B, 0x55);
    expect(backend.output).toEqual([]);                     // nothing on the wire
    expect(rig.in8(RBR)).toBe(0x55);
  });

  it('clears the receive FIFO through FCR and reports FIFO state in IIR', () => {
    const { rig, backend, charNs } = setup();
    rig.out8(0x3fa, 0x01);
    expect(rig.in8(IIR) & 0xc0).toBe(0xc0);
    backend.inject('abc');
    rig.runFor(3 * charNs);
    rig.out8(0x3fa, 0x03);
    expect(rig.in8(LSR) & 1).toBe(0);
    rig.out8(0x3fa, 0x00);
    expect(rig.in8(IIR) & 0xc0).toBe(0);
  });

  it('paces transmission in character times when asked', () => {
    const { rig, backend, charNs } = setup({ paceTransmit: true });
    rig.out8(0x3fa, 0x01);
    for (const c of 'xyz') rig.out8(B, c.charCodeAt(0));
    expect(rig.in8(LSR) & 0x60).toBe(0);                    // two bytes wait behind the shift register
    rig.runFor(charNs);
    expect(backend.text()).toBe('x');
    rig.runFor(charNs);
    expect(rig.in8(LSR) & 0x60).toBe(0x20);                 // holding empty, 'z' still shifting
    rig.runFor(charNs);
    expect(backend.text()).toBe('xyz');
    expect(rig.in8(LSR) & 0x60).toBe(0x60);
  });

  it('reports a received break', () => {
    const { rig, uart } = setup();
    rig.out8(0x3fa, 0x01); rig.out8(IER, 0x04);
    uart.receiveBreak();
    expect(rig.in8(IIR)).toBe(0xc6);
    expect(rig.in8(LSR)).toBe(0x80 | 0x60 | 0x10 | 0x01);
    expect(rig.in8(RBR)).toBe(0);
  });

  it('saves and restores registers, FIFO contents and pending timers', () => {
    const a = setup();
    a.rig.out8(0x3fa, 0x81); a.rig.out8(IER, 0x01); a.rig.out8(MCR, 0x0b);
    a.backend.inject('hello');
    a.rig.runFor(3 * a.charNs);
    const blob = saveState(a.uart.stateDesc, a.uart);
    const b = setup();
    loadState(b.uart.stateDesc, b.uart, blob);
    expect(b.rig.in8(MCR)).toBe(0x0b);
    expect([b.rig.in8(RBR), b.rig.in8(RBR), b.rig.in8(RBR)]).toEqual([0x68, 0x65, 0x6c]);
    expect(b.rig.in8(IIR)).toBe(0xc1);
  });
});
