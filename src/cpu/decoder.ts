// The decoder: turns the bytes at CS:EIP into an instruction record, driven by the opcode map in
// opcodes.ts. It reads code through the CPU's fetch window (so fetch faults — #PF on the byte
// that crosses into an absent page, #GP past the CS limit or the 15-byte limit — are raised on
// exactly the byte that needs them) and changes nothing else in the CPU: EIP advances over the
// instruction, and the record holds everything the handlers need. Effective addresses are kept
// as their form (base, index, scale, displacement) and computed when the instruction runs, so a
// record can be replayed from the decoded-block cache.

import { Seg, Reg } from './cpu.ts';
import type { Cpu } from './cpu.ts';
import { Vector } from './fault.ts';
import {
  Attr, Imm, opAttr, opImm, opLockRegs, opUdEarlyRegs, opUdLateRegs, opEndsRegs, opCondBranch,
} from './opcodes.ts';

/** One decoded instruction. Records are preallocated (per block, or one scratch record) and reused. */
export class Instr {
  /** Opcode: 0x000-0x0FF one-byte, 0x100-0x1FF after 0F. */
  op = 0;
  /** Length in bytes, prefixes included. */
  len = 0;
  o32 = false;
  a32 = false;
  /** Segment override prefix, or -1. */
  seg = -1;
  /** 0 none, 1 REPNE (F2), 2 REP/REPE (F3). */
  rep = 0;
  lock = false;
  modrm = 0;
  // Effective address form (memory operands): offset = (disp + regs[base] + (regs[index] << scale)) & mask.
  eaSeg = 0;
  eaBase = -1;
  eaIndex = -1;
  eaScale = 0;
  eaDisp = 0;
  eaMask = -1;
  imm = 0;
  imm2 = 0;
  /** The instruction ends a decoded block (control transfer, mode or segment change…). */
  ends = false;
  /** A conditional branch: the block may go on after it, left only when the branch is taken. */
  cond = false;
}

/** Decode the instruction at CS:EIP into `ins`, advancing EIP past it. cpu.instrStart must be EIP. */
export function decode(cpu: Cpu, ins: Instr): void {
  const start = cpu.eip;
  let op = cpu.fetch8();
  let o32 = cpu.code32, a32 = cpu.code32, seg = -1, rep = 0, lock = false;
  if (opAttr[op] & Attr.Prefix) {
    let count = 1;
    do {
      if (count === 4) cpu.capFetchAtInstructionLimit(); // only many prefixes can exceed 15 bytes
      switch (op) {
        case 0x26: seg = Seg.ES; break;
        case 0x2e: seg = Seg.CS; break;
        case 0x36: seg = Seg.SS; break;
        case 0x3e: seg = Seg.DS; break;
        case 0x64: seg = Seg.FS; break;
        case 0x65: seg = Seg.GS; break;
        case 0x66: o32 = !cpu.code32; break;
        case 0x67: a32 = !cpu.code32; break;
        case 0xf0: lock = true; break;
        case 0xf2: rep = 1; break;
        default: rep = 2; break; // F3
      }
      op = cpu.fetch8();
      count++;
    } while (opAttr[op] & Attr.Prefix);
    if (count === 4) cpu.capFetchAtInstructionLimit();
  }
  if (op === 0x0f) op = 0x100 | cpu.fetch8();
  const attr = opAttr[op];
  ins.op = op;
  ins.o32 = o32; ins.a32 = a32; ins.seg = seg; ins.rep = rep; ins.lock = lock;
  ins.imm = 0; ins.imm2 = 0;
  ins.cond = opCondBranch[op] !== 0;
  if (!(attr & Attr.Modrm)) {
    // LOCK on a form without a ModRM operand: #UD (no byte past the instruction is fetched).
    if (lock) cpu.raise(Vector.UD);
    if (attr & Attr.Invalid) cpu.raise(Vector.UD);
    ins.modrm = 0;
    ins.ends = opEndsRegs[op] !== 0;
  } else {
    const m = cpu.fetch8();
    const regBit = 1 << ((m >> 3) & 7);
    ins.modrm = m;
    if (lock && (m >= 0xc0 || !(opLockRegs[op] & regBit))) cpu.raise(Vector.UD);
    if (opUdEarlyRegs[op] & regBit) cpu.raise(Vector.UD);
    if (m < 0xc0 && !(attr & Attr.RegOnly)) decodeEa(cpu, ins, m, a32, seg);
    if (opUdLateRegs[op] & regBit) cpu.raise(Vector.UD);
    ins.ends = (opEndsRegs[op] & regBit) !== 0;
    if ((attr & Attr.ImmIfReg01) && regBit > 2) { ins.len = (cpu.eip - start) | 0; return; }
  }
  switch (opImm[op]) {
    case Imm.None: break;
    case Imm.Ib: ins.imm = cpu.fetch8(); break;
    case Imm.Ibs: ins.imm = cpu.fetchS8(); break;
    case Imm.Iw: ins.imm = cpu.fetch16(); break;
    case Imm.Iv: ins.imm = o32 ? cpu.fetch32() : cpu.fetch16(); break;
    case Imm.Jz: ins.imm = o32 ? cpu.fetch32() : (cpu.fetch16() << 16) >> 16; break;
    case Imm.Ob: ins.imm = a32 ? cpu.fetch32() : cpu.fetch16(); break;
    case Imm.Ap: ins.imm = o32 ? cpu.fetch32() : cpu.fetch16(); ins.imm2 = cpu.fetch16(); break;
    default: ins.imm = cpu.fetch16(); ins.imm2 = cpu.fetch8(); break; // IwIb (ENTER)
  }
  ins.len = (cpu.eip - start) | 0;
}

function decodeEa(cpu: Cpu, ins: Instr, m: number, a32: boolean, segOverride: number): void {
  const mod = m >> 6, rm = m & 7;
  let base = -1, index = -1, scale = 0, disp = 0, seg = Seg.DS;
  if (!a32) {
    switch (rm) {
      case 0: base = Reg.EBX; index = Reg.ESI; break;
      case 1: base = Reg.EBX; index = Reg.EDI; break;
      case 2: base = Reg.EBP; index = Reg.ESI; seg = Seg.SS; break;
      case 3: base = Reg.EBP; index = Reg.EDI; seg = Seg.SS; break;
      case 4: base = Reg.ESI; break;
      case 5: base = Reg.EDI; break;
      case 6: if (mod === 0) disp = cpu.fetch16(); else { base = Reg.EBP; seg = Seg.SS; } break;
      default: base = Reg.EBX; break;
    }
    if (mod === 1) disp = cpu.fetchS8();
    else if (mod === 2) disp = cpu.fetch16();
    ins.eaMask = 0xffff;
  } else {
    if (rm === 4) {
      const sib = cpu.fetch8();
      const b = sib & 7, i = (sib >> 3) & 7;
      if (b === 5 && mod === 0) disp = cpu.fetch32();
      else { base = b; if (b === 4 || b === 5) seg = Seg.SS; }
      if (i !== 4) { index = i; scale = sib >> 6; }
    } else if (rm === 5 && mod === 0) {
      disp = cpu.fetch32();
    } else {
      base = rm;
      if (rm === 5) seg = Seg.SS;
    }
    if (mod === 1) disp = (disp + cpu.fetchS8()) | 0;
    else if (mod === 2) disp = (disp + cpu.fetch32()) | 0;
    ins.eaMask = -1;
  }
  ins.eaBase = base; ins.eaIndex = index; ins.eaScale = scale; ins.eaDisp = disp;
  ins.eaSeg = segOverride >= 0 ? segOverride : seg;
}
