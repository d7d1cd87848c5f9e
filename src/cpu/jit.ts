// The JIT: hot decoded blocks (blocks.ts) compiled to JavaScript functions.
//
// A block that has run `threshold` times is translated, instruction record by record, into the
// source of one function. The frequent simple forms are inlined: their operands become register
// and memory expressions, specialised on the decoded ModRM, operand size and immediates, and
// their semantics are the Cpu's own definitions (cpu.alu, cpu.inc, cpu.condition, shift …),
// called with constant arguments so that V8 inlines and folds them. Everything else is a call
// to the interpreter's handler with the block's own instruction record. No instruction's
// semantics are written here a second time; what the compiler adds is operand access (the TLB
// fast path inline, the Cpu's checked accessors as the slow path), the stack-pointer update of
// the inlined PUSH/POP/CALL/RET, and control flow: the direct compare of a CMP/TEST fused with
// the Jcc that follows it, and a block that jumps back to its own start compiled as a loop.
//
// The machine state a compiled block leaves is exactly the interpreter's, at every point
// where anything can observe it:
//  - Before anything that can fault or reach a device (a slow-path memory access, a handler
//    call) it stores instrStart and sliceRetired, so a fault is delivered at the right
//    instruction and a device reading virtual time mid-slice sees the right instant. Inlined
//    forms commit registers only after their last access that can fault.
//  - After every instruction that touches memory or calls a handler it checks `attention`
//    (an interrupt became pending, a store hit cached code, the fetch window changed) and
//    leaves at the next instruction, as the interpreter's block loop does.
//  - Lazy flags are left exactly as the interpreter leaves them.
// Compiled functions hang off their Block, so the block cache's invalidation drops them too.

import type { Cpu } from './cpu.ts';
import type { Block } from './blocks.ts';
import type { Instr } from './decoder.ts';
import { executeInstr, shift } from './interpreter.ts';

/**
 * A compiled block: runs from CS:EIP = the block's start; `left` is the instruction budget (≥ the
 * block's count). Returns the number of the exit it left by, the index into Block.links where the
 * run loop caches the block that followed that exit last time.
 */
export type CompiledBlock = (cpu: Cpu, left: number) => number;

/** Factory made by `new Function`: binds the typed-array views and helpers a compiled block uses. */
type BlockFactory = (
  cpu: Cpu, R: Int32Array, R16: Uint16Array, R8: Uint8Array, SB: Int32Array, SL: Int32Array,
  SFR: Uint8Array, SFW: Uint8Array, B: Uint8Array, W: Int32Array, CC: Uint32Array,
  I: Instr[], X: typeof executeInstr, SHIFT: typeof shift,
) => CompiledBlock;

export interface JitStats {
  /** Blocks compiled. */
  compiled: number;
  /** Host milliseconds spent generating and compiling code. */
  compileMs: number;
  /** Instructions of compiled blocks that were inlined / left to a handler call. */
  inlined: number;
  called: number;
}

const SS = 2, ESP = 4, EBP = 5, GP = 13;

/** Conditions (Jcc/SETcc/CMOVcc cc >> 1) a fused compare can test directly. */
const enum Fuse { None = 0, Sub = 1, Logic = 2, IncDec = 3 }

interface LastFlags { kind: Fuse; size: number; a: string; b: string; r: string }

export class Jit {
  readonly stats: JitStats = { compiled: 0, compileMs: 0, inlined: 0, called: 0 };

  /** Executions of a block before it is compiled (measured on the Linux boot; see bench/). */
  constructor(readonly threshold = 200) {}

  compile(cpu: Cpu, b: Block): CompiledBlock {
    const t0 = performance.now();
    const compiler = new BlockCompiler(b, this.stats);
    const source = compiler.source();
    const factory = new Function('cpu', 'R', 'R16', 'R8', 'SB', 'SL', 'SFR', 'SFW', 'B', 'W', 'CC', 'I', 'X', 'SHIFT', source) as BlockFactory;
    const fn = factory(cpu, cpu.regs, cpu.regs16, cpu.regs8, cpu.segBase, cpu.segLimit, cpu.segFastRead, cpu.segFastWrite,
      cpu.bytes, cpu.words, cpu.codeChunks, b.instrs, executeInstr, shift);
    b.links = new Array(compiler.exits).fill(null);
    this.stats.compiled++;
    this.stats.compileMs += performance.now() - t0;
    return fn;
  }
}

/** Register operand expressions by size index (0 = 8, 1 = 16, 2 = 32 bits). */
function reg(size: number, r: number): string {
  if (size === 2) return `R[${r}]`;
  if (size === 1) return `R16[${r << 1}]`;
  return `R8[${((r & 3) << 2) | (r >> 2)}]`;
}
const MASK = ['255', '65535', '-1'];
const SIGN = ['128', '32768', '-2147483648'];
const BYTES = [1, 2, 4];
const READ = ['read8', 'read16', 'read32'];
const WRITE = ['write8', 'write16', 'write32'];

class BlockCompiler {
  private readonly out: string[] = [];
  /** Byte offset of each instruction from the block start, and of the end. */
  private readonly offs: number[] = [];
  private loops = false;
  private last: LastFlags = { kind: Fuse.None, size: 0, a: '', b: '', r: '' };
  /** Index of the instruction being compiled. */
  private k = 0;
  /** Exits so far: each `return` of the compiled block returns its own number (see Block.links). */
  exits = 0;

  constructor(private readonly b: Block, private readonly stats: JitStats) {
    let off = 0;
    for (let i = 0; i < b.count; i++) { this.offs.push(off); off += b.instrs[i].len; }
    this.offs.push(off);
  }

  source(): string {
    const b = this.b;
    for (let k = 0; k < b.count; k++) {
      this.k = k;
      const ins = b.instrs[k];
      const before = this.out.length;
      const fused = this.last;
      this.last = { kind: Fuse.None, size: 0, a: '', b: '', r: '' };
      if (this.inline(ins, fused)) this.stats.inlined++;
      else { this.out.length = before; this.callHandler(ins); this.stats.called++; }
      if (ins.ends && !ins.cond) break; // unreachable past here (the block ends with it)
    }
    const lastIns = b.instrs[b.count - 1];
    if (!lastIns.ends || lastIns.cond) this.exit(this.eip(this.offs[b.count]), b.count); // ran off the end of the block
    const body = this.out.join('\n');
    return `return function block(cpu, left) {
const e = cpu.eip;
let s = cpu.sliceRetired;
const lim = s + left - ${b.count};
let a = 0, b = 0, r = 0, v = 0, ea = 0, lin = 0, t = 0, i = 0, f = 0;
${this.loops ? `for (;;) {\n${body}\n}` : body}
};`;
  }

  // ---- small pieces ------------------------------------------------------------------------

  private emit(line: string): void { this.out.push(line); }
  private eip(off: number): string { return `((e + ${off}) | 0)`; }
  private get next(): number { return this.offs[this.k + 1]; }
  /** State a fault or a device may observe: the instruction's start and the instructions retired before it. */
  private sync(): string { return `cpu.instrStart = ${this.eip(this.offs[this.k])}; cpu.sliceRetired = s + ${this.k};`; }
  private exit(eip: string, retired: number): void { this.emit(`cpu.eip = ${eip}; cpu.sliceRetired = s + ${retired}; return ${this.exits++};`); }
  /** Leave after this instruction when something needs the slow path. */
  private checkAttention(): void {
    if (this.k + 1 < this.b.count) this.emit(`if (cpu.attention) { cpu.eip = ${this.eip(this.next)}; cpu.sliceRetired = s + ${this.k + 1}; return ${this.exits++}; }`);
  }

  /** The interpreter's handler for this instruction, with EIP past it as the handlers expect. */
  private handlerCall(): string { return `cpu.eip = ${this.eip(this.next)}; ${this.sync()} X(cpu, I[${this.k}]);`; }

  private callHandler(ins: Instr): void {
    const next = this.eip(this.next);
    this.emit(this.handlerCall());
    if (ins.ends && !ins.cond || this.k + 1 === this.b.count) { this.emit(`cpu.sliceRetired = s + ${this.k + 1}; return ${this.exits++};`); return; }
    this.emit(`if (cpu.eip !== ${next} || cpu.attention) { cpu.sliceRetired = s + ${this.k + 1}; return ${this.exits++}; }`);
  }

  /** Jump to a target known at compile time: a loop back to the block start, or an exit. */
  private jumpTo(off: number, o32: boolean): void {
    if (o32 && off === 0) {
      this.loops = true;
      this.emit(`s += ${this.k + 1}; if (s > lim || cpu.attention) { cpu.eip = e; cpu.sliceRetired = s; return ${this.exits++}; } continue;`);
      return;
    }
    this.exit(o32 ? this.eip(off) : `((e + ${off}) & 65535)`, this.k + 1);
  }

  // ---- memory operands ---------------------------------------------------------------------

  /** `dst = [seg:off]` with the TLB fast path inline. `off` must be a local or a constant. */
  private load(size: number, seg: number, off: string, dst: string): void {
    this.emit(`lin = (SB[${seg}] + ${off}) | 0;`);
    const fast = size === 2 ? `(lin & 4095) <= 4092` : size === 1 ? `(lin & 4095) !== 4095` : 'true';
    this.emit(`if (SFR[${seg}] !== 0 && (t = cpu.tlbRead[lin >>> 12]) >= 0 && ${fast}) { i = t + (lin & 4095); ${dst} = ${this.at(size)}; }`);
    this.emit(`else { ${this.sync()} ${dst} = cpu.${READ[size]}(${seg}, ${off}); }`);
  }

  /** `[seg:off] = val` with the TLB fast path inline; a store into cached code is reported. */
  private store(size: number, seg: number, off: string, val: string): void {
    this.emit(`lin = (SB[${seg}] + ${off}) | 0;`);
    const fast = size === 2 ? `(lin & 4095) <= 4092` : size === 1 ? `(lin & 4095) !== 4095` : 'true';
    this.emit(`if (SFW[${seg}] !== 0 && (t = cpu.tlbWrite[lin >>> 12]) >= 0 && ${fast}) { i = t + (lin & 4095); ${this.put(size, val)}`);
    this.emit(`  if (CC[t >>> 12] !== 0) { ${this.sync()} cpu.mem.codeWritten(i, ${BYTES[size]}); } }`);
    this.emit(`else { ${this.sync()} cpu.${WRITE[size]}(${seg}, ${off}, ${val}); }`);
  }

  /** Read a read-modify-write operand into `dst`, checking writability first (f = 1: fast path taken). */
  private loadForWrite(size: number, seg: number, off: string, dst: string): void {
    this.emit(`lin = (SB[${seg}] + ${off}) | 0;`);
    const fast = size === 2 ? `(lin & 4095) <= 4092` : size === 1 ? `(lin & 4095) !== 4095` : 'true';
    this.emit(`if (SFW[${seg}] !== 0 && (t = cpu.tlbWrite[lin >>> 12]) >= 0 && cpu.tlbRead[lin >>> 12] === t && ${fast}) { i = t + (lin & 4095); ${dst} = ${this.at(size)}; f = 1; }`);
    this.emit(`else { ${this.sync()} cpu.checkWritable(${seg}, ${off}, ${BYTES[size]}); ${dst} = cpu.${READ[size]}(${seg}, ${off}); f = 0; }`);
  }
  private storeAfterLoad(size: number, seg: number, off: string, val: string): void {
    this.emit(`if (f !== 0) { ${this.put(size, val)} if (CC[t >>> 12] !== 0) { ${this.sync()} cpu.mem.codeWritten(i, ${BYTES[size]}); } }`);
    this.emit(`else cpu.${WRITE[size]}(${seg}, ${off}, ${val});`);
  }

  private at(size: number): string {
    if (size === 0) return 'B[i]';
    if (size === 1) return '(B[i] | (B[i + 1] << 8))';
    return '((i & 3) === 0 ? W[i >> 2] : (B[i] | (B[i + 1] << 8) | (B[i + 2] << 16) | (B[i + 3] << 24)))';
  }
  private put(size: number, val: string): string {
    if (size === 0) return `B[i] = ${val};`;
    if (size === 1) return `B[i] = ${val}; B[i + 1] = ${val} >> 8;`;
    return `if ((i & 3) === 0) W[i >> 2] = ${val}; else { B[i] = ${val}; B[i + 1] = ${val} >> 8; B[i + 2] = ${val} >> 16; B[i + 3] = ${val} >> 24; }`;
  }

  /** The effective address of a memory ModRM operand, as the interpreter computes it. */
  private ea(ins: Instr): string {
    const parts: string[] = [];
    if (ins.eaDisp !== 0) parts.push(String(ins.eaDisp));
    if (ins.eaBase >= 0) parts.push(`R[${ins.eaBase}]`);
    if (ins.eaIndex >= 0) parts.push(ins.eaScale ? `(R[${ins.eaIndex}] << ${ins.eaScale})` : `R[${ins.eaIndex}]`);
    if (parts.length === 0) parts.push('0');
    return ins.eaMask === -1 ? `(${parts.join(' + ')}) | 0` : `(${parts.join(' + ')}) & 65535`;
  }

  /** Read the E operand into `dst` (register, or memory with the effective address in `ea`). */
  private readE(ins: Instr, size: number, dst: string): boolean {
    if (ins.modrm >= 0xc0) { this.emit(`${dst} = ${reg(size, ins.modrm & 7)};`); return false; }
    this.emit(`ea = ${this.ea(ins)};`);
    this.load(size, ins.eaSeg, 'ea', dst);
    return true;
  }
  private writeE(ins: Instr, size: number, val: string): boolean {
    if (ins.modrm >= 0xc0) { this.emit(`${reg(size, ins.modrm & 7)} = ${val};`); return false; }
    this.emit(`ea = ${this.ea(ins)};`);
    this.store(size, ins.eaSeg, 'ea', val);
    return true;
  }
  private g(ins: Instr, size: number): string { return reg(size, (ins.modrm >> 3) & 7); }

  /** E = op(E, src): the read-modify-write shape of ALU, INC/DEC, NOT/NEG and shifts. */
  private modifyE(ins: Instr, size: number, compute: (a: string) => string | null, writes = true): boolean {
    if (ins.modrm >= 0xc0) {
      const dst = reg(size, ins.modrm & 7);
      this.emit(`a = ${dst};`);
      const expr = compute('a');
      if (expr === null) return false;
      if (writes) this.emit(`r = ${expr}; ${dst} = r;`); else this.emit(`${expr};`);
      return false;
    }
    this.emit(`ea = ${this.ea(ins)};`);
    if (!writes) {
      this.load(size, ins.eaSeg, 'ea', 'a');
      const expr = compute('a');
      if (expr === null) return false;
      this.emit(`${expr};`);
      return true;
    }
    this.loadForWrite(size, ins.eaSeg, 'ea', 'a');
    const expr = compute('a');
    this.emit(`r = ${expr};`);
    this.storeAfterLoad(size, ins.eaSeg, 'ea', 'r');
    return true;
  }

  // ---- stack -------------------------------------------------------------------------------

  /** PUSH val (32-bit operand): the stack-pointer update after the store, which may fault. */
  private push32(val: string): void {
    this.emit(`if (cpu.stack32) { v = ${val}; ea = (R[${ESP}] - 4) | 0;`);
    this.store(2, SS, 'ea', 'v');
    this.emit(`R[${ESP}] = ea; } else { ${this.sync()} cpu.push32(${val}); }`);
  }
  /** dst = POP (32-bit operand), ESP updated after the load, which may fault. */
  private pop32(dst: string): void {
    this.emit(`if (cpu.stack32) { ea = R[${ESP}];`);
    this.load(2, SS, 'ea', dst);
    this.emit(`R[${ESP}] = (ea + 4) | 0; } else { ${this.sync()} ${dst} = cpu.pop32(); }`);
  }

  // ---- conditions ----------------------------------------------------------------------------

  /** The condition cc as a JS expression: fused with the preceding compare where it can be. */
  private cond(cc: number, fused: LastFlags): string {
    const neg = (cc & 1) !== 0, c = cc >> 1;
    let e: string | null = null;
    const sx = (x: string, size: number) => size === 2 ? x : size === 1 ? `((${x} << 16) >> 16)` : `((${x} << 24) >> 24)`;
    if (fused.kind === Fuse.Sub) {
      const { a, b, size } = fused;
      const ua = size === 2 ? `(${a} >>> 0)` : a, ub = size === 2 ? `(${b} >>> 0)` : b;
      switch (c) {
        case 1: e = `${ua} < ${ub}`; break;
        case 2: e = `${a} === ${b}`; break;
        case 3: e = `${ua} <= ${ub}`; break;
        case 4: e = `((${a} - ${b}) & ${SIGN[size]}) !== 0`; break;
        case 6: e = `${sx(a, size)} < ${sx(b, size)}`; break;
        case 7: e = `${sx(a, size)} <= ${sx(b, size)}`; break;
      }
    } else if (fused.kind === Fuse.Logic || fused.kind === Fuse.IncDec) {
      const { r, size } = fused;
      switch (c) {
        case 0: if (fused.kind === Fuse.Logic) e = 'false'; break;
        case 1: if (fused.kind === Fuse.Logic) e = 'false'; break;
        case 2: e = `${r} === 0`; break;
        case 3: if (fused.kind === Fuse.Logic) e = `${r} === 0`; break;
        case 4: e = `(${r} & ${SIGN[size]}) !== 0`; break;
        case 6: if (fused.kind === Fuse.Logic) e = `(${r} & ${SIGN[size]}) !== 0`; break;
        case 7: if (fused.kind === Fuse.Logic) e = `(${r} === 0 || (${r} & ${SIGN[size]}) !== 0)`; break;
      }
    }
    if (e === null) return `cpu.condition(${cc})`;
    return neg ? `!(${e})` : `(${e})`;
  }

  // ---- the inlined forms ---------------------------------------------------------------------

  /** Emit `ins` inline; false leaves it to the handler (whatever was emitted is discarded). */
  private inline(ins: Instr, fused: LastFlags): boolean {
    const op = ins.op, vs = ins.o32 ? 2 : 1;
    if (ins.rep !== 0 || ins.lock) return false;
    let mem = false;
    switch (op) {
      case 0x00: case 0x08: case 0x10: case 0x18: case 0x20: case 0x28: case 0x30: case 0x38:
      case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39: {
        const size = op & 1 ? vs : 0, aop = op >> 3;
        this.emit(`b = ${this.g(ins, size)};`);
        mem = this.modifyE(ins, size, (x) => `cpu.alu(${aop}, ${x}, b, ${size})`, aop !== 7);
        this.noteAlu(aop, size, 'a', 'b');
        break;
      }
      case 0x02: case 0x0a: case 0x12: case 0x1a: case 0x22: case 0x2a: case 0x32: case 0x3a:
      case 0x03: case 0x0b: case 0x13: case 0x1b: case 0x23: case 0x2b: case 0x33: case 0x3b: {
        const size = op & 1 ? vs : 0, aop = op >> 3;
        mem = this.readE(ins, size, 'b');
        this.emit(`a = ${this.g(ins, size)}; r = cpu.alu(${aop}, a, b, ${size});`);
        if (aop !== 7) this.emit(`${this.g(ins, size)} = r;`);
        this.noteAlu(aop, size, 'a', 'b');
        break;
      }
      case 0x04: case 0x0c: case 0x14: case 0x1c: case 0x24: case 0x2c: case 0x34: case 0x3c:
      case 0x05: case 0x0d: case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d: {
        const size = op & 1 ? vs : 0, aop = op >> 3;
        this.emit(`a = ${reg(size, 0)}; b = ${ins.imm}; r = cpu.alu(${aop}, a, b, ${size});`);
        if (aop !== 7) this.emit(`${reg(size, 0)} = r;`);
        this.noteAlu(aop, size, 'a', 'b');
        break;
      }
      case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
      case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
        const dst = reg(vs, op & 7);
        this.emit(`r = cpu.${op < 0x48 ? 'inc' : 'dec'}(${dst}, ${vs}); ${dst} = r;`);
        this.last = { kind: Fuse.IncDec, size: vs, a: '', b: '', r: 'r' };
        break;
      }
      case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
        if (!ins.o32) return false;
        this.push32(`R[${op & 7}]`); mem = true; break;
      case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
        if (!ins.o32) return false;
        this.pop32('v'); this.emit(`R[${op & 7}] = v;`); mem = true; break;
      case 0x68: case 0x6a:
        if (!ins.o32) return false;
        this.push32(String(ins.imm)); mem = true; break;
      case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
      case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
      case 0x180: case 0x181: case 0x182: case 0x183: case 0x184: case 0x185: case 0x186: case 0x187:
      case 0x188: case 0x189: case 0x18a: case 0x18b: case 0x18c: case 0x18d: case 0x18e: case 0x18f:
        this.emit(`if (${this.cond(op & 15, fused)}) {`);
        this.jumpTo(this.next + ins.imm, ins.o32);
        this.emit('}');
        return true; // falls through to the next instruction (or the block's end)
      case 0x80: case 0x81: case 0x82: case 0x83: {
        const size = op & 1 ? vs : 0, aop = (ins.modrm >> 3) & 7;
        this.emit(`b = ${ins.imm & (size === 2 ? -1 : size === 1 ? 0xffff : 0xff)};`);
        mem = this.modifyE(ins, size, (x) => `cpu.alu(${aop}, ${x}, b, ${size})`, aop !== 7);
        this.noteAlu(aop, size, 'a', 'b');
        break;
      }
      case 0x84: case 0x85: {
        const size = op & 1 ? vs : 0;
        mem = this.readE(ins, size, 'a');
        this.emit(`r = a & ${this.g(ins, size)}; cpu.setLazyLogic(r, ${size});`);
        this.last = { kind: Fuse.Logic, size, a: '', b: '', r: 'r' };
        break;
      }
      case 0xa8: case 0xa9: {
        const size = op & 1 ? vs : 0;
        this.emit(`r = ${reg(size, 0)} & ${ins.imm}; cpu.setLazyLogic(r, ${size});`);
        this.last = { kind: Fuse.Logic, size, a: '', b: '', r: 'r' };
        break;
      }
      case 0x88: case 0x89: {
        const size = op & 1 ? vs : 0;
        this.emit(`v = ${this.g(ins, size)};`);
        mem = this.writeE(ins, size, 'v');
        break;
      }
      case 0x8a: case 0x8b: {
        const size = op & 1 ? vs : 0;
        mem = this.readE(ins, size, 'v');
        this.emit(`${this.g(ins, size)} = v;`);
        break;
      }
      case 0x8d:
        if (ins.modrm >= 0xc0) return false;
        this.emit(`${this.g(ins, vs)} = ${this.ea(ins)};`);
        break;
      case 0x90:
        break;
      case 0x98:
        if (ins.o32) this.emit(`R[0] = (R[0] << 16) >> 16;`); else this.emit(`R16[0] = (R8[0] << 24) >> 24;`);
        break;
      case 0x99:
        if (ins.o32) this.emit(`R[2] = R[0] >> 31;`); else this.emit(`R16[4] = (R16[0] << 16) >> 31;`);
        break;
      case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
        const size = op & 1 ? vs : 0, seg = ins.seg >= 0 ? ins.seg : 3;
        this.emit(`ea = ${ins.imm};`);
        if (op < 0xa2) { this.load(size, seg, 'ea', 'v'); this.emit(`${reg(size, 0)} = v;`); }
        else { this.emit(`v = ${reg(size, 0)};`); this.store(size, seg, 'ea', 'v'); }
        mem = true;
        break;
      }
      case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
        this.emit(`${reg(0, op & 7)} = ${ins.imm};`);
        break;
      case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
        this.emit(`${reg(vs, op & 7)} = ${ins.imm};`);
        break;
      case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        const size = op & 1 ? vs : 0, sub = (ins.modrm >> 3) & 7;
        const count = op >= 0xd2 ? 'R8[4]' : op >= 0xd0 ? '1' : String(ins.imm);
        mem = this.modifyE(ins, size, (x) => `SHIFT(cpu, ${sub}, ${x}, ${count}, ${size})`);
        break;
      }
      case 0xc2: case 0xc3:
        if (!ins.o32) return false;
        this.emit(`if (cpu.stack32) { ea = R[${ESP}];`);
        this.load(2, SS, 'ea', 'v');
        this.emit(`if ((v >>> 0) > (SL[1] >>> 0)) { ${this.sync()} cpu.raise(${GP}, 0); }`);
        this.emit(`R[${ESP}] = (ea + ${4 + ins.imm}) | 0; cpu.eip = v; cpu.sliceRetired = s + ${this.k + 1}; return ${this.exits++}; }`);
        this.emit(`${this.handlerCall()} cpu.sliceRetired = s + ${this.k + 1}; return ${this.exits++};`); // a 16-bit stack
        return true;
      case 0xc6: case 0xc7: {
        const size = op & 1 ? vs : 0;
        mem = this.writeE(ins, size, String(ins.imm));
        break;
      }
      case 0xc9:
        if (!ins.o32) return false;
        this.emit(`if (cpu.stack32) { ea = R[${EBP}];`);
        this.load(2, SS, 'ea', 'v');
        this.emit(`R[${ESP}] = (ea + 4) | 0; R[${EBP}] = v; } else { ${this.handlerCall()} }`);
        mem = true;
        break;
      case 0xe8:
        if (!ins.o32) return false;
        this.push32(this.eip(this.next));
        this.exit(this.eip(this.next + ins.imm), this.k + 1);
        return true;
      case 0xe9: case 0xeb:
        this.jumpTo(this.next + ins.imm, ins.o32);
        return true;
      case 0xf6: case 0xf7: {
        const size = op & 1 ? vs : 0, sub = (ins.modrm >> 3) & 7;
        if (sub === 0 || sub === 1) {
          mem = this.readE(ins, size, 'a');
          this.emit(`r = a & ${ins.imm}; cpu.setLazyLogic(r, ${size});`);
          this.last = { kind: Fuse.Logic, size, a: '', b: '', r: 'r' };
        } else if (sub === 2) {
          mem = this.modifyE(ins, size, (x) => `~${x} & ${MASK[size]}`);
        } else if (sub === 3) {
          mem = this.modifyE(ins, size, (x) => `cpu.neg(${x}, ${size})`);
        } else return false;
        break;
      }
      case 0xfe: case 0xff: {
        const size = op === 0xfe ? 0 : vs, sub = (ins.modrm >> 3) & 7;
        if (sub === 0 || sub === 1) {
          mem = this.modifyE(ins, size, (x) => `cpu.${sub === 0 ? 'inc' : 'dec'}(${x}, ${size})`);
          this.last = { kind: Fuse.IncDec, size, a: '', b: '', r: ins.modrm >= 0xc0 ? reg(size, ins.modrm & 7) : 'r' };
          break;
        }
        if (op === 0xfe || !ins.o32 || (sub !== 2 && sub !== 4)) return false;
        // CALL / JMP near indirect (32-bit): the handler's CS limit check, inline.
        this.readE(ins, 2, 'b');
        this.emit(`if ((b >>> 0) > (SL[1] >>> 0) && cpu.protectedMode) { ${this.sync()} cpu.raise(${GP}, 0); }`);
        if (sub === 2) this.push32(this.eip(this.next));
        this.exit('b', this.k + 1);
        return true;
      }
      case 0x140: case 0x141: case 0x142: case 0x143: case 0x144: case 0x145: case 0x146: case 0x147:
      case 0x148: case 0x149: case 0x14a: case 0x14b: case 0x14c: case 0x14d: case 0x14e: case 0x14f:
        mem = this.readE(ins, vs, 'v');
        this.emit(`if (${this.cond(op & 15, fused)}) ${this.g(ins, vs)} = v;`);
        break;
      case 0x190: case 0x191: case 0x192: case 0x193: case 0x194: case 0x195: case 0x196: case 0x197:
      case 0x198: case 0x199: case 0x19a: case 0x19b: case 0x19c: case 0x19d: case 0x19e: case 0x19f:
        this.emit(`v = ${this.cond(op & 15, fused)} ? 1 : 0;`);
        mem = this.writeE(ins, 0, 'v');
        break;
      case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: {
        const src = op & 1 ? 1 : 0;
        mem = this.readE(ins, src, 'v');
        const val = op < 0x1be ? 'v' : src === 0 ? '((v << 24) >> 24)' : '((v << 16) >> 16)';
        this.emit(`${this.g(ins, vs)} = ${val};`);
        break;
      }
      default:
        return false;
    }
    if (mem) this.checkAttention();
    return true;
  }

  /** After an ALU operation: what a following Jcc/SETcc/CMOVcc may test directly. */
  private noteAlu(aop: number, size: number, a: string, b: string): void {
    if (aop === 5 || aop === 7) this.last = { kind: Fuse.Sub, size, a, b, r: '' };
    else if (aop === 1 || aop === 4 || aop === 6) this.last = { kind: Fuse.Logic, size, a: '', b: '', r: 'r' };
  }
}

/** How a machine runs guest code: `jit` compiles hot blocks (the default), `interp` is the reference interpreter. */
export type CpuMode = 'interp' | 'jit';

/** Give a CPU its execution mode (machines call this once, after building the CPU). */
export function setCpuMode(cpu: Cpu, mode: CpuMode = 'jit', threshold?: number): void {
  if (mode !== 'jit' && mode !== 'interp') throw new RangeError(`CPU mode must be "interp" or "jit", got ${JSON.stringify(mode)}`);
  cpu.jit = mode === 'jit' ? new Jit(threshold) : null;
}
