// x87 throughput through Fpu.execute() (decode + stack + softfloat), register operands.
// Prints one line: fpu-bench: fadd=… fmul=… fdiv=… fsqrt=… fsin=… Mops/s
import { Fpu, type FpuHost } from '../src/cpu/fpu/fpu.ts';

const mem = new Uint8Array(0x1000);
const host: FpuHost = {
  read8: (_s, o) => mem[o], read16: (_s, o) => mem[o] | (mem[o + 1] << 8),
  read32: (_s, o) => mem[o] | (mem[o + 1] << 8) | (mem[o + 2] << 16) | (mem[o + 3] << 24),
  write8: (_s, o, v) => { mem[o] = v; }, write16: (_s, o, v) => { mem[o] = v; mem[o + 1] = v >> 8; },
  write32: (_s, o, v) => { mem[o] = v; mem[o + 1] = v >> 8; mem[o + 2] = v >> 16; mem[o + 3] = v >> 24; },
  getEflags: () => 2, setEflagsZPC: () => {}, setAX: () => {}, protectedMode: () => true,
  raiseMathFault: () => { throw new Error('#MF'); }, setFerr: () => {}, numericErrorNative: () => true,
  raiseGeneralProtection: () => { throw new Error('#GP'); }, raiseInvalidOpcode: () => { throw new Error('#UD'); },
};
const fpu = new Fpu(host);

/** ST1 = k (a double), ST0 = x; then `ops` repeated n times; returns millions of instructions per second. */
function measure(k: number, x: number, ops: number[][], n: number): number {
  const v = new DataView(mem.buffer);
  fpu.execute(0xdb, 0xe3, 3, 0, true, 0, 0, 0);
  v.setFloat64(0x100, k, true); fpu.execute(0xdd, 0x05, 3, 0x100, true, 0, 0, 0);
  v.setFloat64(0x100, x, true); fpu.execute(0xdd, 0x05, 3, 0x100, true, 0, 0, 0);
  const code = Int32Array.from(ops.flat()), len = code.length;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) for (let k = 0; k < len; k += 2) fpu.execute(code[k], code[k + 1], 0, 0, true, i, 8, 0);
  const ns = Number(process.hrtime.bigint() - t0);
  return (n * ops.length) / ns * 1e3;
}

const FADD = [0xd8, 0xc1], FSUB = [0xd8, 0xe1], FMUL = [0xd8, 0xc9], FDIV = [0xd8, 0xf1], FSQRT = [0xd9, 0xfa], FSIN = [0xd9, 0xfe];
const best = (f: () => number) => Math.max(f(), f(), f());
measure(1.1, 1.3, [FADD, FSUB, FMUL, FDIV, FSQRT], 200000); // warm up
const fadd = best(() => measure(1.000001, 1.3, [FADD, FSUB], 2e6));
const fmul = best(() => measure(1.0000001, 1.3, [FMUL], 2e6));
const fdiv = best(() => measure(1.0000001, 1.3, [FDIV], 2e6));
const fsqrt = best(() => measure(1.0, 1.3e6, [FSQRT], 1e6)); // the cost does not depend on the value
const fsin = best(() => measure(1.0, 0.7, [FSIN], 2e4));
const f = (x: number) => x.toFixed(x < 1 ? 3 : 1);
console.log(`fpu-bench: fadd=${f(fadd)} fmul=${f(fmul)} fdiv=${f(fdiv)} fsqrt=${f(fsqrt)} fsin=${f(fsin)} Mops/s`);
