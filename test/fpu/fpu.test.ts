/**
 * Unit tests of the x87's architectural state: stack faults, tags, exceptions and their delivery
 * (#MF / FERR#), environment and save-area layouts (Intel SDM vol. 1 §8.1, figures 8-9..8-12,
 * table 10-2), the saved-state description, and robustness against arbitrary encodings.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { Fpu, FpuStateError, MXCSR_MASK } from '../../src/cpu/fpu/fpu.ts';
import { TestHost, Fault, exec } from './harness.ts';

const FNINIT = [0xdb, 0xe3], FLD1 = [0xd9, 0xe8], FLDZ = [0xd9, 0xee], FLDPI = [0xd9, 0xeb];
const IE = 1, DE = 2, ZE = 4, SF = 0x40, ES = 0x80, C1 = 0x200, B = 0x8000;

let host: TestHost, fpu: Fpu;
const run = (op: number[], off = 0, o32 = true) => exec(fpu, op[0], op[1], off, o32);
const fldcw = (cw: number) => { host.write16(3, 0x80, cw); exec(fpu, 0xd9, 0x28, 0x80); };
const st = (i: number) => fpu.stBigInt(i).toString(16).padStart(20, '0');
const load80 = (hex: string) => { host.setHex(0x90, hex); exec(fpu, 0xdb, 0x28, 0x90); };

beforeEach(() => { host = new TestHost(); fpu = new Fpu(host); run(FNINIT); });

describe('power-on and FNINIT', () => {
  it('reset gives the SDM table 9-1 state; FNINIT the documented defaults', () => {
    const f = new Fpu(new TestHost());
    expect([f.controlWord, f.statusWord, f.tagWord, f.mxcsr, f.stBigInt(7)]).toEqual([0x0040, 0, 0x5555, 0x1f80, 0n]);
    run(FLD1); fldcw(0x0c00);
    run(FNINIT);
    expect([fpu.controlWord, fpu.statusWord, fpu.tagWord, fpu.fip, fpu.fop, fpu.fdp]).toEqual([0x037f, 0, 0xffff, 0, 0, 0]);
  });
  it('FLDCW keeps only the defined bits and forces bit 6 (as the oracle reads it back)', () => {
    fldcw(0xffff); expect(fpu.controlWord).toBe(0x1f7f);
    fldcw(0x0000); expect(fpu.controlWord).toBe(0x0040);
  });
});

describe('register stack', () => {
  it('tags follow the contents (valid, zero, special, empty) in physical order', () => {
    run(FLD1); run(FLDZ); load80('7fff8000000000000000'); load80('00000000000000000001'); load80('3fff4000000000000000');
    // TOP=3: ST0=phys3 unnormal(special) ST1=phys4 denormal(special) ST2=phys5 inf(special) ST3=phys6 zero ST4=phys7 valid
    expect(fpu.tagWord.toString(2).padStart(16, '0')).toBe('0001101010111111');
    expect((fpu.statusWord >> 11) & 7).toBe(3);
  });
  it('stack overflow: IE+SF, C1=1; masked pushes the indefinite, unmasked leaves the stack', () => {
    for (let i = 0; i < 8; i++) run(FLD1);
    run(FLDPI);
    expect(fpu.statusWord & 0x3ff).toBe(IE | SF | C1);
    expect(st(0)).toBe('ffffc000000000000000');
    run(FNINIT); fldcw(0x037e);
    for (let i = 0; i < 8; i++) run(FLD1);
    const top = (fpu.statusWord >> 11) & 7;
    run(FLDPI);
    expect(fpu.statusWord & 0xffff).toBe(B | (top << 11) | C1 | ES | SF | IE);
    expect(st(0)).toBe('3fff8000000000000000');
  });
  it('stack underflow: IE+SF, C1=0; masked writes the indefinite, FADDP still pops', () => {
    run(FLD1);
    exec(fpu, 0xde, 0xc1); // FADDP ST(1), ST(0) with ST(1) empty
    expect(fpu.statusWord & 0x3ff).toBe(IE | SF);
    expect(fpu.isEmpty(0)).toBe(false);
    expect(st(0)).toBe('ffffc000000000000000');
    expect(fpu.isEmpty(1)).toBe(true);
  });
  it('FXCH, FST ST(i), FLD ST(i), FFREE, FFREEP, FINCSTP, FDECSTP', () => {
    run(FLD1); run(FLDPI);
    exec(fpu, 0xd9, 0xc9); expect(st(0)).toBe('3fff8000000000000000'); expect(st(1)).toBe('4000c90fdaa22168c235');
    exec(fpu, 0xd9, 0xc1); expect(st(0)).toBe('4000c90fdaa22168c235'); expect(fpu.isEmpty(2)).toBe(false);
    exec(fpu, 0xdd, 0xd2); expect(st(2)).toBe('4000c90fdaa22168c235');
    exec(fpu, 0xdd, 0xc0); expect(fpu.isEmpty(0)).toBe(true);
    exec(fpu, 0xd9, 0xf7); expect(st(0)).toBe('3fff8000000000000000');
    exec(fpu, 0xd9, 0xf6); expect(fpu.isEmpty(0)).toBe(true);
    exec(fpu, 0xdf, 0xc1); // FFREEP ST(1): frees ST(1), pops
    expect(fpu.isEmpty(0)).toBe(true);
    expect(fpu.statusWord & C1).toBe(0);
  });
  it('FNSTSW AX and FNSTSW m16 report TOP and the condition codes', () => {
    run(FLD1); run(FLDZ);
    exec(fpu, 0xd8, 0xd1); // FCOM: 0 < 1 → C0
    exec(fpu, 0xdf, 0xe0);
    expect(host.ax).toBe((6 << 11) | 0x100);
    exec(fpu, 0xdd, 0x38, 0x40);
    expect(host.read16(3, 0x40)).toBe(host.ax);
  });
});

describe('exceptions: #MF and FERR#', () => {
  const divByZero = () => { run(FLD1); run(FLDZ); exec(fpu, 0xd8, 0xf9); }; // FDIVR: 1/0
  it('a masked exception only sets its flag', () => {
    divByZero();
    expect(fpu.statusWord & 0xff).toBe(ZE);
    expect(st(0)).toBe('7fff8000000000000000');
  });
  it('an unmasked exception leaves the destination, sets ES/B, and the next waiting instruction faults (CR0.NE=1)', () => {
    fldcw(0x037b);
    divByZero();
    expect(fpu.statusWord & (B | ES | ZE)).toBe(B | ES | ZE);
    expect(st(0)).toBe('00000000000000000000');
    expect(() => run(FLD1)).toThrow(Fault);
    expect(host.faults).toEqual(['MF']);
    expect(() => fpu.wait()).toThrow(Fault);
    // Non-waiting control instructions go through.
    exec(fpu, 0xdf, 0xe0); exec(fpu, 0xd9, 0x38, 0x40); exec(fpu, 0xd9, 0x30, 0x100);
    expect(host.faults).toEqual(['MF', 'MF']);
    exec(fpu, 0xdb, 0xe2); // FNCLEX
    expect(fpu.statusWord & 0x80ff).toBe(0);
    run(FLD1);
    expect(host.faults).toEqual(['MF', 'MF']);
  });
  it('FERR# is asserted when the unmasked exception completes (P6) and dropped when the flags are cleared; CR0.NE=0 does not fault', () => {
    host.ne = false;
    fldcw(0x037b);
    divByZero();
    expect(host.ferr).toBe(true);
    fpu.wait(); run(FLD1);
    expect(host.faults).toEqual([]);
    exec(fpu, 0xdb, 0xe2);
    expect(host.ferr).toBe(false);
    divByZero();
    expect(host.ferr).toBe(true);
    exec(fpu, 0xdd, 0x30, 0x200); // FNSAVE reinitializes
    expect(host.ferr).toBe(false);
  });
  it('FNSTENV masks every exception, so nothing stays pending (flags kept; as on the oracle: b084 → 3004)', () => {
    fldcw(0x037b);
    divByZero();
    expect(fpu.statusWord).toBe(0xb084);
    exec(fpu, 0xd9, 0x30, 0x100);
    expect([fpu.statusWord, host.read16(3, 0x104)]).toEqual([0x3004, 0xb084]);
    run(FLD1);
    expect(host.faults).toEqual([]);
  });
  it('FLDCW that unmasks a raised flag makes it pending', () => {
    divByZero();
    expect(fpu.statusWord & ES).toBe(0);
    fldcw(0x037b);
    expect(fpu.statusWord & (ES | B)).toBe(ES | B);
    host.ne = false; // FLDCW waits: let it through on the FERR# path
    fldcw(0x037f);
    expect(fpu.statusWord & (ES | B)).toBe(0);
  });
  it('an unmasked denormal operand stops the arithmetic', () => {
    fldcw(0x037d);
    load80('00000000000000000001'); run(FLD1);
    exec(fpu, 0xd8, 0xc1);
    expect(fpu.statusWord & 0xff).toBe(ES | DE);
    expect(st(0)).toBe('3fff8000000000000000');
  });
});

describe('instruction and operand pointers', () => {
  it('FIP/FCS/FOP track the last non-control instruction, FDP/FDS its memory operand', () => {
    host.write32(3, 0x44, 0x3f800000);
    fpu.execute(0xd9, 0x05, 3, 0x44, true, 0x1234, 0x1b, 0x23); // FLD m32
    fpu.execute(0xd9, 0x38, 3, 0x60, true, 0x9999, 0x77, 0x77); // FNSTCW: control, no update
    expect([fpu.fip, fpu.fcs, fpu.fop, fpu.fdp, fpu.fds]).toEqual([0x1234, 0x1b, 0x105, 0x44, 0x23]);
    fpu.execute(0xd8, 0xc0, 0, 0, true, 0x2000, 0x1b, 0);
    expect([fpu.fip, fpu.fop, fpu.fdp]).toEqual([0x2000, 0x0c0, 0x44]);
  });
});

describe('FSTENV/FSAVE/FRSTOR layouts (SDM figures 8-9..8-12)', () => {
  const setup = () => {
    run(FLD1); run(FLDPI);
    fpu.execute(0xd8, 0xc1, 0, 0, true, 0x12345, 0x1b, 0); // FADD: FOP 0x0c1
    host.write32(3, 0x44, 0);
    fpu.execute(0xd8, 0x05, 3, 0x1f044, true, 0x12350, 0x1b, 0x2b); // FADD m32: FOP 0x005
  };
  it('32-bit protected mode', () => {
    setup();
    exec(fpu, 0xd9, 0x30, 0x100);
    const d = (i: number) => host.read32(3, 0x100 + 4 * i) >>> 0;
    expect(d(0)).toBe(0xffff037f);
    expect(d(1)).toBe((0xffff0000 | fpu.statusWord) >>> 0);
    expect(d(2)).toBe(0xffff0fff); // ST0, ST1 valid at phys 6, 7
    expect([d(3), d(4), d(5), d(6)]).toEqual([0x12350, (0x005 << 16) | 0x1b, 0x1f044, 0xffff002b]);
    expect(fpu.controlWord).toBe(0x037f); // FNSTENV masks all exceptions (they were masked already)
  });
  it('16-bit protected mode', () => {
    setup();
    exec(fpu, 0xd9, 0x30, 0x100, false);
    const w = (i: number) => host.read16(3, 0x100 + 2 * i);
    expect([w(0), w(1), w(2), w(3), w(4), w(5), w(6)]).toEqual([0x037f, fpu.statusWord, 0x0fff, 0x2350, 0x1b, 0xf044, 0x2b]);
  });
  it('32-bit and 16-bit real mode store linear 20/32-bit pointers split around the opcode', () => {
    host.prot = false;
    setup();
    const fip = 0x1b * 16 + 0x12350, fdp = 0x2b * 16 + 0x1f044;
    exec(fpu, 0xd9, 0x30, 0x100);
    const d = (i: number) => host.read32(3, 0x100 + 4 * i) >>> 0;
    expect([d(3) & 0xffff, d(4), d(5) & 0xffff, d(6)]).toEqual([fip & 0xffff, ((fip >>> 16) << 12) | 0x005, fdp & 0xffff, (fdp >>> 16) << 12]);
    exec(fpu, 0xd9, 0x30, 0x200, false);
    const w = (i: number) => host.read16(3, 0x200 + 2 * i);
    expect([w(3), w(4), w(5), w(6)]).toEqual([fip & 0xffff, ((fip >>> 16) & 0xf) << 12 | 0x005, fdp & 0xffff, ((fdp >>> 16) & 0xf) << 12]);
  });
  it('FSAVE stores ST0..ST7 after the environment, reinitializes; FRSTOR round-trips', () => {
    for (const o32 of [true, false]) for (const prot of [true, false]) {
      run(FNINIT); host.prot = prot;
      setup(); load80('00000000000000000001');
      fldcw(0x0b72);
      const before = { sw: fpu.statusWord, cw: fpu.controlWord, tw: fpu.tagWord, st: [0, 1, 2, 3].map(st) };
      exec(fpu, 0xdd, 0x30, 0x400, o32);
      const envSize = o32 ? 28 : 14;
      expect(host.hex(0x400 + envSize, 10)).toBe(before.st[0]);
      expect(host.hex(0x400 + envSize + 30, 10)).toBe(before.st[3]);
      expect([fpu.controlWord, fpu.statusWord, fpu.tagWord]).toEqual([0x037f, 0, 0xffff]);
      exec(fpu, 0xdd, 0x20, 0x400, o32);
      expect({ sw: fpu.statusWord, cw: fpu.controlWord, tw: fpu.tagWord, st: [0, 1, 2, 3].map(st) }).toEqual(before);
      if (o32 && prot) expect([fpu.fip, fpu.fcs, fpu.fop, fpu.fdp, fpu.fds]).toEqual([0x1000, 8, 0x328, 0x90, 0x10]); // the FLD m80
    }
  });
  it('FLDENV takes emptiness from the tag word; the full tags are recomputed from the registers', () => {
    run(FLD1); run(FLDZ);
    exec(fpu, 0xd9, 0x30, 0x100);
    host.write16(3, 0x108, 0x0000); // claim all valid
    exec(fpu, 0xd9, 0x20, 0x100);
    expect(fpu.tagWord & 0xf000).toBe(0x1000); // phys 6 = zero, phys 7 = valid
    expect(fpu.isEmpty(2)).toBe(false);
  });
});

describe('FXSAVE/FXRSTOR (SDM table 10-2)', () => {
  it('stores the 512-byte legacy layout and round-trips', () => {
    run(FLD1); run(FLDPI);
    fpu.execute(0xd8, 0xc1, 0, 0, true, 0x12345, 0x1b, 0);
    fpu.mxcsr = 0x1f80 | 0x2000;
    host.mem.fill(0xaa, 0x1000, 0x1200);
    fpu.fxsave(3, 0x1000);
    const r16 = (o: number) => host.read16(3, 0x1000 + o), r32 = (o: number) => host.read32(3, 0x1000 + o) >>> 0;
    expect([r16(0), r16(2), host.mem[0x1004], host.mem[0x1005], r16(6)]).toEqual([0x037f, fpu.statusWord, 0xc0, 0, 0x0c1]);
    expect([r32(8), r32(12), r32(16), r32(20), r32(24), r32(28)]).toEqual([0x12345, 0x1b, 0, 0, 0x3f80, MXCSR_MASK]);
    expect(host.hex(0x1000 + 32, 16)).toBe('000000000000' + st(0));
    expect(host.hex(0x1000 + 48, 10)).toBe(st(1));
    expect(host.hex(0x1000 + 160, 16)).toBe('0'.repeat(32));
    expect(host.mem[0x1000 + 464]).toBe(0xaa); // available-to-software bytes untouched
    const before = { sw: fpu.statusWord, tw: fpu.tagWord, st: [st(0), st(1)] };
    run(FNINIT); fpu.mxcsr = 0x1f80;
    fpu.fxrstor(3, 0x1000);
    expect({ sw: fpu.statusWord, tw: fpu.tagWord, st: [st(0), st(1)] }).toEqual(before);
    expect([fpu.mxcsr, fpu.fip, fpu.fop]).toEqual([0x3f80, 0x12345, 0x0c1]);
  });
  it('#GP on reserved MXCSR bits and on a misaligned area', () => {
    fpu.fxsave(3, 0x1000);
    host.write32(3, 0x1018, 0x10000);
    expect(() => fpu.fxrstor(3, 0x1000)).toThrow(Fault);
    expect(() => fpu.fxsave(3, 0x1008)).toThrow(Fault);
    expect(host.faults).toEqual(['GP', 'GP']);
  });
});

describe('decoding', () => {
  it('reserved encodings and FISTTP (SSE3) raise #UD', () => {
    for (const [op, modrm] of [[0xd9, 0xd1], [0xd9, 0xe2], [0xd9, 0xef], [0xd9, 0x08], [0xdb, 0x08], [0xdd, 0x08], [0xdf, 0x08], [0xdd, 0x28], [0xdf, 0xe1], [0xde, 0xd8], [0xda, 0xe8], [0xdb, 0xe5]]) {
      host.faults = [];
      expect(() => exec(fpu, op, modrm, 0x100)).toThrow(Fault);
      expect(host.faults).toEqual(['UD']);
    }
  });
  it('#UD comes before a pending exception and leaves FIP alone', () => {
    fldcw(0x037b);
    run(FLD1); run(FLDZ); exec(fpu, 0xd8, 0xf9); // pending ZE
    const fip = fpu.fip;
    host.faults = [];
    expect(() => fpu.execute(0xdb, 0x08, 3, 0x100, true, 0x7777, 8, 16)).toThrow(Fault); // FISTTP m32
    expect([host.faults, fpu.fip]).toEqual([['UD'], fip]);
  });
  it('the P6 aliases: FCOMP5 (DE D0+i) pops, FCOM2 (DC D0+i) does not', () => {
    run(FLD1); run(FLDZ); run(FLDZ);
    exec(fpu, 0xdc, 0xd1);
    expect((fpu.statusWord >> 11) & 7).toBe(5);
    exec(fpu, 0xde, 0xd1);
    expect([(fpu.statusWord >> 11) & 7, fpu.statusWord & 0x4500]).toEqual([6, 0x4000]); // 0 = 0: C3
  });
  it('FENI/FDISI/FSETPM are no-ops; FCMOVcc reads EFLAGS', () => {
    run(FLD1); run(FLDPI);
    for (const m of [0xe0, 0xe1, 0xe4]) exec(fpu, 0xdb, m);
    host.eflags = 0x41; // ZF CF
    exec(fpu, 0xdb, 0xc9); // FCMOVNE: not taken
    expect(st(0)).toBe('4000c90fdaa22168c235');
    exec(fpu, 0xda, 0xc9); // FCMOVE: taken
    expect(st(0)).toBe('3fff8000000000000000');
  });
  it('arbitrary encodings on arbitrary state throw nothing but the host\'s faults', () => {
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 8; };
    for (let i = 0; i < 0x1000; i++) host.mem[i] = rnd() & 0xff;
    for (let n = 0; n < 30000; n++) {
      const op = 0xd8 + (rnd() & 7), modrm = rnd() & 0xff;
      if (n % 500 === 0) fldcw(rnd() & 0xffff);
      try { fpu.execute(op, modrm, 3, rnd() & 0x7ff, (rnd() & 1) === 0, n, 8, 16); }
      catch (e) { if (!(e instanceof Fault)) throw e; run(FNINIT); }
      host.prot = (rnd() & 1) === 0;
    }
  });
});

describe('memory faults', () => {
  it('a faulting operand access leaves the FPU as it was, so the instruction can restart', () => {
    run(FLD1); run(FLDPI);
    fldcw(0x037f & ~0x20); // PE unmasked: the inexact store would also set ES
    const before = fpu.saveState();
    const failing = new Set([0xf00]);
    const write8 = host.write8.bind(host), read8 = host.read8.bind(host);
    host.write8 = (sg, o, v) => { if (failing.has(o)) throw new Fault('#PF'); write8(sg, o, v); };
    host.read8 = (sg, o) => { if (failing.has(o)) throw new Fault('#PF'); return read8(sg, o); };
    const ops: [number, number][] = [[0xdd, 0x18], [0xd9, 0x18], [0xdf, 0x38], [0xdb, 0x18], [0xdf, 0x30], [0xdb, 0x38], [0xdd, 0x00], [0xdc, 0x00], [0xdb, 0x28], [0xdd, 0x20], [0xd9, 0x20]];
    for (const [op, modrm] of ops) {
      expect(() => exec(fpu, op, modrm, 0xf00)).toThrow(Fault);
      const after = fpu.saveState();
      expect({ ...after, fip: 0, fop: 0, fdp: 0, fcs: 0, fds: 0 }).toEqual({ ...before, fip: 0, fop: 0, fdp: 0, fcs: 0, fds: 0 });
    }
  });
});

describe('saved state', () => {
  it('round-trips every field and rejects malformed input', () => {
    run(FLD1); run(FLDPI); fldcw(0x0a7b); run(FLDZ); exec(fpu, 0xd8, 0xf1);
    const s = fpu.saveState();
    const other = new Fpu(new TestHost());
    other.loadState(JSON.parse(JSON.stringify(s)));
    expect(other.saveState()).toEqual(s);
    expect([other.statusWord, other.tagWord, other.stBigInt(1)]).toEqual([fpu.statusWord, fpu.tagWord, fpu.stBigInt(1)]);
    expect(() => other.loadState({ ...s, version: 99 })).toThrow(FpuStateError);
    expect(() => other.loadState({ ...s, regHi: [1, 2] })).toThrow(FpuStateError);
    expect(() => other.loadState({ ...s, cw: 'x' as unknown as number })).toThrow(FpuStateError);
    expect(other.saveState()).toEqual(s); // a rejected load changes nothing
  });
});
