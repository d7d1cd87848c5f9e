/** A flat-memory FpuHost for tests and benchmarks, and the replay of golden-vector lines. */
import { Fpu, type FpuHost } from '../../src/cpu/fpu/fpu.ts';

export class Fault extends Error {}

export class TestHost implements FpuHost {
  mem = new Uint8Array(0x10000);
  eflags = 0x202;
  ax = 0;
  prot = true;
  ne = true;
  ferr = false;
  faults: string[] = [];
  read8(_s: number, o: number): number { return this.mem[o & 0xffff]; }
  read16(s: number, o: number): number { return this.read8(s, o) | (this.read8(s, o + 1) << 8); }
  read32(s: number, o: number): number { return (this.read16(s, o) | (this.read16(s, o + 2) << 16)) | 0; }
  write8(_s: number, o: number, v: number): void { this.mem[o & 0xffff] = v; }
  write16(s: number, o: number, v: number): void { this.write8(s, o, v & 0xff); this.write8(s, o + 1, (v >>> 8) & 0xff); }
  write32(s: number, o: number, v: number): void { this.write16(s, o, v & 0xffff); this.write16(s, o + 2, (v >>> 16) & 0xffff); }
  getEflags(): number { return this.eflags; }
  setEflagsZPC(zf: boolean, pf: boolean, cf: boolean): void {
    this.eflags = (this.eflags & ~0x8d5) | (zf ? 0x40 : 0) | (pf ? 4 : 0) | (cf ? 1 : 0);
  }
  setAX(v: number): void { this.ax = v; }
  protectedMode(): boolean { return this.prot; }
  raiseMathFault(): never { this.faults.push('MF'); throw new Fault('#MF'); }
  setFerr(a: boolean): void { this.ferr = a; }
  numericErrorNative(): boolean { return this.ne; }
  raiseGeneralProtection(): never { this.faults.push('GP'); throw new Fault('#GP'); }
  raiseInvalidOpcode(): never { this.faults.push('UD'); throw new Fault('#UD'); }

  hex(addr: number, len: number): string {
    let s = '';
    for (let i = len - 1; i >= 0; i--) s += this.mem[addr + i].toString(16).padStart(2, '0');
    return s;
  }
  setHex(addr: number, hex: string): void {
    const n = hex.length / 2;
    for (let i = 0; i < n; i++) this.mem[addr + i] = parseInt(hex.substr(hex.length - 2 * (i + 1), 2), 16);
  }
}

/** Execute helpers: memory operand at a fixed address. */
export function exec(fpu: Fpu, opcode: number, modrm: number, offset = 0, o32 = true): void {
  fpu.execute(opcode, modrm, 3, offset, o32, 0x1000, 0x08, 0x10);
}

const A_CW = 0x100, A_B = 0x110, A_A = 0x120, A_MEM = 0x200, A_SAVE = 0x300;

export interface GoldenResult { sw: string; tw: string; st: string[]; mem: string; flags: string }

/** Replays one generator line (format in tools/fpu/x87gen.c) and returns what soulvm produces. */
export function replay(fpu: Fpu, host: TestHost, line: string): { expect: GoldenResult; got: GoldenResult; op: string } {
  const [lhs, rhs] = line.split(' : ');
  const [opc, modrm, cw, flags, a, b, mem, setup] = lhs.split(' ');
  const [sw, tw, st0, st1, st2, memout, eflags] = rhs.split(' ');
  const op = parseInt(opc, 16), m = parseInt(modrm, 16);
  host.faults = [];
  exec(fpu, 0xdb, 0xe3); // FNINIT
  host.setHex(A_CW, cw); exec(fpu, 0xd9, 0x28, A_CW);
  host.setHex(A_B, '40008000000000000000');
  if (setup === 'f') for (let i = 0; i < 6; i++) exec(fpu, 0xdb, 0x28, A_B); // six 2.0 below: full stack
  host.setHex(A_B, b); if (setup === 'n' || setup === 'f') exec(fpu, 0xdb, 0x28, A_B);
  host.setHex(A_A, a); if (setup !== 'e') exec(fpu, 0xdb, 0x28, A_A);
  if (mem !== '-') host.setHex(A_MEM, mem);
  host.eflags = parseInt(flags, 16);
  try { exec(fpu, op, m, A_MEM); } catch (e) { if (!(e instanceof Fault)) throw e; }
  exec(fpu, 0xdd, 0x30, A_SAVE); // FNSAVE
  const got: GoldenResult = {
    sw: host.hex(A_SAVE + 4, 2), tw: host.hex(A_SAVE + 8, 2),
    st: [0, 1, 2].map((i) => host.hex(A_SAVE + 28 + 10 * i, 10)),
    mem: mem === '-' ? '-' : host.hex(A_MEM, mem.length / 2),
    flags: (host.eflags & 0x8d5).toString(16).padStart(2, '0'),
  };
  const expect: GoldenResult = { sw, tw, st: [st0, st1, st2], mem: memout, flags: eflags.padStart(2, '0') };
  // Empty registers hold leftovers of earlier computations on the oracle: not comparable.
  const top = (parseInt(sw, 16) >> 11) & 7, tags = parseInt(tw, 16);
  for (let i = 0; i < 3; i++) if (((tags >> (2 * ((top + i) & 7))) & 3) === 3) got.st[i] = expect.st[i] = 'empty';
  return { op: `${opc} ${modrm}`, got, expect };
}
