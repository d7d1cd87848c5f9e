// The x86 CPU: architectural state, lazy flags, segmented and paged memory access, and the
// dispatch loop. Instruction semantics live in interpreter.ts (one definition each); protected
// mode machinery (descriptors, gates, task switches) in system.ts.

import type { MemoryBus } from '../bus/memory.ts';
import type { IoBus } from '../bus/io.ts';
import type { InterruptController } from '../bus/interrupts.ts';
import {
  CF, PF, AF, ZF, SF, OF, IF, TF, VM, RF, ARITH_FLAGS, EFLAGS_ALWAYS_ONE, PARITY,
  CR0_PE, CR0_PG, CR0_WP, CR0_ET, CR0_CD, CR0_NW, CR4_PSE, CR4_PGE, IOPL,
} from './flags.ts';
import { FAULT, Vector, hasErrorCode, faultClass } from './fault.ts';
import { execute, executeInstr } from './interpreter.ts';
import { decode, Instr } from './decoder.ts';
import { Block, BlockCache, MAX_BLOCK } from './blocks.ts';
import type { Jit } from './jit.ts';
import { deliverInterrupt, loadSegmentReal } from './system.ts';

export const enum Reg { EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7 }
export const enum Seg { ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5 }
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
export const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

/** Why `run` returned. */
export const enum Stop {
  None = 0,        // the instruction budget ran out
  Halt = 1,        // HLT; waiting for an interrupt
  HaltNoIrq = 2,   // HLT with interrupts disabled: nothing can wake the CPU but NMI/reset
  TripleFault = 3, // shutdown cycle
  Request = 4,     // a device or the host asked the loop to return (requestStop)
  Debug = 5,       // the next instruction is at a host debugger breakpoint (hostBreakpoints)
}

/** The x87 unit as the CPU sees it (implemented in fpu/). */
export interface X87Unit {
  reset(): void;
  execute(opcode: number, modrm: number, seg: number, offset: number, o32: boolean, ip: number, csSelector: number, dsSelector: number): void;
  wait(): void;
  fxsave(seg: number, offset: number): void;
  fxrstor(seg: number, offset: number): void;
  mxcsr: number;
}

/** Descriptor access-rights bits as cached per segment register (access byte + flags nibble << 8). */
export const ACC_ACCESSED = 0x1;
export const ACC_RW = 0x2;        // readable code / writable data
export const ACC_DC = 0x4;        // conforming code / expand-down data
export const ACC_CODE = 0x8;
export const ACC_S = 0x10;        // code or data (not system)
export const ACC_P = 0x80;
export const ACC_DB = 0x4000;     // default size / big
export const ACC_G = 0x8000;

const TLB_LIST_SIZE = 8192;
/** Thrown by a fetch while decoding ahead that would need a new fetch window. */
const BLOCK_END = new Error('end of decoded block');
const SEG_NULL = 0x10000;         // cached "unusable" flag in segAccess (a null selector in protected mode)

export class Cpu {
  readonly mem: MemoryBus;
  readonly io: IoBus;
  pic: InterruptController | null = null;
  fpu: X87Unit | null = null;
  /** Asked for the time-stamp counter; the machine connects its clock here. */
  readTsc: () => number = () => this.instructionCount;

  // General registers share one buffer so 8/16/32-bit views alias as on hardware.
  readonly regBuffer = new ArrayBuffer(32);
  readonly regs = new Int32Array(this.regBuffer);
  readonly regs16 = new Uint16Array(this.regBuffer);
  readonly regs8 = new Uint8Array(this.regBuffer);
  eip = 0;

  // Segment registers with their descriptor caches.
  readonly sreg = new Uint16Array(6);
  readonly segBase = new Int32Array(6);
  readonly segLimit = new Int32Array(6);   // unsigned value stored as int32
  readonly segAccess = new Int32Array(6);
  /** 1 when an access through this segment needs no limit or rights check (flat 4 GiB, usable). */
  readonly segFastRead = new Uint8Array(6);
  readonly segFastWrite = new Uint8Array(6);

  // System registers.
  gdtBase = 0; gdtLimit = 0xffff;
  idtBase = 0; idtLimit = 0x3ff;
  ldtSel = 0; ldtBase = 0; ldtLimit = 0;
  trSel = 0; trBase = 0; trLimit = 0; trType = 0; // type: 1/3 = 16-bit, 9/11 = 32-bit TSS
  cr0 = CR0_ET; cr2 = 0; cr3 = 0; cr4 = 0;
  readonly dr = new Int32Array(8);
  cpl = 0;
  code32 = false;   // CS.D
  stack32 = false;  // SS.B
  protectedMode = false;
  vm86 = false;

  // EFLAGS: `flags` holds every bit except the arithmetic flags named in `lazyMask`,
  // which are derived from the last arithmetic operation below.
  flags = EFLAGS_ALWAYS_ONE;
  lazyMask = 0;
  lazyX = 0; lazyY = 0; lazySum = 0; lazyCarry = 0; // sum = x + y + carry (subtraction stored as an addition)
  lazyResult = 0;
  lazySize = 2; // 0 = 8, 1 = 16, 2 = 32 bits

  // Model-specific state.
  tscOffset = 0;
  sysenterCs = 0; sysenterEsp = 0; sysenterEip = 0;
  apicBase = 0xfee00900 | 0; // BSP, disabled APIC
  readonly mtrr = new Map<number, bigint>();
  readonly perfEventSelect = new Int32Array(2);
  readonly perfCounterBase = [0, 0];
  a20Warning = false;

  // Run state.
  instructionCount = 0;
  halted = false;
  stopReason: Stop = Stop.None;
  /** Set whenever the next instruction must go through the slow path (interrupts, traps, halt, stop). */
  attention = true;
  interruptShadow = false; // after STI / MOV SS / POP SS
  debugShadow = false;     // after MOV SS / POP SS: debug traps also wait one instruction
  private stopRequested = false;
  nmiPending = false;
  /** What a triple fault does: reset the CPU (PC behaviour) or stop the run loop. */
  resetOnTripleFault = false;

  // Decode state of the current instruction.
  instrStart = 0;
  o32 = false; a32 = false;
  segOverride = -1;
  rep = 0; // 0 none, 1 REPNE (F2), 2 REP/REPE (F3)
  modrm = 0;
  eaSeg = 0; eaOff = 0;
  // Instruction fetch window: eip in [fetchBase, fetchBase + fetchSpan] reads bytes[fetchDelta + eip].
  // fetchSpan is -1 when the window is invalid (any unsigned offset compares above it).
  fetchBase = 0; fetchSpan = -1; fetchDelta = 0;

  // Fault being delivered.
  faultVector = 0; faultError = 0; faultHasError = false;
  private deliveringClass = -1; // class of the exception being delivered, -1 when none

  // TLBs indexed by linear page: offset into mem.bytes of the page, or -1.
  private readonly tlbReadSup = new Int32Array(1 << 20).fill(-1);
  private readonly tlbWriteSup = new Int32Array(1 << 20).fill(-1);
  private readonly tlbReadUser = new Int32Array(1 << 20).fill(-1);
  private readonly tlbWriteUser = new Int32Array(1 << 20).fill(-1);
  // The TLB in force for the CPL (read by compiled blocks too).
  tlbRead = this.tlbReadSup;
  tlbWrite = this.tlbWriteSup;
  private readonly tlbList = new Int32Array(TLB_LIST_SIZE);
  private tlbCount = 0;
  private readonly tlbGlobal = new Uint8Array(1 << 20);
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  /** The bus's per-page marks of cached code (see blocks.ts); checked by every store fast path. */
  readonly codeChunks: Uint32Array;
  /** Decoded blocks, replayed by `run`. */
  readonly blocks: BlockCache;
  /** Compiles hot blocks to JavaScript; null runs every block in the interpreter. */
  jit: Jit | null = null;
  /** The compiled block and exit the last chain left by: the next lookup's result is linked there. */
  private chainFrom: Block | null = null;
  private chainExit = 0;
  /** True while the block builder decodes ahead of execution: a fetch that needs a new window ends the block instead. */
  private lookahead = false;

  constructor(mem: MemoryBus, io: IoBus) {
    this.mem = mem;
    this.io = io;
    this.bytes = mem.bytes;
    this.words = new Int32Array(mem.bytes.buffer, mem.bytes.byteOffset, mem.bytes.length >> 2);
    this.codeChunks = mem.codeChunks;
    this.blocks = new BlockCache(mem, () => { this.attention = true; });
    mem.onChange(() => { this.flushTlb(true); this.blocks.clear(); });
    this.reset();
  }

  /** Power-on / RESET# state (SDM vol. 3, table 9-1). */
  reset(): void {
    this.regs.fill(0);
    this.regs[Reg.EDX] = 0x0633; // family 6, model 3, stepping 3
    this.flags = EFLAGS_ALWAYS_ONE;
    this.lazyMask = 0;
    this.eip = 0xfff0;
    this.cr0 = CR0_ET | CR0_CD | CR0_NW;
    this.cr2 = this.cr3 = this.cr4 = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    this.gdtBase = 0; this.gdtLimit = 0xffff;
    this.idtBase = 0; this.idtLimit = 0x3ff;
    this.ldtSel = 0; this.ldtBase = 0; this.ldtLimit = 0xffff;
    this.trSel = 0; this.trBase = 0; this.trLimit = 0xffff; this.trType = 11;
    this.protectedMode = false;
    this.vm86 = false;
    this.cpl = 0;
    for (let s = 0; s < 6; s++) {
      this.sreg[s] = 0; this.segBase[s] = 0; this.segLimit[s] = 0xffff;
      this.segAccess[s] = ACC_P | ACC_S | ACC_RW | ACC_ACCESSED | (s === Seg.CS ? ACC_CODE : 0);
    }
    this.sreg[Seg.CS] = 0xf000;
    this.segBase[Seg.CS] = 0xffff0000 | 0;
    this.sysenterCs = this.sysenterEsp = this.sysenterEip = 0;
    this.tscOffset = -this.readTsc();
    this.halted = false;
    this.interruptShadow = false;
    this.nmiPending = false;
    this.deliveringClass = -1;
    this.mtrr.clear();
    this.perfEventSelect.fill(0);
    this.perfCounterBase[0] = this.perfCounterBase[1] = 0;
    this.fpu?.reset();
    this.modeChanged();
    this.flushTlb(true);
    this.attention = true;
  }

  // ---- registers -------------------------------------------------------------------------

  /** 8-bit register by its encoding (AL CL DL BL AH CH DH BH). */
  getReg8(r: number): number { return this.regs8[((r & 3) << 2) | (r >> 2)]; }
  setReg8(r: number, v: number): void { this.regs8[((r & 3) << 2) | (r >> 2)] = v; }
  getReg16(r: number): number { return this.regs16[r << 1]; }
  setReg16(r: number, v: number): void { this.regs16[r << 1] = v; }

  get ax(): number { return this.regs16[0]; }

  // ---- flags -----------------------------------------------------------------------------

  getEflags(): number {
    let f = this.flags;
    const lazy = this.lazyMask;
    if (lazy) {
      f &= ~lazy;
      if (lazy & CF) f |= this.getCF();
      if (lazy & PF) f |= PARITY[this.lazyResult & 0xff];
      if (lazy & AF) f |= (this.lazyX ^ this.lazyY ^ this.lazySum) & AF;
      if (lazy & ZF) f |= this.getZF();
      if (lazy & SF) f |= this.getSF();
      if (lazy & OF) f |= this.getOF();
    }
    return f;
  }

  /** Replace EFLAGS as a whole (callers apply privilege masks first). */
  setEflags(v: number): void {
    const oldIF = this.flags & IF, oldFlags = this.flags;
    this.flags = (v & 0x3f7fd5) | EFLAGS_ALWAYS_ONE;
    this.lazyMask = 0;
    if ((this.flags & VM) !== 0 !== this.vm86) { this.vm86 = (this.flags & VM) !== 0; this.modeChanged(); }
    if (this.flags & (TF | RF) || (!oldIF && (this.flags & IF))) this.attention = true;
    if (((this.flags ^ oldFlags) & 0x40000) && this.cpl === 3) this.updateAccessChecks();
  }

  /** Fold the lazily computed flags into `flags` (before changing some of them by hand). */
  materializeFlags(): void {
    if (this.lazyMask) { this.flags = this.getEflags(); this.lazyMask = 0; }
  }

  getCF(): number {
    if (!(this.lazyMask & CF)) return this.flags & CF;
    const mask = SIZE_MASK[this.lazySize];
    const sum = (this.lazySum & mask) >>> 0, x = (this.lazyX & mask) >>> 0;
    return (this.lazyCarry ? sum <= x : sum < x) ? CF : 0;
  }
  getZF(): number {
    if (!(this.lazyMask & ZF)) return this.flags & ZF;
    return (this.lazyResult & SIZE_MASK[this.lazySize]) === 0 ? ZF : 0;
  }
  getSF(): number {
    if (!(this.lazyMask & SF)) return this.flags & SF;
    return this.lazyResult & SIZE_SIGN[this.lazySize] ? SF : 0;
  }
  getOF(): number {
    if (!(this.lazyMask & OF)) return this.flags & OF;
    return ((this.lazyX ^ this.lazySum) & (this.lazyY ^ this.lazySum) & SIZE_SIGN[this.lazySize]) ? OF : 0;
  }
  getPF(): number {
    if (!(this.lazyMask & PF)) return this.flags & PF;
    return PARITY[this.lazyResult & 0xff];
  }
  getAF(): number {
    if (!(this.lazyMask & AF)) return this.flags & AF;
    return (this.lazyX ^ this.lazyY ^ this.lazySum) & AF;
  }

  /** Set or clear individual flags (materializes lazy ones first). */
  setFlag(bit: number, on: boolean | number): void {
    if (this.lazyMask & bit) this.materializeFlags();
    if (on) this.flags |= bit; else this.flags &= ~bit;
  }

  /** Condition codes 0-15 as encoded in Jcc/SETcc/CMOVcc. */
  condition(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = this.getOF() !== 0; break;
      case 1: r = this.getCF() !== 0; break;
      case 2: r = this.getZF() !== 0; break;
      case 3: r = (this.getCF() | this.getZF()) !== 0; break;
      case 4: r = this.getSF() !== 0; break;
      case 5: r = this.getPF() !== 0; break;
      case 6: r = !this.getSF() !== !this.getOF(); break;
      default: r = this.getZF() !== 0 || (!this.getSF() !== !this.getOF()); break;
    }
    return (cc & 1) ? !r : r;
  }

  // ---- arithmetic with lazy flags (one definition for every size) ---------------------------

  /** The eight ALU operations of opcodes 00-3F / 80-83: ADD OR ADC SBB AND SUB XOR CMP. */
  alu(op: number, a: number, b: number, size: number): number {
    const mask = SIZE_MASK[size];
    let r: number;
    switch (op) {
      case 0: r = (a + b) & mask; this.setLazyAdd(a, b, r, 0, size); return r;
      case 1: r = (a | b) & mask; this.setLazyLogic(r, size); return r;
      case 2: { const c = this.getCF(); r = (a + b + c) & mask; this.setLazyAdd(a, b, r, c, size); return r; }
      case 3: { const c = this.getCF(); r = (a - b - c) & mask; this.setLazyAdd(r, b, a, c, size); this.lazyResult = r; return r; }
      case 4: r = a & b & mask; this.setLazyLogic(r, size); return r;
      case 5: case 7: r = (a - b) & mask; this.setLazyAdd(r, b, a, 0, size); this.lazyResult = r; return r;
      default: r = (a ^ b) & mask; this.setLazyLogic(r, size); return r;
    }
  }

  private setLazyAdd(x: number, y: number, sum: number, carry: number, size: number): void {
    this.lazyX = x; this.lazyY = y; this.lazySum = sum; this.lazyCarry = carry;
    this.lazyResult = sum; this.lazySize = size; this.lazyMask = ARITH_FLAGS;
  }

  /** Logic ops: CF = OF = 0; AF is undefined by Intel and cleared here, as QEMU and Bochs do. */
  setLazyLogic(r: number, size: number): void {
    this.flags &= ~(CF | OF | AF);
    this.lazyResult = r; this.lazySize = size; this.lazyMask = PF | ZF | SF;
  }

  /** Result flags for an operation that computed CF/OF/AF itself (shifts, multiplies, BCD). */
  setResultFlags(r: number, size: number, cf: number, of: number, af: number): void {
    this.flags = (this.flags & ~(CF | OF | AF)) | (cf ? CF : 0) | (of ? OF : 0) | (af ? AF : 0);
    this.lazyResult = r; this.lazySize = size; this.lazyMask = PF | ZF | SF;
  }

  inc(a: number, size: number): number {
    const cf = this.getCF();
    const r = (a + 1) & SIZE_MASK[size];
    this.setLazyAdd(a, 1, r, 0, size);
    this.lazyMask = ARITH_FLAGS & ~CF;
    this.flags = (this.flags & ~CF) | cf;
    return r;
  }
  dec(a: number, size: number): number {
    const cf = this.getCF();
    const r = (a - 1) & SIZE_MASK[size];
    this.setLazyAdd(r, 1, a, 0, size);
    this.lazyResult = r;
    this.lazyMask = ARITH_FLAGS & ~CF;
    this.flags = (this.flags & ~CF) | cf;
    return r;
  }
  neg(a: number, size: number): number {
    const r = (0 - a) & SIZE_MASK[size];
    this.setLazyAdd(r, a, 0, 0, size);
    this.lazyResult = r;
    return r;
  }

  // ---- modes and caches ------------------------------------------------------------------

  /** Recompute everything derived from CR0, EFLAGS.VM, CS and SS. */
  modeChanged(): void {
    this.protectedMode = (this.cr0 & CR0_PE) !== 0;
    this.vm86 = this.protectedMode && (this.flags & VM) !== 0;
    if (!this.protectedMode) this.cpl = 0;
    else if (this.vm86) this.cpl = 3;
    this.code32 = !this.vm86 && (this.segAccess[Seg.CS] & ACC_DB) !== 0;
    this.stack32 = !this.vm86 && (this.segAccess[Seg.SS] & ACC_DB) !== 0;
    const user = this.cpl === 3;
    this.tlbRead = user ? this.tlbReadUser : this.tlbReadSup;
    this.tlbWrite = user ? this.tlbWriteUser : this.tlbWriteSup;
    this.updateAccessChecks();
    for (let s = 0; s < 6; s++) this.updateSegFast(s);
    this.invalidateFetch();
  }

  updateSegFast(s: number): void {
    const acc = this.segAccess[s];
    const flat = !this.accessChecks && this.segLimit[s] === -1 && !(acc & SEG_NULL) && (acc & ACC_P) !== 0
      && ((acc & ACC_CODE) ? true : !(acc & ACC_DC));
    this.segFastRead[s] = flat && (!(acc & ACC_CODE) || (acc & ACC_RW) !== 0) ? 1 : 0;
    this.segFastWrite[s] = flat && !(acc & ACC_CODE) && (acc & ACC_RW) !== 0 ? 1 : 0;
  }

  /**
   * Per-access checks beyond segmentation: data breakpoints (DR7) and alignment checking (#AC at
   * CPL 3 with CR0.AM and EFLAGS.AC). While any is active every access takes checkSegment.
   */
  accessChecks = false;
  /** Execute breakpoints are armed in DR7: every instruction goes through slowStep. */
  execBreakpoints = false;
  /** DR6 bits of data breakpoints hit by the current instruction (a trap after it). */
  private dataBreakpointHits = 0;

  // Host debugger hooks (src/debug), apart from the guest's own DR0-DR7 so that it cannot tell.
  /**
   * Linear addresses where `run` stops with Stop.Debug before executing the instruction. While
   * non-empty every instruction takes slowStep; set `attention` after adding the first.
   */
  readonly hostBreakpoints = new Set<number>();
  /** Called on every data access while set (call updateAccessChecks after setting it). */
  hostWatch: ((lin: number, size: number, write: boolean) => void) | null = null;

  /** Recompute which debug and alignment checks are live (after DR7, CR0, EFLAGS.AC or CPL change). */
  updateAccessChecks(): void {
    const dr7 = this.dr[7];
    let data = false, exec = false;
    for (let i = 0; i < 4; i++) {
      if (!((dr7 >> (i * 2)) & 3)) continue;
      if (((dr7 >>> (16 + i * 4)) & 3) === 0) exec = true; else if (((dr7 >>> (16 + i * 4)) & 3) !== 2) data = true;
    }
    const ac = this.cpl === 3 && (this.cr0 & 0x40000) !== 0 && (this.flags & 0x40000) !== 0;
    this.execBreakpoints = exec;
    if (exec) this.attention = true;
    const checks = data || ac || this.hostWatch !== null;
    if (checks !== this.accessChecks) { this.accessChecks = checks; for (let i = 0; i < 6; i++) this.updateSegFast(i); }
  }

  private checkAccess(lin: number, size: number, write: boolean): void {
    if (size > 1 && (lin & (size - 1)) && this.cpl === 3 && (this.cr0 & 0x40000) && (this.flags & 0x40000)) this.raise(Vector.AC, 0);
    const dr7 = this.dr[7];
    for (let i = 0; i < 4; i++) {
      if (!((dr7 >> (i * 2)) & 3)) continue;
      const rw = (dr7 >>> (16 + i * 4)) & 3;
      if (rw === 0 || rw === 2 || (rw === 1 && !write)) continue;
      const len = [1, 2, 8, 4][(dr7 >>> (18 + i * 4)) & 3];
      const bp = this.dr[i] & ~(len - 1);
      if (((lin - bp) >>> 0) < len || ((bp - lin) >>> 0) < size) { this.dataBreakpointHits |= 1 << i; this.attention = true; }
    }
    if (this.hostWatch !== null) this.hostWatch(lin, size, write);
  }

  /** Instruction breakpoint check before an instruction (a fault, suppressed by RF). */
  private checkExecBreakpoint(): void {
    if (this.flags & RF) return;
    const lin = (this.segBase[Seg.CS] + this.eip) | 0, dr7 = this.dr[7];
    for (let i = 0; i < 4; i++) {
      if (!((dr7 >> (i * 2)) & 3) || ((dr7 >>> (16 + i * 4)) & 3) !== 0) continue;
      if (this.dr[i] === lin) { this.dr[6] = (this.dr[6] & ~0xf) | (1 << i); this.raise(Vector.DB); }
    }
  }

  /** Load a segment register's cache directly (real-mode style or from a parsed descriptor). */
  setSegmentCache(s: number, selector: number, base: number, limit: number, access: number): void {
    this.sreg[s] = selector;
    this.segBase[s] = base;
    this.segLimit[s] = limit;
    this.segAccess[s] = access;
    this.updateSegFast(s);
    if (s === Seg.CS) {
      this.code32 = (access & ACC_DB) !== 0 && !this.vm86;
      this.invalidateFetch();
    } else if (s === Seg.SS) {
      this.stack32 = (access & ACC_DB) !== 0 && !this.vm86;
    }
  }

  /** Mark a data segment register unusable (null selector loaded in protected mode). */
  setSegmentNull(s: number, selector: number): void {
    this.sreg[s] = selector;
    this.segBase[s] = 0;
    this.segLimit[s] = 0;
    this.segAccess[s] = SEG_NULL;
    this.updateSegFast(s);
  }

  /** Set a segment register the way real mode does: base = selector * 16. */
  setSegmentReal(s: number, selector: number): void { loadSegmentReal(this, s, selector); }

  setCpl(cpl: number): void {
    if (cpl !== this.cpl) { this.cpl = cpl; this.modeChanged(); }
  }

  setCr0(v: number): void {
    v = (v | CR0_ET) & (0xe005003f | 0);
    const changed = v ^ this.cr0;
    this.cr0 = v;
    if (changed & (CR0_PG | CR0_WP | CR0_PE)) this.flushTlb(true);
    if (changed & CR0_PE) this.modeChanged();
    this.updateAccessChecks();
  }
  setCr3(v: number): void { this.cr3 = v; this.flushTlb(false); }
  setCr4(v: number): void {
    const changed = v ^ this.cr4;
    this.cr4 = v;
    if (changed & (CR4_PSE | CR4_PGE | 0x20)) this.flushTlb(true);
  }

  get pagingEnabled(): boolean { return (this.cr0 & CR0_PG) !== 0 && (this.cr0 & CR0_PE) !== 0; }

  // ---- TLB and page walk -----------------------------------------------------------------

  flushTlb(includingGlobal: boolean): void {
    const list = this.tlbList;
    if (this.tlbCount >= TLB_LIST_SIZE) {
      this.tlbReadSup.fill(-1); this.tlbWriteSup.fill(-1); this.tlbReadUser.fill(-1); this.tlbWriteUser.fill(-1);
      this.tlbGlobal.fill(0);
      this.tlbCount = 0;
    } else {
      let kept = 0;
      for (let i = 0; i < this.tlbCount; i++) {
        const p = list[i];
        if (!includingGlobal && this.tlbGlobal[p]) { list[kept++] = p; continue; }
        this.tlbReadSup[p] = -1; this.tlbWriteSup[p] = -1; this.tlbReadUser[p] = -1; this.tlbWriteUser[p] = -1;
        this.tlbGlobal[p] = 0;
      }
      this.tlbCount = kept;
    }
    this.invalidateFetch();
  }

  invalidatePage(lin: number): void {
    const p = lin >>> 12;
    this.tlbReadSup[p] = -1; this.tlbWriteSup[p] = -1; this.tlbReadUser[p] = -1; this.tlbWriteUser[p] = -1;
    this.tlbGlobal[p] = 0;
    this.invalidateFetch();
  }

  /**
   * Translate a linear address, setting accessed/dirty bits and filling the TLB.
   * Raises #PF with the architectural error code. Returns the physical address.
   */
  translate(lin: number, write: boolean, user: boolean): number {
    let phys: number, canUserRead = true, canUserWrite = true, canSupWrite = true, global = false;
    if (!this.pagingEnabled) {
      phys = lin;
    } else {
      const pdeAddr = (this.cr3 & ~0xfff) | ((lin >>> 22) << 2);
      const pde = this.mem.read32(pdeAddr);
      if (!(pde & 1)) this.pageFault(lin, 0, write, user);
      const wp = (this.cr0 & CR0_WP) !== 0;
      if ((pde & 0x80) && (this.cr4 & CR4_PSE)) {
        canUserRead = (pde & 4) !== 0;
        canUserWrite = canUserRead && (pde & 2) !== 0;
        canSupWrite = !wp || (pde & 2) !== 0;
        this.checkPageAccess(lin, write, user, canUserRead, canUserWrite, canSupWrite);
        const newPde = pde | 0x20 | (write ? 0x40 : 0);
        if (newPde !== pde) this.mem.write32(pdeAddr, newPde);
        else if (!(pde & 0x40)) { canUserWrite = false; canSupWrite = false; } // first write must set D
        if (!(newPde & 0x40)) { canUserWrite = false; canSupWrite = false; }
        global = (pde & 0x100) !== 0 && (this.cr4 & CR4_PGE) !== 0;
        phys = (pde & 0xffc00000) | (lin & 0x3fffff);
      } else {
        const pteAddr = (pde & ~0xfff) | (((lin >>> 12) & 0x3ff) << 2);
        const pte = this.mem.read32(pteAddr);
        if (!(pte & 1)) this.pageFault(lin, 0, write, user);
        canUserRead = (pde & pte & 4) !== 0;
        canUserWrite = canUserRead && (pde & pte & 2) !== 0;
        canSupWrite = !wp || (pde & pte & 2) !== 0;
        this.checkPageAccess(lin, write, user, canUserRead, canUserWrite, canSupWrite);
        if (!(pde & 0x20)) this.mem.write32(pdeAddr, pde | 0x20);
        const newPte = pte | 0x20 | (write ? 0x40 : 0);
        if (newPte !== pte) this.mem.write32(pteAddr, newPte);
        if (!(newPte & 0x40)) { canUserWrite = false; canSupWrite = false; }
        global = (pte & 0x100) !== 0 && (this.cr4 & CR4_PGE) !== 0;
        phys = (pte & ~0xfff) | (lin & 0xfff);
      }
    }
    phys &= this.mem.a20Mask;
    // Fill the TLB for this page where memory is directly addressable.
    const page = lin >>> 12, ppage = phys >>> 12;
    const rOff = this.mem.readOffset[ppage], wOff = this.mem.writeOffset[ppage];
    if (rOff >= 0 || wOff >= 0) {
      if (this.tlbReadSup[page] === -1 && this.tlbWriteSup[page] === -1 && this.tlbReadUser[page] === -1) {
        if (this.tlbCount < TLB_LIST_SIZE) this.tlbList[this.tlbCount] = page;
        this.tlbCount++;
        if (this.tlbCount > TLB_LIST_SIZE) { this.flushTlb(true); this.tlbList[0] = page; this.tlbCount = 1; }
      }
      this.tlbReadSup[page] = rOff;
      this.tlbWriteSup[page] = canSupWrite ? wOff : -1;
      this.tlbReadUser[page] = canUserRead ? rOff : -1;
      this.tlbWriteUser[page] = canUserWrite ? wOff : -1;
      this.tlbGlobal[page] = global ? 1 : 0;
    }
    return phys;
  }

  private checkPageAccess(lin: number, write: boolean, user: boolean, ur: boolean, uw: boolean, sw: boolean): void {
    if (user ? (write ? !uw : !ur) : (write && !sw)) this.pageFault(lin, 1, write, user);
  }

  private pageFault(lin: number, present: number, write: boolean, user: boolean): never {
    this.cr2 = lin;
    return this.raise(Vector.PF, present | (write ? 2 : 0) | (user ? 4 : 0));
  }

  /** True while an access counts as a user-mode access (CPL 3, not an implicit supervisor access). */
  private supervisorAccess = false;
  private get userAccess(): boolean { return this.cpl === 3 && !this.supervisorAccess; }

  // ---- linear memory access --------------------------------------------------------------

  readLin8(lin: number): number {
    const o = this.tlbRead[lin >>> 12];
    if (o >= 0) return this.bytes[o + (lin & 0xfff)];
    return this.mem.read8(this.translate(lin, false, this.userAccess));
  }
  readLin16(lin: number): number {
    const o = this.tlbRead[lin >>> 12];
    if (o >= 0 && (lin & 0xfff) !== 0xfff) { const i = o + (lin & 0xfff); return this.bytes[i] | (this.bytes[i + 1] << 8); }
    if ((lin & 0xfff) === 0xfff) return this.readLin8(lin) | (this.readLin8((lin + 1) | 0) << 8);
    return this.mem.read16(this.translate(lin, false, this.userAccess));
  }
  readLin32(lin: number): number {
    const o = this.tlbRead[lin >>> 12];
    if (o >= 0 && (lin & 0xfff) <= 0xffc) {
      const i = o + (lin & 0xfff);
      if (!(i & 3)) return this.words[i >> 2];
      const b = this.bytes;
      return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    }
    if ((lin & 0xfff) > 0xffc) {
      // Crossing a page: both halves must translate before anything is returned.
      let v = 0;
      for (let k = 0; k < 4; k++) v |= this.readLin8((lin + k) | 0) << (k << 3);
      return v;
    }
    return this.mem.read32(this.translate(lin, false, this.userAccess));
  }
  writeLin8(lin: number, v: number): void {
    const o = this.tlbWrite[lin >>> 12];
    if (o >= 0) {
      this.bytes[o + (lin & 0xfff)] = v;
      if (this.codeChunks[o >>> 12] !== 0) this.mem.codeWritten(o + (lin & 0xfff), 1);
      return;
    }
    this.mem.write8(this.translate(lin, true, this.userAccess), v);
    this.attention = true; // an MMIO write may raise an interrupt
  }
  writeLin16(lin: number, v: number): void {
    const o = this.tlbWrite[lin >>> 12];
    if (o >= 0 && (lin & 0xfff) !== 0xfff) {
      const i = o + (lin & 0xfff);
      this.bytes[i] = v; this.bytes[i + 1] = v >> 8;
      if (this.codeChunks[o >>> 12] !== 0) this.mem.codeWritten(i, 2);
      return;
    }
    if ((lin & 0xfff) === 0xfff) {
      this.translate((lin + 1) | 0, true, this.userAccess); // fault before any byte is written
      this.writeLin8(lin, v); this.writeLin8((lin + 1) | 0, v >> 8);
      return;
    }
    this.mem.write16(this.translate(lin, true, this.userAccess), v);
    this.attention = true;
  }
  writeLin32(lin: number, v: number): void {
    const o = this.tlbWrite[lin >>> 12];
    if (o >= 0 && (lin & 0xfff) <= 0xffc) {
      const i = o + (lin & 0xfff);
      if (!(i & 3)) this.words[i >> 2] = v;
      else { const b = this.bytes; b[i] = v; b[i + 1] = v >> 8; b[i + 2] = v >> 16; b[i + 3] = v >> 24; }
      if (this.codeChunks[o >>> 12] !== 0) this.mem.codeWritten(i, 4);
      return;
    }
    if ((lin & 0xfff) > 0xffc) {
      this.translate(lin, true, this.userAccess);
      this.translate((lin + 3) | 0, true, this.userAccess);
      for (let k = 0; k < 4; k++) this.writeLin8((lin + k) | 0, v >> (k << 3));
      return;
    }
    this.mem.write32(this.translate(lin, true, this.userAccess), v);
    this.attention = true;
  }

  /** Index into `bytes` of a linear address for reading (translating on a TLB miss), or -1 for MMIO. */
  hostReadIndex(lin: number): number {
    let o = this.tlbRead[lin >>> 12];
    if (o < 0) { this.translate(lin, false, this.userAccess); o = this.tlbRead[lin >>> 12]; }
    return o < 0 ? -1 : o + (lin & 0xfff);
  }
  /** Index into `bytes` of a linear address for writing (translating on a TLB miss), or -1. */
  hostWriteIndex(lin: number): number {
    let o = this.tlbWrite[lin >>> 12];
    if (o < 0) { this.translate(lin, true, this.userAccess); o = this.tlbWrite[lin >>> 12]; }
    return o < 0 ? -1 : o + (lin & 0xfff);
  }

  /** Implicit supervisor-mode accesses (descriptor tables, TSS) regardless of CPL. */
  sysRead32(lin: number): number {
    const saved = this.supervisorAccess, tr = this.tlbRead;
    this.supervisorAccess = true; this.tlbRead = this.tlbReadSup;
    try { return this.readLin32(lin); } finally { this.supervisorAccess = saved; this.tlbRead = tr; }
  }
  sysRead16(lin: number): number {
    const saved = this.supervisorAccess, tr = this.tlbRead;
    this.supervisorAccess = true; this.tlbRead = this.tlbReadSup;
    try { return this.readLin16(lin); } finally { this.supervisorAccess = saved; this.tlbRead = tr; }
  }
  sysRead8(lin: number): number {
    const saved = this.supervisorAccess, tr = this.tlbRead;
    this.supervisorAccess = true; this.tlbRead = this.tlbReadSup;
    try { return this.readLin8(lin); } finally { this.supervisorAccess = saved; this.tlbRead = tr; }
  }
  sysWrite32(lin: number, v: number): void {
    const saved = this.supervisorAccess, tw = this.tlbWrite;
    this.supervisorAccess = true; this.tlbWrite = this.tlbWriteSup;
    try { this.writeLin32(lin, v); } finally { this.supervisorAccess = saved; this.tlbWrite = tw; }
  }
  sysWrite16(lin: number, v: number): void {
    const saved = this.supervisorAccess, tw = this.tlbWrite;
    this.supervisorAccess = true; this.tlbWrite = this.tlbWriteSup;
    try { this.writeLin16(lin, v); } finally { this.supervisorAccess = saved; this.tlbWrite = tw; }
  }
  sysWrite8(lin: number, v: number): void {
    const saved = this.supervisorAccess, tw = this.tlbWrite;
    this.supervisorAccess = true; this.tlbWrite = this.tlbWriteSup;
    try { this.writeLin8(lin, v); } finally { this.supervisorAccess = saved; this.tlbWrite = tw; }
  }

  // ---- segmented memory access -----------------------------------------------------------

  /** Linear address of seg:off for an access of `size` bytes, after limit and rights checks. */
  linRead(s: number, off: number, size: number): number {
    if (this.segFastRead[s]) return (this.segBase[s] + off) | 0;
    return this.checkSegment(s, off, size, false);
  }
  linWrite(s: number, off: number, size: number): number {
    if (this.segFastWrite[s]) return (this.segBase[s] + off) | 0;
    return this.checkSegment(s, off, size, true);
  }

  private checkSegment(s: number, off: number, size: number, write: boolean): number {
    const acc = this.segAccess[s];
    const vec = s === Seg.SS ? Vector.SS : Vector.GP;
    if (acc & SEG_NULL) this.raise(vec, 0);
    if (this.protectedMode && !this.vm86) {
      if (write ? (acc & ACC_CODE) || !(acc & ACC_RW) : (acc & (ACC_CODE | ACC_RW)) === ACC_CODE) this.raise(vec, 0);
    }
    const limit = this.segLimit[s] >>> 0;
    const first = off >>> 0, last = (off + size - 1) >>> 0;
    if (!(acc & ACC_CODE) && (acc & ACC_DC)) {
      // Expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF.
      const upper = acc & ACC_DB ? 0xffffffff : 0xffff;
      if (first <= limit || last > upper || last < first) this.raise(vec, 0);
    } else if (last > limit || last < first) {
      this.raise(vec, 0);
    }
    const lin = (this.segBase[s] + off) | 0;
    if (this.accessChecks) this.checkAccess(lin, size, write);
    return lin;
  }

  read8(s: number, off: number): number { return this.readLin8(this.linRead(s, off, 1)); }
  read16(s: number, off: number): number { return this.readLin16(this.linRead(s, off, 2)); }
  read32(s: number, off: number): number { return this.readLin32(this.linRead(s, off, 4)); }
  write8(s: number, off: number, v: number): void { this.writeLin8(this.linWrite(s, off, 1), v); }
  write16(s: number, off: number, v: number): void { this.writeLin16(this.linWrite(s, off, 2), v); }
  write32(s: number, off: number, v: number): void { this.writeLin32(this.linWrite(s, off, 4), v); }

  /** Check that seg:off is writable (for read-modify-write operands, before any register changes). */
  checkWritable(s: number, off: number, size: number): void {
    const lin = this.linWrite(s, off, size);
    if (this.tlbWrite[lin >>> 12] < 0) this.translate(lin, true, this.userAccess);
    if (((lin & 0xfff) + size) > 0x1000) this.translate((lin + size - 1) | 0, true, this.userAccess);
  }

  // ---- stack -----------------------------------------------------------------------------

  get sp(): number { return this.stack32 ? this.regs[Reg.ESP] : this.regs16[Reg.ESP << 1]; }
  setSp(v: number): void {
    if (this.stack32) this.regs[Reg.ESP] = v; else this.regs16[Reg.ESP << 1] = v;
  }
  push16(v: number): void {
    const sp = this.stack32 ? (this.regs[Reg.ESP] - 2) | 0 : (this.regs16[8] - 2) & 0xffff;
    this.write16(Seg.SS, sp, v);
    this.setSp(sp);
  }
  push32(v: number): void {
    const sp = this.stack32 ? (this.regs[Reg.ESP] - 4) | 0 : (this.regs16[8] - 4) & 0xffff;
    this.write32(Seg.SS, sp, v);
    this.setSp(sp);
  }
  pushOp(v: number): void { if (this.o32) this.push32(v); else this.push16(v); }
  pop16(): number {
    const sp = this.sp;
    const v = this.read16(Seg.SS, sp);
    this.setSp(this.stack32 ? (sp + 2) | 0 : (sp + 2) & 0xffff);
    return v;
  }
  pop32(): number {
    const sp = this.sp;
    const v = this.read32(Seg.SS, sp);
    this.setSp(this.stack32 ? (sp + 4) | 0 : (sp + 4) & 0xffff);
    return v;
  }
  popOp(): number { return this.o32 ? this.pop32() : this.pop16(); }
  /** Read the stack at sp + delta without popping (for instructions that must not fault half-done). */
  peek16(delta: number): number { return this.read16(Seg.SS, this.stack32 ? (this.regs[Reg.ESP] + delta) | 0 : (this.regs16[8] + delta) & 0xffff); }
  peek32(delta: number): number { return this.read32(Seg.SS, this.stack32 ? (this.regs[Reg.ESP] + delta) | 0 : (this.regs16[8] + delta) & 0xffff); }
  addSp(delta: number): void { this.setSp(this.stack32 ? (this.regs[Reg.ESP] + delta) | 0 : (this.regs16[8] + delta) & 0xffff); }

  // ---- instruction fetch -----------------------------------------------------------------

  /** Drop the fetch window (the mapping of CS:EIP may have changed); a running block stops at once. */
  invalidateFetch(): void { this.fetchSpan = -1; this.attention = true; }

  fetch8(): number {
    const eip = this.eip >>> 0;
    if (((eip - this.fetchBase) >>> 0) > this.fetchSpan) this.refillFetch();
    this.eip = (eip + 1) | 0;
    return this.bytes[this.fetchDelta + eip];
  }
  fetch16(): number {
    const eip = this.eip >>> 0;
    if (((eip - this.fetchBase) >>> 0) + 1 > this.fetchSpan) { const lo = this.fetch8(); return lo | (this.fetch8() << 8); }
    const i = this.fetchDelta + eip, b = this.bytes;
    this.eip = (eip + 2) | 0;
    return b[i] | (b[i + 1] << 8);
  }
  fetch32(): number {
    const eip = this.eip >>> 0;
    if (((eip - this.fetchBase) >>> 0) + 3 > this.fetchSpan) { const lo = this.fetch16(); return lo | (this.fetch16() << 16); }
    const i = this.fetchDelta + eip, b = this.bytes;
    this.eip = (eip + 4) | 0;
    return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
  }
  fetchS8(): number { return (this.fetch8() << 24) >> 24; }

  /** Slow path of fetch8: CS limit, the 15-byte rule, page translation, then a new window. */
  private refillFetch(): void {
    if (this.lookahead) throw BLOCK_END;
    const eip = this.eip >>> 0;
    if (eip - (this.instrStart >>> 0) >= 15 && eip >= (this.instrStart >>> 0)) this.raise(Vector.GP, 0);
    const limit = this.segLimit[Seg.CS] >>> 0;
    if (eip > limit) this.raise(Vector.GP, 0);
    const lin = (this.segBase[Seg.CS] + eip) | 0;
    let off = this.tlbRead[lin >>> 12];
    if (off < 0) {
      const phys = this.translate(lin, false, this.userAccess);
      off = this.mem.readOffset[phys >>> 12];
      if (off < 0) {
        // Executing from MMIO or unmapped space: copy the byte into a scratch window.
        this.execFromMmio(phys);
        return;
      }
    }
    // Window: this page, up to the CS limit.
    const pageEnd = eip + (0xfff - (lin & 0xfff));
    const end = Math.min(pageEnd, limit);
    const start = eip >= (lin & 0xfff) ? eip - (lin & 0xfff) : 0;
    this.fetchBase = start;
    this.fetchSpan = end - start;
    this.fetchDelta = off + (lin & 0xfff) - eip;
  }

  /**
   * Only an instruction with several prefixes can exceed the 15-byte limit: the decoder calls
   * this after them, so fetching past byte 15 goes through refillFetch, which raises #GP.
   */
  capFetchAtInstructionLimit(): void {
    const last = ((this.instrStart >>> 0) + 14) - this.fetchBase;
    if (last < this.fetchSpan) this.fetchSpan = last < 0 ? -1 : last;
  }

  /** Code in MMIO or unmapped space: serve one byte at a time from the bus's scratch byte. */
  private execFromMmio(phys: number): void {
    const scratch = this.mem.scratchOffset;
    this.bytes[scratch] = this.mem.read8(phys);
    this.fetchBase = this.eip >>> 0;
    this.fetchSpan = 0;
    this.fetchDelta = scratch - (this.eip >>> 0);
  }

  // ---- faults and the dispatch loop ------------------------------------------------------

  /** Raise a guest exception from inside an instruction. errorCode < 0 means none. */
  raise(vector: number, errorCode = -1): never {
    this.faultVector = vector;
    this.faultHasError = errorCode >= 0 && hasErrorCode(vector);
    this.faultError = errorCode & 0xffff;
    if (vector === Vector.PF) this.faultError = errorCode;
    throw FAULT;
  }

  /** Ask `run` to return after the current instruction (from a device or the host). */
  requestStop(): void { this.stopRequested = true; this.attention = true; }
  /** Forget a stop request (a restored machine's timers re-armed while loading ask for one). */
  cancelStopRequest(): void { this.stopRequested = false; }

  /** Tell the CPU that an interrupt line may have changed (devices, timers). */
  interruptPending(): void { this.attention = true; }

  /**
   * Execute up to `budget` instructions. Returns the number retired; `stopReason` says why it
   * returned early (or Stop.None when the budget ran out).
   */
  run(budget: number): number {
    this.stopReason = Stop.None;
    this.sliceRetired = 0;
    while (this.runSlice(budget)) { /* resumed after a delivered fault */ }
    const n = this.sliceRetired;
    this.instructionCount += n;
    this.sliceRetired = 0;
    return n;
  }

  /**
   * The dispatch loop proper, until the budget is spent or something stops it; returns true when
   * a fault was delivered and the loop should go on. Kept apart from `run`, whose epilogue runs
   * once per slice: inside the long-running (on-stack-replaced) loop that epilogue would have no
   * type feedback yet and deoptimize the loop at the end of every slice.
   */
  private runSlice(budget: number): boolean {
    try {
      while (this.sliceRetired < budget) {
        if (this.attention) {
          if (!this.slowStep()) return false;
          this.sliceRetired++;
          continue;
        }
        this.runBlock(budget);
      }
      return false;
    } catch (e) {
      return this.faulted(e, budget);
    }
  }

  private faulted(e: unknown, budget: number): boolean {
    if (e !== FAULT) throw e;
    this.sliceRetired++;
    this.handleFault();
    return (this.stopReason as Stop) !== Stop.TripleFault && this.sliceRetired < budget;
  }

  /**
   * Run the decoded block at CS:EIP (decoding it first on a miss), one instruction at a time,
   * leaving after the instruction that ends it, or as soon as an instruction needs the slow path
   * (attention), changes the fetch mapping, writes into the block, or uses up the budget.
   */
  private runBlock(budget: number): void {
    let eip = this.eip;
    if (((eip - this.fetchBase) >>> 0) > this.fetchSpan) {
      this.instrStart = eip;
      this.refillFetch(); // a fetch fault here is the first instruction's
    }
    const host = (this.fetchDelta + eip) | 0;
    const key = BlockCache.key(host, this.code32);
    let b = this.blocks.get(key);
    if (b === undefined) {
      if (host >= this.mem.scratchOffset) { this.instrStart = eip; execute(this); this.sliceRetired++; return; } // code in MMIO
      const built = this.buildBlock(host, key);
      if (!built) { this.instrStart = eip; execute(this); this.sliceRetired++; return; } // crosses a page
      b = built;
    } else if (((eip + b.bytes - 1 - this.fetchBase) >>> 0) > this.fetchSpan) {
      this.instrStart = eip; execute(this); this.sliceRetired++; return; // the window is shorter than the block (CS limit)
    }
    const from = this.chainFrom;
    if (from !== null) { from.links[this.chainExit] = b; this.chainFrom = null; }
    let left = budget - this.sliceRetired;
    if (left >= b.count && (b.compiled !== null || (this.jit !== null && ++b.hits >= this.jit.threshold))) {
      if (b.compiled === null) b.compiled = this.jit!.compile(this, b);
      // Compiled blocks chain through their exits' links while nothing needs the slow path.
      let run: Block = b;
      for (;;) {
        const exit = run.compiled!(this, left);
        if (this.attention) return;
        const next: Block | null = run.links[exit];
        eip = this.eip;
        left = budget - this.sliceRetired;
        if (next === null || !next.valid || next.compiled === null || left < next.count || next.key !== BlockCache.key((this.fetchDelta + eip) | 0, this.code32)
          || ((eip + next.bytes - 1 - this.fetchBase) >>> 0) > this.fetchSpan || ((eip - this.fetchBase) >>> 0) > this.fetchSpan) {
          this.chainFrom = run; this.chainExit = exit;
          return;
        }
        run = next;
      }
    }
    // Anything that must stop the block sets `attention`: interrupts and traps, a new fetch
    // window (invalidateFetch), a write into cached code (the block cache's listener).
    const instrs = b.instrs, n = Math.min(b.count, left);
    for (let i = 0; i < n; i++) {
      const ins = instrs[i];
      this.instrStart = eip;
      eip = (eip + ins.len) | 0;
      this.eip = eip;
      executeInstr(this, ins);
      this.sliceRetired++;
      if (this.eip !== eip || this.attention) return;
    }
  }

  /**
   * Decode the block starting at CS:EIP. The first instruction is decoded for real (its fetch
   * faults are delivered); the rest only while the bytes are in the current fetch window, so
   * decoding ahead never faults, never walks page tables and never changes CR2.
   */
  private buildBlock(host: number, key: number): Block | null {
    const b = new Block();
    const start = this.eip;
    b.host = host; b.key = key;
    this.instrStart = start;
    const first = new Instr();
    const base0 = this.fetchBase, delta0 = this.fetchDelta;
    decode(this, first);
    if (this.fetchBase !== base0 || this.fetchDelta !== delta0) { this.eip = start; return null; } // not cached: it spans two pages
    b.instrs.push(first);
    const base = this.fetchBase, span = this.fetchSpan, delta = this.fetchDelta;
    let last = first;
    this.lookahead = true;
    try {
      while ((!last.ends || last.cond) && b.instrs.length < MAX_BLOCK && (((this.eip >>> 0) - this.fetchBase) >>> 0) <= this.fetchSpan) {
        const ins = new Instr();
        this.instrStart = this.eip;
        decode(this, ins);
        b.instrs.push(ins);
        last = ins;
      }
    } catch (e) {
      if (e !== BLOCK_END && e !== FAULT) throw e; // the instruction that could not be decoded starts the next block
    } finally {
      this.lookahead = false;
      this.fetchBase = base; this.fetchSpan = span; this.fetchDelta = delta;
    }
    b.count = b.instrs.length;
    let bytes = 0;
    for (const ins of b.instrs) bytes += ins.len;
    b.bytes = bytes;
    this.eip = start;
    this.instrStart = start;
    this.blocks.add(b);
    return b;
  }

  /** Instructions retired so far in the current `run` slice (devices read virtual time mid-slice). */
  sliceRetired = 0;

  /** One instruction with every asynchronous check. Returns false to leave the run loop. */
  private slowStep(): boolean {
    this.attention = false;
    // A stop leaves `attention` set: an interrupt that became pending meanwhile is still taken next.
    if (this.stopRequested) { this.stopRequested = false; this.stopReason = Stop.Request; this.attention = true; return false; }
    if (this.dataBreakpointHits && !this.debugShadow) {
      // A data breakpoint hit by the previous instruction: #DB trap before the next one.
      this.dr[6] = (this.dr[6] & ~0xf) | this.dataBreakpointHits;
      this.dataBreakpointHits = 0;
      this.attention = true;
      this.instrStart = this.eip;
      deliverInterrupt(this, Vector.DB, -1, false, false);
      return true;
    }
    // Interrupts are taken between instructions, except right after STI / MOV SS.
    if (this.interruptShadow) {
      this.interruptShadow = false;
      this.attention = true;
    } else {
      if (this.nmiPending) {
        this.nmiPending = false; this.halted = false;
        this.instrStart = this.eip; // a fault while delivering returns here
        deliverInterrupt(this, Vector.NMI, -1, false, false);
        this.attention = true;
        return true;
      }
      if ((this.flags & IF) && this.pic && this.pic.hasInterrupt()) {
        this.halted = false;
        const vector = this.pic.acknowledge();
        this.instrStart = this.eip;
        deliverInterrupt(this, vector, -1, false, true);
        this.attention = true;
        return true;
      }
    }
    if (this.halted) {
      this.attention = true;
      this.stopReason = (this.flags & IF) ? Stop.Halt : Stop.HaltNoIrq;
      return false;
    }
    if (this.hostBreakpoints.size !== 0) {
      this.attention = true;
      if (this.hostBreakpoints.has((this.segBase[Seg.CS] + this.eip) | 0)) { this.stopReason = Stop.Debug; return false; }
    }
    const trap = (this.flags & TF) !== 0;
    this.instrStart = this.eip;
    this.debugShadow = false;
    if (this.execBreakpoints) { this.attention = true; this.checkExecBreakpoint(); }
    const rfBefore = this.flags & RF; // RF covers exactly one instruction (IRET may set it for the next)
    execute(this);
    if (rfBefore) this.flags &= ~RF;
    if (trap && !this.debugShadow) {
      this.dr[6] |= 0x4000; // BS
      this.attention = true;
      this.instrStart = this.eip;
      deliverInterrupt(this, Vector.DB, -1, false, false);
    }
    if (this.flags & TF) this.attention = true;
    return true;
  }

  private handleFault(): void {
    const vector = this.faultVector;
    const cls = faultClass(vector);
    this.eip = this.instrStart;
    this.invalidateFetch();
    this.attention = true;
    this.halted = false;
    if (this.deliveringClass >= 0) {
      // A fault while delivering another: the double-fault rules of SDM table 6-5.
      const prev = this.deliveringClass;
      this.deliveringClass = -1;
      if (prev === 3 /* double fault */) { this.tripleFault(); return; }
      if ((prev === 1 && cls === 1) || (prev === 2 && cls !== 0)) {
        this.deliver(Vector.DF, 0, 3);
        return;
      }
    }
    this.deliver(vector, this.faultHasError ? this.faultError : -1, cls);
  }

  private deliver(vector: number, error: number, cls: number): void {
    this.deliveringClass = cls;
    // Fault frames carry RF = 1 so that the restarted instruction does not re-trigger an
    // instruction breakpoint (SDM 17.3.1.1); #DB and the aborts (#DF, #MC) do not set it.
    if (vector !== Vector.DB && vector !== Vector.DF && vector !== Vector.MC) this.flags |= RF;
    try {
      deliverInterrupt(this, vector, error, false, false);
      this.deliveringClass = -1;
    } catch (e) {
      if (e !== FAULT) throw e;
      this.handleFault();
    }
  }

  private tripleFault(): void {
    if (this.resetOnTripleFault) {
      this.reset();
    } else {
      this.stopReason = Stop.TripleFault;
      this.halted = true;
    }
  }

  /** Pending faults raised while delivering are tracked via deliveringClass; exposed for system.ts. */
  get isDelivering(): boolean { return this.deliveringClass >= 0; }

  /** IOPL of the current flags. */
  get iopl(): number { return (this.flags & IOPL) >>> 12; }
}

export const SIZE_MASK = [0xff, 0xffff, -1];
export const SIZE_SIGN = [0x80, 0x8000, 0x80000000 | 0];
