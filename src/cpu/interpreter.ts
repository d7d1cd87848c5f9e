// The instruction handlers: each instruction's semantics defined once here (or in the Cpu's ALU /
// system.ts), shared by every operand size through the size index (0 = 8, 1 = 16, 2 = 32 bits).
// Handlers take a decoded instruction record (decoder.ts): they never fetch code themselves, so
// the same record can be replayed from the decoded-block cache (blocks.ts), and the JIT can call
// them for whatever it does not inline.

import { Cpu, Seg, Reg, SIZE_MASK, SIZE_SIGN } from './cpu.ts';
import { Instr, decode } from './decoder.ts';
import { Vector } from './fault.ts';
import {
  CF, PF, AF, ZF, SF, OF, TF, IF, DF, NT, IOPL, RF, VM, AC, ID,
  CR0_EM, CR0_TS, CR0_MP, CR0_PE, CR0_PG, CR4_TSD,
} from './flags.ts';
import {
  loadSegment, farTransfer, farReturn, interruptReturn, deliverInterrupt, checkIoPermission,
  loadLdt, loadTaskRegister, probeDescriptor, cpuid, rdmsr, wrmsr, rdpmc, sysenter, sysexit,
} from './system.ts';

/** Decode and execute one instruction at CS:EIP (the path for instructions not run from a block). */
const scratch = new Instr();
export function execute(cpu: Cpu): void {
  decode(cpu, scratch);
  executeInstr(cpu, scratch);
}

/** Execute a decoded instruction; EIP already points past it and cpu.instrStart at it. */
export function executeInstr(cpu: Cpu, ins: Instr): void {
  cpu.o32 = ins.o32;
  cpu.a32 = ins.a32;
  cpu.segOverride = ins.seg;
  cpu.rep = ins.rep;
  const op = ins.op;
  if (op < 0x100) executeOpcode(cpu, ins, op); else executeTwoByte(cpu, ins, op & 0xff);
}

// ---- ModRM operands --------------------------------------------------------------------------

/** Take the instruction's ModRM operand: computes the effective address of a memory operand. */
function decodeModrm(cpu: Cpu, ins: Instr): number {
  const m = ins.modrm;
  cpu.modrm = m;
  if (m < 0xc0) {
    const r = cpu.regs;
    let off = ins.eaDisp;
    if (ins.eaBase >= 0) off += r[ins.eaBase];
    if (ins.eaIndex >= 0) off += r[ins.eaIndex] << ins.eaScale;
    cpu.eaOff = off & ins.eaMask;
    cpu.eaSeg = ins.eaSeg;
  }
  return m;
}

// Operand access through the decoded ModRM (register when mod = 3).
function readE(cpu: Cpu, size: number): number {
  const m = cpu.modrm;
  if (m >= 0xc0) {
    if (size === 2) return cpu.regs[m & 7];
    if (size === 1) return cpu.regs16[(m & 7) << 1];
    return cpu.getReg8(m & 7);
  }
  if (size === 2) return cpu.read32(cpu.eaSeg, cpu.eaOff);
  if (size === 1) return cpu.read16(cpu.eaSeg, cpu.eaOff);
  return cpu.read8(cpu.eaSeg, cpu.eaOff);
}
function writeE(cpu: Cpu, size: number, v: number): void {
  const m = cpu.modrm;
  if (m >= 0xc0) {
    if (size === 2) cpu.regs[m & 7] = v;
    else if (size === 1) cpu.regs16[(m & 7) << 1] = v;
    else cpu.setReg8(m & 7, v);
    return;
  }
  if (size === 2) cpu.write32(cpu.eaSeg, cpu.eaOff, v);
  else if (size === 1) cpu.write16(cpu.eaSeg, cpu.eaOff, v);
  else cpu.write8(cpu.eaSeg, cpu.eaOff, v);
}
/** Read a read-modify-write operand: a memory operand is checked for writability first so a fault leaves no trace. */
function readEForWrite(cpu: Cpu, size: number): number {
  if (cpu.modrm < 0xc0) cpu.checkWritable(cpu.eaSeg, cpu.eaOff, 1 << size);
  return readE(cpu, size);
}
function readG(cpu: Cpu, size: number): number {
  const g = (cpu.modrm >> 3) & 7;
  if (size === 2) return cpu.regs[g];
  if (size === 1) return cpu.regs16[g << 1];
  return cpu.getReg8(g);
}
function writeG(cpu: Cpu, size: number, v: number): void {
  const g = (cpu.modrm >> 3) & 7;
  if (size === 2) cpu.regs[g] = v;
  else if (size === 1) cpu.regs16[g << 1] = v;
  else cpu.setReg8(g, v);
}
function readReg(cpu: Cpu, size: number, r: number): number {
  if (size === 2) return cpu.regs[r];
  if (size === 1) return cpu.regs16[r << 1];
  return cpu.getReg8(r);
}
function writeReg(cpu: Cpu, size: number, r: number, v: number): void {
  if (size === 2) cpu.regs[r] = v;
  else if (size === 1) cpu.regs16[r << 1] = v;
  else cpu.setReg8(r, v);
}
function requireMemory(cpu: Cpu): void { if (cpu.modrm >= 0xc0) cpu.raise(Vector.UD); }

function jumpRel(cpu: Cpu, rel: number): void {
  cpu.eip = cpu.o32 ? (cpu.eip + rel) | 0 : (cpu.eip + rel) & 0xffff;
}

/** The operand size index for "v" operands. */
function vsize(cpu: Cpu): number { return cpu.o32 ? 2 : 1; }

// ---- the one-byte opcode map ---------------------------------------------------------------

function executeOpcode(cpu: Cpu, ins: Instr, op: number): void {
  const r = cpu.regs;
  switch (op) {
    // ALU: 00-3F, eight operations × six forms.
    case 0x00: case 0x08: case 0x10: case 0x18: case 0x20: case 0x28: case 0x30: case 0x38:
    case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39: {
      const size = op & 1 ? vsize(cpu) : 0, aop = op >> 3;
      decodeModrm(cpu, ins);
      const a = aop === 7 ? readE(cpu, size) : readEForWrite(cpu, size);
      const res = cpu.alu(aop, a, readG(cpu, size), size);
      if (aop !== 7) writeE(cpu, size, res);
      return;
    }
    case 0x02: case 0x0a: case 0x12: case 0x1a: case 0x22: case 0x2a: case 0x32: case 0x3a:
    case 0x03: case 0x0b: case 0x13: case 0x1b: case 0x23: case 0x2b: case 0x33: case 0x3b: {
      const size = op & 1 ? vsize(cpu) : 0, aop = op >> 3;
      decodeModrm(cpu, ins);
      const res = cpu.alu(aop, readG(cpu, size), readE(cpu, size), size);
      if (aop !== 7) writeG(cpu, size, res);
      return;
    }
    case 0x04: case 0x0c: case 0x14: case 0x1c: case 0x24: case 0x2c: case 0x34: case 0x3c: {
      const res = cpu.alu(op >> 3, cpu.regs8[0], ins.imm, 0);
      if (op !== 0x3c) cpu.regs8[0] = res;
      return;
    }
    case 0x05: case 0x0d: case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d: {
      const size = vsize(cpu);
      const res = cpu.alu(op >> 3, readReg(cpu, size, 0), ins.imm, size);
      if (op !== 0x3d) writeReg(cpu, size, 0, res);
      return;
    }
    case 0x06: cpu.pushOp(cpu.sreg[Seg.ES]); return;
    case 0x07: popSegment(cpu, Seg.ES); return;
    case 0x0e: cpu.pushOp(cpu.sreg[Seg.CS]); return;
    case 0x16: cpu.pushOp(cpu.sreg[Seg.SS]); return;
    case 0x17: popSegment(cpu, Seg.SS); return;
    case 0x1e: cpu.pushOp(cpu.sreg[Seg.DS]); return;
    case 0x1f: popSegment(cpu, Seg.DS); return;
    case 0x27: daa(cpu); return;
    case 0x2f: das(cpu); return;
    case 0x37: aaa(cpu, 1); return;
    case 0x3f: aaa(cpu, -1); return;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47: {
      const size = vsize(cpu);
      writeReg(cpu, size, op & 7, cpu.inc(readReg(cpu, size, op & 7), size));
      return;
    }
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
      const size = vsize(cpu);
      writeReg(cpu, size, op & 7, cpu.dec(readReg(cpu, size, op & 7), size));
      return;
    }
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      if (cpu.o32) cpu.push32(r[op & 7]); else cpu.push16(cpu.regs16[(op & 7) << 1]);
      return;
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
      if (cpu.o32) { const v = cpu.pop32(); r[op & 7] = v; }
      else { const v = cpu.pop16(); cpu.regs16[(op & 7) << 1] = v; }
      return;
    case 0x60: pusha(cpu); return;
    case 0x61: popa(cpu); return;
    case 0x62: bound(cpu, ins); return;
    case 0x63: arpl(cpu, ins); return;
    case 0x68: cpu.pushOp(ins.imm); return;
    case 0x69: case 0x6b: {
      const size = vsize(cpu);
      decodeModrm(cpu, ins);
      const a = readE(cpu, size);
      const b = ins.imm;
      writeG(cpu, size, imulTruncating(cpu, a, b, size));
      return;
    }
    case 0x6a: cpu.pushOp(ins.imm); return;
    case 0x6c: case 0x6d: insString(cpu, op === 0x6c ? 0 : vsize(cpu)); return;
    case 0x6e: case 0x6f: outs(cpu, op === 0x6e ? 0 : vsize(cpu)); return;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f: {
      if (cpu.condition(op & 15)) jumpRel(cpu, ins.imm);
      return;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: {
      const size = op & 1 ? vsize(cpu) : 0;
      const m = decodeModrm(cpu, ins), aop = (m >> 3) & 7;
      const a = aop === 7 ? readE(cpu, size) : readEForWrite(cpu, size);
      const b = ins.imm & SIZE_MASK[size];
      const res = cpu.alu(aop, a, b, size);
      if (aop !== 7) writeE(cpu, size, res);
      return;
    }
    case 0x84: case 0x85: {
      const size = op & 1 ? vsize(cpu) : 0;
      decodeModrm(cpu, ins);
      cpu.setLazyLogic(readE(cpu, size) & readG(cpu, size), size);
      return;
    }
    case 0x86: case 0x87: {
      const size = op & 1 ? vsize(cpu) : 0;
      decodeModrm(cpu, ins);
      const a = readEForWrite(cpu, size);
      writeE(cpu, size, readG(cpu, size));
      writeG(cpu, size, a);
      return;
    }
    case 0x88: decodeModrm(cpu, ins); writeE(cpu, 0, readG(cpu, 0)); return;
    case 0x89: { const size = vsize(cpu); decodeModrm(cpu, ins); writeE(cpu, size, readG(cpu, size)); return; }
    case 0x8a: decodeModrm(cpu, ins); writeG(cpu, 0, readE(cpu, 0)); return;
    case 0x8b: { const size = vsize(cpu); decodeModrm(cpu, ins); writeG(cpu, size, readE(cpu, size)); return; }
    case 0x8c: {
      const m = decodeModrm(cpu, ins), s = (m >> 3) & 7;
      if (s > 5) cpu.raise(Vector.UD);
      // To a register the full operand size is written (upper half zero); to memory always 16 bits.
      if (m >= 0xc0) writeE(cpu, vsize(cpu), cpu.sreg[s]); else writeE(cpu, 1, cpu.sreg[s]);
      return;
    }
    case 0x8d: {
      const m = decodeModrm(cpu, ins);
      if (m >= 0xc0) cpu.raise(Vector.UD);
      writeG(cpu, vsize(cpu), cpu.eaOff);
      return;
    }
    case 0x8e: {
      const m = decodeModrm(cpu, ins), s = (m >> 3) & 7;
      if (s === Seg.CS || s > 5) cpu.raise(Vector.UD);
      loadSegment(cpu, s, readE(cpu, 1));
      if (s === Seg.SS) { cpu.interruptShadow = true; cpu.debugShadow = true; cpu.attention = true; }
      return;
    }
    case 0x8f: {
      // POP Ev: ESP is incremented before the destination address is used (SDM, POP).
      const size = vsize(cpu);
      const v = size === 2 ? cpu.peek32(0) : cpu.peek16(0);
      const oldEsp = r[Reg.ESP];
      cpu.addSp(size === 2 ? 4 : 2);
      try {
        decodeModrm(cpu, ins);
        writeE(cpu, size, v);
      } catch (e) { r[Reg.ESP] = oldEsp; throw e; }
      return;
    }
    case 0x90:
      return; // NOP; F3 90 = PAUSE
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
      const size = vsize(cpu), a = readReg(cpu, size, 0);
      writeReg(cpu, size, 0, readReg(cpu, size, op & 7));
      writeReg(cpu, size, op & 7, a);
      return;
    }
    case 0x98:
      if (cpu.o32) r[Reg.EAX] = (r[Reg.EAX] << 16) >> 16;
      else cpu.regs16[0] = (cpu.regs8[0] << 24) >> 24;
      return;
    case 0x99:
      if (cpu.o32) r[Reg.EDX] = r[Reg.EAX] >> 31;
      else cpu.regs16[Reg.EDX << 1] = (cpu.regs16[0] << 16) >> 31;
      return;
    case 0x9a: {
      farTransfer(cpu, ins.imm2, ins.imm, true);
      return;
    }
    case 0x9b: fwait(cpu); return;
    case 0x9c: pushf(cpu); return;
    case 0x9d: popf(cpu); return;
    case 0x9e: { // SAHF
      cpu.materializeFlags();
      cpu.flags = (cpu.flags & ~(SF | ZF | AF | PF | CF)) | (cpu.regs8[1] & (SF | ZF | AF | PF | CF));
      return;
    }
    case 0x9f: cpu.regs8[1] = (cpu.getEflags() & (SF | ZF | AF | PF | CF)) | 2; return;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
      const size = op & 1 ? vsize(cpu) : 0;
      const off = ins.imm;
      const seg = cpu.segOverride >= 0 ? cpu.segOverride : Seg.DS;
      if (op < 0xa2) writeReg(cpu, size, 0, size === 2 ? cpu.read32(seg, off) : size === 1 ? cpu.read16(seg, off) : cpu.read8(seg, off));
      else if (size === 2) cpu.write32(seg, off, r[0]);
      else if (size === 1) cpu.write16(seg, off, cpu.regs16[0]);
      else cpu.write8(seg, off, cpu.regs8[0]);
      return;
    }
    case 0xa4: case 0xa5: movs(cpu, op === 0xa4 ? 0 : vsize(cpu)); return;
    case 0xa6: case 0xa7: cmps(cpu, op === 0xa6 ? 0 : vsize(cpu)); return;
    case 0xa8: cpu.setLazyLogic(cpu.regs8[0] & ins.imm, 0); return;
    case 0xa9: { const size = vsize(cpu); cpu.setLazyLogic(readReg(cpu, size, 0) & ins.imm, size); return; }
    case 0xaa: case 0xab: stos(cpu, op === 0xaa ? 0 : vsize(cpu)); return;
    case 0xac: case 0xad: lods(cpu, op === 0xac ? 0 : vsize(cpu)); return;
    case 0xae: case 0xaf: scas(cpu, op === 0xae ? 0 : vsize(cpu)); return;
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
      cpu.setReg8(op & 7, ins.imm);
      return;
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
      if (cpu.o32) r[op & 7] = ins.imm; else cpu.regs16[(op & 7) << 1] = ins.imm;
      return;
    case 0xc0: case 0xc1: {
      const size = op & 1 ? vsize(cpu) : 0;
      const m = decodeModrm(cpu, ins);
      const count = ins.imm;
      const v = readEForWrite(cpu, size);
      writeE(cpu, size, shift(cpu, (m >> 3) & 7, v, count, size));
      return;
    }
    case 0xc2: case 0xc3: {
      const release = ins.imm;
      const ip = cpu.o32 ? cpu.peek32(0) : cpu.peek16(0);
      if ((ip >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) cpu.raise(Vector.GP, 0);
      cpu.addSp((cpu.o32 ? 4 : 2) + release);
      cpu.eip = ip;
      return;
    }
    case 0xc4: case 0xc5: loadFarPointer(cpu, ins, op === 0xc4 ? Seg.ES : Seg.DS); return;
    case 0xc6: decodeModrm(cpu, ins); writeE(cpu, 0, ins.imm); return; // /1-/7: #UD in the decoder
    case 0xc7: decodeModrm(cpu, ins); writeE(cpu, vsize(cpu), ins.imm); return;
    case 0xc8: enter(cpu, ins.imm, ins.imm2 & 31); return;
    case 0xc9: { // LEAVE
      const bp = cpu.stack32 ? r[Reg.EBP] : cpu.regs16[Reg.EBP << 1];
      const v = cpu.o32 ? cpu.read32(Seg.SS, bp) : cpu.read16(Seg.SS, bp);
      cpu.setSp(cpu.stack32 ? (bp + (cpu.o32 ? 4 : 2)) | 0 : (bp + (cpu.o32 ? 4 : 2)) & 0xffff);
      if (cpu.o32) r[Reg.EBP] = v; else cpu.regs16[Reg.EBP << 1] = v;
      return;
    }
    case 0xca: farReturn(cpu, ins.imm); return;
    case 0xcb: farReturn(cpu, 0); return;
    case 0xcc: softwareInterrupt(cpu, Vector.BP, false); return;
    case 0xcd: softwareInterrupt(cpu, ins.imm, true); return;
    case 0xce: if (cpu.getOF()) softwareInterrupt(cpu, Vector.OF, false); return;
    case 0xcf: interruptReturn(cpu); cpu.attention = true; return;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
      const size = op & 1 ? vsize(cpu) : 0;
      const m = decodeModrm(cpu, ins);
      const v = readEForWrite(cpu, size);
      writeE(cpu, size, shift(cpu, (m >> 3) & 7, v, op < 0xd2 ? 1 : cpu.regs8[4], size));
      return;
    }
    case 0xd4: aam(cpu, ins.imm); return;
    case 0xd5: aad(cpu, ins.imm); return;
    case 0xd6: cpu.regs8[0] = cpu.getCF() ? 0xff : 0; return; // SALC (undocumented, present on P6)
    case 0xd7: {
      const seg = cpu.segOverride >= 0 ? cpu.segOverride : Seg.DS;
      const off = cpu.a32 ? (r[Reg.EBX] + cpu.regs8[0]) | 0 : (cpu.regs16[Reg.EBX << 1] + cpu.regs8[0]) & 0xffff;
      cpu.regs8[0] = cpu.read8(seg, off);
      return;
    }
    case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf:
      x87(cpu, ins, op);
      return;
    case 0xe0: case 0xe1: case 0xe2: {
      const rel = ins.imm;
      let count: number;
      if (cpu.a32) { count = r[Reg.ECX] = (r[Reg.ECX] - 1) | 0; }
      else { count = cpu.regs16[Reg.ECX << 1] = (cpu.regs16[Reg.ECX << 1] - 1) & 0xffff; }
      const take = count !== 0 && (op === 0xe2 || (op === 0xe1 ? cpu.getZF() !== 0 : cpu.getZF() === 0));
      if (take) jumpRel(cpu, rel);
      return;
    }
    case 0xe3: {
      const rel = ins.imm;
      if ((cpu.a32 ? r[Reg.ECX] : cpu.regs16[Reg.ECX << 1]) === 0) jumpRel(cpu, rel);
      return;
    }
    case 0xe4: case 0xe5: portIn(cpu, ins.imm, op === 0xe4 ? 0 : vsize(cpu)); return;
    case 0xe6: case 0xe7: portOut(cpu, ins.imm, op === 0xe6 ? 0 : vsize(cpu)); return;
    case 0xe8:
      cpu.pushOp(cpu.eip);
      jumpRel(cpu, ins.imm);
      return;
    case 0xe9: case 0xeb: jumpRel(cpu, ins.imm); return;
    case 0xea: farTransfer(cpu, ins.imm2, ins.imm, false); return;
    case 0xec: case 0xed: portIn(cpu, cpu.regs16[Reg.EDX << 1], op === 0xec ? 0 : vsize(cpu)); return;
    case 0xee: case 0xef: portOut(cpu, cpu.regs16[Reg.EDX << 1], op === 0xee ? 0 : vsize(cpu)); return;
    case 0xf1: deliverInterrupt(cpu, Vector.DB, -1, false, false); return; // ICEBP
    case 0xf4:
      if (cpu.protectedMode && cpu.cpl !== 0) cpu.raise(Vector.GP, 0);
      cpu.halted = true;
      cpu.attention = true;
      return;
    case 0xf5: cpu.setFlag(CF, !cpu.getCF()); return;
    case 0xf6: case 0xf7: group3(cpu, ins, op & 1 ? vsize(cpu) : 0); return;
    case 0xf8: cpu.setFlag(CF, false); return;
    case 0xf9: cpu.setFlag(CF, true); return;
    case 0xfa:
      if (cpu.protectedMode && cpu.cpl > cpu.iopl) cpu.raise(Vector.GP, 0);
      cpu.flags &= ~IF;
      return;
    case 0xfb:
      if (cpu.protectedMode && cpu.cpl > cpu.iopl) cpu.raise(Vector.GP, 0);
      if (!(cpu.flags & IF)) { cpu.flags |= IF; cpu.interruptShadow = true; cpu.attention = true; }
      return;
    case 0xfc: cpu.flags &= ~DF; return;
    case 0xfd: cpu.flags |= DF; return;
    case 0xfe: {
      const m = decodeModrm(cpu, ins), sub = (m >> 3) & 7;
      if (sub > 1) cpu.raise(Vector.UD);
      const v = readEForWrite(cpu, 0);
      writeE(cpu, 0, sub === 0 ? cpu.inc(v, 0) : cpu.dec(v, 0));
      return;
    }
    case 0xff: group5(cpu, ins); return;
    default:
      cpu.raise(Vector.UD); // not reached: the decoder raises #UD for forms the opcode map lacks
  }
}

// ---- instruction helpers -----------------------------------------------------------------

function popSegment(cpu: Cpu, s: number): void {
  const v = cpu.o32 ? cpu.peek32(0) : cpu.peek16(0);
  loadSegment(cpu, s, v & 0xffff);
  cpu.addSp(cpu.o32 ? 4 : 2);
  if (s === Seg.SS) { cpu.interruptShadow = true; cpu.debugShadow = true; cpu.attention = true; }
}

function loadFarPointer(cpu: Cpu, ins: Instr, s: number): void {
  const m = decodeModrm(cpu, ins);
  if (m >= 0xc0) cpu.raise(Vector.UD);
  const size = vsize(cpu);
  const off = size === 2 ? cpu.read32(cpu.eaSeg, cpu.eaOff) : cpu.read16(cpu.eaSeg, cpu.eaOff);
  const sel = cpu.read16(cpu.eaSeg, (cpu.eaOff + (size === 2 ? 4 : 2)) | 0);
  loadSegment(cpu, s, sel);
  writeG(cpu, size, off);
  if (s === Seg.SS) { cpu.interruptShadow = true; cpu.attention = true; }
}

function pusha(cpu: Cpu): void {
  const r = cpu.regs, esp = r[Reg.ESP];
  // Check the whole frame first so that a fault leaves ESP unchanged.
  const bytes = cpu.o32 ? 32 : 16;
  const low = cpu.stack32 ? (esp - bytes) | 0 : (esp - bytes) & 0xffff;
  cpu.checkWritable(Seg.SS, low, 1);
  cpu.checkWritable(Seg.SS, cpu.stack32 ? (esp - 1) | 0 : (esp - 1) & 0xffff, 1);
  for (let i = 0; i < 8; i++) {
    const v = i === Reg.ESP ? esp : r[i];
    if (cpu.o32) cpu.push32(v); else cpu.push16(v);
  }
}

/** POPA reads the whole frame before writing any register, so a fault leaves them untouched. */
const popaValues = new Int32Array(8);
function popa(cpu: Cpu): void {
  const vals = popaValues;
  const size = cpu.o32 ? 4 : 2;
  for (let i = 0; i < 8; i++) vals[7 - i] = cpu.o32 ? cpu.peek32(i * size) : cpu.peek16(i * size);
  for (let i = 0; i < 8; i++) if (i !== Reg.ESP) writeReg(cpu, cpu.o32 ? 2 : 1, i, vals[i]);
  cpu.addSp(8 * size);
}

function bound(cpu: Cpu, ins: Instr): void {
  const m = decodeModrm(cpu, ins);
  if (m >= 0xc0) cpu.raise(Vector.UD);
  const size = vsize(cpu);
  let idx: number, lo: number, hi: number;
  if (size === 2) {
    idx = readG(cpu, 2); lo = cpu.read32(cpu.eaSeg, cpu.eaOff); hi = cpu.read32(cpu.eaSeg, (cpu.eaOff + 4) | 0);
  } else {
    idx = (readG(cpu, 1) << 16) >> 16;
    lo = (cpu.read16(cpu.eaSeg, cpu.eaOff) << 16) >> 16;
    hi = (cpu.read16(cpu.eaSeg, (cpu.eaOff + 2) & (cpu.a32 ? -1 : 0xffff)) << 16) >> 16;
  }
  if (idx < lo || idx > hi) cpu.raise(Vector.BR);
}

function arpl(cpu: Cpu, ins: Instr): void {
  if (!cpu.protectedMode || cpu.vm86) cpu.raise(Vector.UD);
  decodeModrm(cpu, ins);
  const dst = readEForWrite(cpu, 1), src = readG(cpu, 1);
  if ((dst & 3) < (src & 3)) {
    writeE(cpu, 1, (dst & ~3) | (src & 3));
    cpu.setFlag(ZF, true);
  } else {
    cpu.setFlag(ZF, false);
  }
}

function enter(cpu: Cpu, alloc: number, level: number): void {
  const r = cpu.regs, o32 = cpu.o32;
  const savedEsp = r[Reg.ESP], savedEbp = r[Reg.EBP];
  try {
    cpu.pushOp(o32 ? r[Reg.EBP] : cpu.regs16[Reg.EBP << 1]);
    const frame = cpu.sp;
    if (level > 0) {
      let bp = cpu.stack32 ? savedEbp : savedEbp & 0xffff;
      for (let i = 1; i < level; i++) {
        bp = cpu.stack32 ? (bp - (o32 ? 4 : 2)) | 0 : (bp - (o32 ? 4 : 2)) & 0xffff;
        cpu.pushOp(o32 ? cpu.read32(Seg.SS, bp) : cpu.read16(Seg.SS, bp));
      }
      cpu.pushOp(frame);
    }
    const newSp = cpu.stack32 ? (cpu.sp - alloc) | 0 : (cpu.sp - alloc) & 0xffff;
    // The new stack top must be writable (SDM: ENTER checks the final ESP).
    if (alloc) cpu.checkWritable(Seg.SS, newSp, 1);
    if (o32) r[Reg.EBP] = frame; else cpu.regs16[Reg.EBP << 1] = frame;
    cpu.setSp(newSp);
  } catch (e) {
    r[Reg.ESP] = savedEsp; r[Reg.EBP] = savedEbp;
    throw e;
  }
}

function pushf(cpu: Cpu): void {
  if (cpu.vm86 && cpu.iopl < 3) cpu.raise(Vector.GP, 0);
  const f = cpu.getEflags() & ~(VM | RF);
  if (cpu.o32) cpu.push32(f); else cpu.push16(f);
}

function popf(cpu: Cpu): void {
  if (cpu.vm86 && cpu.iopl < 3) cpu.raise(Vector.GP, 0);
  const v = cpu.o32 ? cpu.peek32(0) : cpu.peek16(0);
  let changeable = CF | PF | AF | ZF | SF | TF | DF | OF | NT | AC | ID | IF | IOPL;
  if (cpu.protectedMode) {
    if (cpu.cpl > 0 || cpu.vm86) changeable &= ~IOPL;
    if (cpu.cpl > cpu.iopl && !cpu.vm86) changeable &= ~IF;
  }
  if (!cpu.o32) changeable &= 0xffff;
  cpu.addSp(cpu.o32 ? 4 : 2);
  cpu.setEflags((cpu.getEflags() & ~changeable) | (v & changeable));
}

function softwareInterrupt(cpu: Cpu, vector: number, isIntN: boolean): void {
  if (cpu.vm86 && isIntN && cpu.iopl < 3) cpu.raise(Vector.GP, 0);
  deliverInterrupt(cpu, vector, -1, true, false);
  cpu.attention = true;
}

function fwait(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) cpu.raise(Vector.NM);
  cpu.fpu?.wait();
}

function x87(cpu: Cpu, ins: Instr, op: number): void {
  const m = decodeModrm(cpu, ins);
  if (cpu.cr0 & (CR0_EM | CR0_TS)) cpu.raise(Vector.NM);
  const fpu = cpu.fpu;
  if (!fpu) cpu.raise(Vector.NM);
  const dsSel = cpu.sreg[m < 0xc0 ? cpu.eaSeg : Seg.DS];
  fpu.execute(op, m, cpu.eaSeg, cpu.eaOff, cpu.o32, cpu.instrStart, cpu.sreg[Seg.CS], dsSel);
}

// ---- I/O --------------------------------------------------------------------------------

function portIn(cpu: Cpu, port: number, size: number): void {
  checkIoPermission(cpu, port, 1 << size);
  if (size === 2) cpu.regs[0] = cpu.io.read32(port);
  else if (size === 1) cpu.regs16[0] = cpu.io.read16(port);
  else cpu.regs8[0] = cpu.io.read8(port);
  cpu.attention = true;
}

function portOut(cpu: Cpu, port: number, size: number): void {
  checkIoPermission(cpu, port, 1 << size);
  if (size === 2) cpu.io.write32(port, cpu.regs[0]);
  else if (size === 1) cpu.io.write16(port, cpu.regs16[0]);
  else cpu.io.write8(port, cpu.regs8[0]);
  cpu.attention = true;
}

// ---- string instructions ----------------------------------------------------------------

/** Index register values and updates honour the address size. */
function strIndex(cpu: Cpu, reg: number): number {
  return cpu.a32 ? cpu.regs[reg] : cpu.regs16[reg << 1];
}
function strAdvance(cpu: Cpu, reg: number, delta: number): void {
  if (cpu.a32) cpu.regs[reg] = (cpu.regs[reg] + delta) | 0;
  else cpu.regs16[reg << 1] = cpu.regs16[reg << 1] + delta;
}
function strCount(cpu: Cpu): number { return cpu.a32 ? cpu.regs[Reg.ECX] >>> 0 : cpu.regs16[Reg.ECX << 1]; }
function strSetCount(cpu: Cpu, v: number): void {
  if (cpu.a32) cpu.regs[Reg.ECX] = v; else cpu.regs16[Reg.ECX << 1] = v;
}
function memRead(cpu: Cpu, s: number, off: number, size: number): number {
  return size === 2 ? cpu.read32(s, off) : size === 1 ? cpu.read16(s, off) : cpu.read8(s, off);
}
function memWrite(cpu: Cpu, s: number, off: number, size: number, v: number): void {
  if (size === 2) cpu.write32(s, off, v); else if (size === 1) cpu.write16(s, off, v); else cpu.write8(s, off, v);
}

function movs(cpu: Cpu, size: number): void {
  const src = cpu.segOverride >= 0 ? cpu.segOverride : Seg.DS;
  const delta = (cpu.flags & DF) ? -(1 << size) : (1 << size);
  if (!cpu.rep) {
    memWrite(cpu, Seg.ES, strIndex(cpu, Reg.EDI), size, memRead(cpu, src, strIndex(cpu, Reg.ESI), size));
    strAdvance(cpu, Reg.ESI, delta); strAdvance(cpu, Reg.EDI, delta);
    return;
  }
  if (cpu.a32 && !(cpu.flags & DF) && cpu.segFastRead[src] && cpu.segFastWrite[Seg.ES]) bulkMovs(cpu, src, size);
  let n = strCount(cpu);
  while (n !== 0) {
    memWrite(cpu, Seg.ES, strIndex(cpu, Reg.EDI), size, memRead(cpu, src, strIndex(cpu, Reg.ESI), size));
    strAdvance(cpu, Reg.ESI, delta); strAdvance(cpu, Reg.EDI, delta);
    n = (n - 1) >>> 0;
    strSetCount(cpu, n);
  }
}

function stos(cpu: Cpu, size: number): void {
  const delta = (cpu.flags & DF) ? -(1 << size) : (1 << size);
  const v = readReg(cpu, size, 0);
  if (!cpu.rep) {
    memWrite(cpu, Seg.ES, strIndex(cpu, Reg.EDI), size, v);
    strAdvance(cpu, Reg.EDI, delta);
    return;
  }
  if (cpu.a32 && !(cpu.flags & DF) && cpu.segFastWrite[Seg.ES]) bulkStos(cpu, size, v);
  let n = strCount(cpu);
  while (n !== 0) {
    memWrite(cpu, Seg.ES, strIndex(cpu, Reg.EDI), size, v);
    strAdvance(cpu, Reg.EDI, delta);
    n = (n - 1) >>> 0;
    strSetCount(cpu, n);
  }
}

/**
 * REP STOS fast path for flat segments going up: fills whole runs inside RAM pages with one
 * typed-array call. Stops (leaving the rest to the element loop) at MMIO, a page-straddling
 * element, or a fault, with ECX/EDI always describing exactly what was done.
 */
function bulkStos(cpu: Cpu, size: number, v: number): void {
  const r = cpu.regs;
  let n = r[Reg.ECX] >>> 0;
  while (n !== 0) {
    const lin = (cpu.segBase[Seg.ES] + r[Reg.EDI]) | 0;
    const room = (0x1000 - (lin & 0xfff)) >> size;
    if (room === 0) return;
    const idx = cpu.hostWriteIndex(lin);
    if (idx < 0) return;
    const k = Math.min(n, room);
    if (size === 0) cpu.bytes.fill(v, idx, idx + k);
    else if (size === 2 && !(idx & 3)) cpu.words.fill(v, idx >> 2, (idx >> 2) + k);
    else {
      const b = cpu.bytes, w = 1 << size;
      for (let i = 0; i < k; i++) for (let j = 0; j < w; j++) b[idx + i * w + j] = v >> (j << 3);
    }
    cpu.mem.noteWrite(idx, k << size); // drops cached code the string lands on
    r[Reg.EDI] = (r[Reg.EDI] + (k << size)) | 0;
    n -= k;
    r[Reg.ECX] = n;
  }
}

/** REP MOVS fast path (see bulkStos); overlapping forward copies are left to the element loop. */
function bulkMovs(cpu: Cpu, src: number, size: number): void {
  const r = cpu.regs;
  let n = r[Reg.ECX] >>> 0;
  while (n !== 0) {
    const sLin = (cpu.segBase[src] + r[Reg.ESI]) | 0, dLin = (cpu.segBase[Seg.ES] + r[Reg.EDI]) | 0;
    const room = Math.min((0x1000 - (sLin & 0xfff)) >> size, (0x1000 - (dLin & 0xfff)) >> size);
    if (room === 0) return;
    const sIdx = cpu.hostReadIndex(sLin);
    if (sIdx < 0) return;
    const dIdx = cpu.hostWriteIndex(dLin);
    if (dIdx < 0) return;
    const k = Math.min(n, room), bytes = k << size;
    if (dIdx > sIdx && dIdx < sIdx + bytes) return;
    cpu.bytes.copyWithin(dIdx, sIdx, sIdx + bytes);
    cpu.mem.noteWrite(dIdx, bytes);
    r[Reg.ESI] = (r[Reg.ESI] + bytes) | 0;
    r[Reg.EDI] = (r[Reg.EDI] + bytes) | 0;
    n -= k;
    r[Reg.ECX] = n;
  }
}

function lods(cpu: Cpu, size: number): void {
  const src = cpu.segOverride >= 0 ? cpu.segOverride : Seg.DS;
  const delta = (cpu.flags & DF) ? -(1 << size) : (1 << size);
  if (!cpu.rep) {
    writeReg(cpu, size, 0, memRead(cpu, src, strIndex(cpu, Reg.ESI), size));
    strAdvance(cpu, Reg.ESI, delta);
    return;
  }
  let n = strCount(cpu);
  while (n !== 0) {
    writeReg(cpu, size, 0, memRead(cpu, src, strIndex(cpu, Reg.ESI), size));
    strAdvance(cpu, Reg.ESI, delta);
    n = (n - 1) >>> 0;
    strSetCount(cpu, n);
  }
}

function cmps(cpu: Cpu, size: number): void {
  const src = cpu.segOverride >= 0 ? cpu.segOverride : Seg.DS;
  const delta = (cpu.flags & DF) ? -(1 << size) : (1 << size);
  if (!cpu.rep) {
    const a = memRead(cpu, src, strIndex(cpu, Reg.ESI), size), b = memRead(cpu, Seg.ES, strIndex(cpu, Reg.EDI), size);
    cpu.alu(7, a & SIZE_MASK[size], b & SIZE_MASK[size], size);
    strAdvance(cpu, Reg.ESI, delta); strAdvance(cpu, Reg.EDI, delta);
    return;
  }
  const untilEqual = cpu.rep === 1; // REPNE stops on equal
  let n = strCount(cpu);
  while (n !== 0) {
    const a = memRead(cpu, src, strIndex(cpu, Reg.ESI), size), b = memRead(cpu, Seg.ES, strIndex(cpu, Reg.EDI), size);
    cpu.alu(7, a & SIZE_MASK[size], b & SIZE_MASK[size], size);
    strAdvance(cpu, Reg.ESI, delta); strAdvance(cpu, Reg.EDI, delta);
    n = (n - 1) >>> 0;
    strSetCount(cpu, n);
    if ((cpu.getZF() !== 0) === untilEqual) break;
  }
}

function scas(cpu: Cpu, size: number): void {
  const delta = (cpu.flags & DF) ? -(1 << size) : (1 << size);
  const a = readReg(cpu, size, 0) & SIZE_MASK[size];
  if (!cpu.rep) {
    cpu.alu(7, a, memRead(cpu, Seg.ES, strIndex(cpu, Reg.EDI), size) & SIZE_MASK[size], size);
    strAdvance(cpu, Reg.EDI, delta);
    return;
  }
  const untilEqual = cpu.rep === 1;
  let n = strCount(cpu);
  while (n !== 0) {
    cpu.alu(7, a, memRead(cpu, Seg.ES, strIndex(cpu, Reg.EDI), size) & SIZE_MASK[size], size);
    strAdvance(cpu, Reg.EDI, delta);
    n = (n - 1) >>> 0;
    strSetCount(cpu, n);
    if ((cpu.getZF() !== 0) === untilEqual) break;
  }
}

function insString(cpu: Cpu, size: number): void {
  const port = cpu.regs16[Reg.EDX << 1];
  checkIoPermission(cpu, port, 1 << size);
  const delta = (cpu.flags & DF) ? -(1 << size) : (1 << size);
  const read = () => size === 2 ? cpu.io.read32(port) : size === 1 ? cpu.io.read16(port) : cpu.io.read8(port);
  cpu.attention = true;
  if (!cpu.rep) {
    const off = strIndex(cpu, Reg.EDI);
    cpu.checkWritable(Seg.ES, off, 1 << size);
    memWrite(cpu, Seg.ES, off, size, read());
    strAdvance(cpu, Reg.EDI, delta);
    return;
  }
  let n = strCount(cpu);
  while (n !== 0) {
    const off = strIndex(cpu, Reg.EDI);
    cpu.checkWritable(Seg.ES, off, 1 << size);
    memWrite(cpu, Seg.ES, off, size, read());
    strAdvance(cpu, Reg.EDI, delta);
    n = (n - 1) >>> 0;
    strSetCount(cpu, n);
  }
}

function outs(cpu: Cpu, size: number): void {
  const port = cpu.regs16[Reg.EDX << 1];
  checkIoPermission(cpu, port, 1 << size);
  const src = cpu.segOverride >= 0 ? cpu.segOverride : Seg.DS;
  const delta = (cpu.flags & DF) ? -(1 << size) : (1 << size);
  const write = (v: number) => { if (size === 2) cpu.io.write32(port, v); else if (size === 1) cpu.io.write16(port, v); else cpu.io.write8(port, v); };
  cpu.attention = true;
  if (!cpu.rep) {
    write(memRead(cpu, src, strIndex(cpu, Reg.ESI), size));
    strAdvance(cpu, Reg.ESI, delta);
    return;
  }
  let n = strCount(cpu);
  while (n !== 0) {
    write(memRead(cpu, src, strIndex(cpu, Reg.ESI), size));
    strAdvance(cpu, Reg.ESI, delta);
    n = (n - 1) >>> 0;
    strSetCount(cpu, n);
  }
}

// ---- shifts and rotates -------------------------------------------------------------------

const SIZE_BITS = [8, 16, 32];

/** ROL ROR RCL RCR SHL SHR SAL SAR by `count` (masked to 5 bits as on every CPU since the 286). */
export function shift(cpu: Cpu, op: number, v: number, count: number, size: number): number {
  count &= 31;
  const bits = SIZE_BITS[size], mask = SIZE_MASK[size], sign = SIZE_SIGN[size];
  v &= mask;
  if (count === 0) return v;
  let r: number, cf: number, of: number;
  switch (op) {
    case 0: { // ROL
      const c = count & (bits - 1);
      r = c ? ((v << c) | (v >>> (bits - c))) & mask : v;
      cf = r & 1;
      of = ((r & sign) !== 0 ? 1 : 0) ^ cf;
      setCfOf(cpu, cf, of);
      return r;
    }
    case 1: { // ROR
      const c = count & (bits - 1);
      r = c ? ((v >>> c) | (v << (bits - c))) & mask : v;
      cf = (r & sign) !== 0 ? 1 : 0;
      of = cf ^ ((r & (sign >>> 1)) !== 0 ? 1 : 0);
      setCfOf(cpu, cf, of);
      return r;
    }
    case 2: { // RCL: rotate through CF, a (bits+1)-bit rotation
      const c = size === 2 ? count : count % (bits + 1);
      if (c === 0) return v;
      let carry = cpu.getCF();
      r = v;
      for (let i = 0; i < c; i++) {
        const out = (r & sign) !== 0 ? 1 : 0;
        r = ((r << 1) | carry) & mask;
        carry = out;
      }
      of = ((r & sign) !== 0 ? 1 : 0) ^ carry;
      setCfOf(cpu, carry, of);
      return r;
    }
    case 3: { // RCR
      const c = size === 2 ? count : count % (bits + 1);
      if (c === 0) return v;
      let carry = cpu.getCF();
      r = v;
      for (let i = 0; i < c; i++) {
        const out = r & 1;
        r = ((r >>> 1) | (carry ? sign : 0)) & mask;
        carry = out;
      }
      of = ((r & sign) !== 0 ? 1 : 0) ^ ((r & (sign >>> 1)) !== 0 ? 1 : 0);
      setCfOf(cpu, carry, of);
      return r;
    }
    case 4: case 6: { // SHL / SAL
      if (count < 32) {
        r = (v << count) & mask;
        cf = count <= bits ? (v >>> (bits - count)) & 1 : 0;
      } else { r = 0; cf = 0; }
      of = ((r & sign) !== 0 ? 1 : 0) ^ cf;
      cpu.setResultFlags(r, size, cf, of, 0);
      return r;
    }
    case 5: { // SHR
      r = v >>> count;
      cf = (v >>> (count - 1)) & 1;
      of = (v & sign) !== 0 ? 1 : 0;
      cpu.setResultFlags(r, size, cf, of, 0);
      return r;
    }
    default: { // SAR
      const sv = size === 2 ? v | 0 : size === 1 ? (v << 16) >> 16 : (v << 24) >> 24;
      r = (sv >> Math.min(count, 31)) & mask;
      cf = (sv >> Math.min(count - 1, 31)) & 1;
      cpu.setResultFlags(r, size, cf, 0, 0);
      return r;
    }
  }
}

function setCfOf(cpu: Cpu, cf: number, of: number): void {
  cpu.materializeFlags();
  cpu.flags = (cpu.flags & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
}

/** SHLD / SHRD. */
function doubleShift(cpu: Cpu, left: boolean, dst: number, src: number, count: number, size: number): number {
  count &= 31;
  if (count === 0) return dst;
  const mask = SIZE_MASK[size], sign = SIZE_SIGN[size];
  let r: number, cf: number;
  if (size === 2) {
    if (left) { r = (dst << count) | (src >>> (32 - count)); cf = (dst >>> (32 - count)) & 1; }
    else { r = (dst >>> count) | (src << (32 - count)); cf = (dst >>> (count - 1)) & 1; }
    r |= 0;
  } else {
    // 16-bit: operate on the 32-bit value dst:src (counts above 16 give undefined results;
    // this follows what P6 and QEMU compute: the pattern src:dst:src).
    if (left) {
      // 48-bit pattern dst:src:dst for counts > 16
      const hi = dst & 0xffff, mid = src & 0xffff;
      const x = BigInt(hi) << 32n | BigInt(mid) << 16n | BigInt(hi);
      const shifted = x << BigInt(count);
      r = Number((shifted >> 32n) & 0xffffn);
      cf = Number((shifted >> 48n) & 1n);
    } else {
      const lo = dst & 0xffff, mid = src & 0xffff;
      const x = BigInt(lo) << 32n | BigInt(mid) << 16n | BigInt(lo);
      r = Number((x >> BigInt(count)) & 0xffffn);
      cf = Number((x >> BigInt(count - 1)) & 1n);
    }
  }
  r &= mask;
  const of = ((r ^ dst) & sign) !== 0 ? 1 : 0; // defined for count 1: sign changed
  cpu.setResultFlags(r, size, cf, of, 0);
  return r;
}

// ---- multiply and divide ------------------------------------------------------------------

/** Unsigned 32×32 → 64 product; returns the low half, leaves the high half in mulHigh. */
let mulHigh = 0;
function mulU32(a: number, b: number): number {
  a >>>= 0; b >>>= 0;
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  mulHigh = (p11 + (p01 >>> 16) + (p10 >>> 16) + Math.floor(mid / 65536)) | 0;
  return Math.imul(a, b);
}
function mulS32(a: number, b: number): number {
  const lo = mulU32(a, b);
  let hi = mulHigh;
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  mulHigh = hi;
  return lo;
}

/** Two/three-operand IMUL: truncated product; CF = OF = the product did not fit. */
function imulTruncating(cpu: Cpu, a: number, b: number, size: number): number {
  let r: number, overflow: boolean;
  if (size === 2) {
    // The double product is exact whenever it fits in 53 bits, and beyond int32 it overflows anyway.
    const p = (a | 0) * (b | 0);
    r = Math.imul(a, b);
    overflow = p > 0x7fffffff || p < -0x80000000;
  } else {
    const p = ((a << 16) >> 16) * ((b << 16) >> 16);
    r = p & 0xffff;
    overflow = p !== ((p << 16) >> 16);
  }
  cpu.setResultFlags(r, size, overflow ? 1 : 0, overflow ? 1 : 0, 0);
  return r;
}

function group3(cpu: Cpu, ins: Instr, size: number): void {
  const m = decodeModrm(cpu, ins), sub = (m >> 3) & 7, r = cpu.regs;
  switch (sub) {
    case 0: case 1: // TEST E, imm
      cpu.setLazyLogic(readE(cpu, size) & ins.imm, size);
      return;
    case 2: writeE(cpu, size, ~readEForWrite(cpu, size) & SIZE_MASK[size]); return;
    case 3: writeE(cpu, size, cpu.neg(readEForWrite(cpu, size), size)); return;
    case 4: { // MUL
      const v = readE(cpu, size);
      if (size === 0) {
        const p = cpu.regs8[0] * v;
        cpu.regs16[0] = p;
        const hi = p >>> 8;
        cpu.setResultFlags(p & 0xff, 0, hi ? 1 : 0, hi ? 1 : 0, 0);
      } else if (size === 1) {
        const p = cpu.regs16[0] * v;
        cpu.regs16[0] = p; cpu.regs16[Reg.EDX << 1] = p >>> 16;
        const hi = p >>> 16;
        cpu.setResultFlags(p & 0xffff, 1, hi ? 1 : 0, hi ? 1 : 0, 0);
      } else {
        const lo = mulU32(r[0], v);
        r[0] = lo; r[Reg.EDX] = mulHigh;
        cpu.setResultFlags(lo, 2, mulHigh ? 1 : 0, mulHigh ? 1 : 0, 0);
      }
      return;
    }
    case 5: { // IMUL (one operand)
      const v = readE(cpu, size);
      if (size === 0) {
        const p = ((cpu.regs8[0] << 24) >> 24) * ((v << 24) >> 24);
        cpu.regs16[0] = p;
        const ov = p !== ((p << 24) >> 24);
        cpu.setResultFlags(p & 0xff, 0, ov ? 1 : 0, ov ? 1 : 0, 0);
      } else if (size === 1) {
        const p = ((cpu.regs16[0] << 16) >> 16) * ((v << 16) >> 16);
        cpu.regs16[0] = p; cpu.regs16[Reg.EDX << 1] = p >> 16;
        const ov = p !== ((p << 16) >> 16);
        cpu.setResultFlags(p & 0xffff, 1, ov ? 1 : 0, ov ? 1 : 0, 0);
      } else {
        const lo = mulS32(r[0], v);
        r[0] = lo; r[Reg.EDX] = mulHigh;
        const ov = mulHigh !== (lo >> 31);
        cpu.setResultFlags(lo, 2, ov ? 1 : 0, ov ? 1 : 0, 0);
      }
      return;
    }
    case 6: divide(cpu, readE(cpu, size), size, false); return;
    default: divide(cpu, readE(cpu, size), size, true); return;
  }
}

function divide(cpu: Cpu, divisor: number, size: number, signed: boolean): void {
  const r = cpu.regs;
  if (size === 0) {
    const d = signed ? (divisor << 24) >> 24 : divisor & 0xff;
    if (d === 0) cpu.raise(Vector.DE);
    const n = signed ? (cpu.regs16[0] << 16) >> 16 : cpu.regs16[0];
    const q = Math.trunc(n / d), rem = n - q * d;
    if (signed ? q > 127 || q < -128 : q > 255) cpu.raise(Vector.DE);
    cpu.regs8[0] = q; cpu.regs8[1] = rem;
    return;
  }
  if (size === 1) {
    const d = signed ? (divisor << 16) >> 16 : divisor & 0xffff;
    if (d === 0) cpu.raise(Vector.DE);
    const n = signed ? ((cpu.regs16[Reg.EDX << 1] << 16) | cpu.regs16[0]) : (cpu.regs16[Reg.EDX << 1] * 65536 + cpu.regs16[0]);
    const q = Math.trunc(n / d), rem = n - q * d;
    if (signed ? q > 32767 || q < -32768 : q > 65535) cpu.raise(Vector.DE);
    cpu.regs16[0] = q; cpu.regs16[Reg.EDX << 1] = rem;
    return;
  }
  let hi = r[Reg.EDX], lo = r[0];
  if (!signed) {
    const d = divisor >>> 0;
    if (d === 0 || (hi >>> 0) >= d) cpu.raise(Vector.DE);
    const q = divU64(hi >>> 0, lo >>> 0, d);
    r[0] = q; r[Reg.EDX] = divRemainder;
    return;
  }
  const d = divisor | 0;
  if (d === 0) cpu.raise(Vector.DE);
  const negN = hi < 0, negD = d < 0;
  if (negN) { lo = (~lo + 1) | 0; hi = (~hi + (lo === 0 ? 1 : 0)) | 0; }
  const ad = negD ? (-d) >>> 0 : d >>> 0;
  if ((hi >>> 0) >= ad) cpu.raise(Vector.DE);
  let q = divU64(hi >>> 0, lo >>> 0, ad);
  let rem = divRemainder;
  if (negN !== negD) { if (q > 0x80000000) cpu.raise(Vector.DE); q = -q; }
  else if (q > 0x7fffffff) cpu.raise(Vector.DE);
  if (negN) rem = -rem;
  r[0] = q | 0; r[Reg.EDX] = rem | 0;
}

/** (hi:lo) / d for hi < d, exact in doubles via two 16-bit long-division steps. */
let divRemainder = 0;
function divU64(hi: number, lo: number, d: number): number {
  let x = hi * 65536 + (lo >>> 16);
  const q1 = Math.floor(x / d);
  let rem = x - q1 * d;
  x = rem * 65536 + (lo & 0xffff);
  const q0 = Math.floor(x / d);
  rem = x - q0 * d;
  divRemainder = rem;
  return q1 * 65536 + q0;
}

// ---- BCD ----------------------------------------------------------------------------------

function daa(cpu: Cpu): void {
  const old = cpu.regs8[0], oldCf = cpu.getCF();
  let al = old, cf = 0, af = 0;
  if ((al & 0xf) > 9 || cpu.getAF()) { cf = oldCf | (al + 6 > 0xff ? 1 : 0); al = (al + 6) & 0xff; af = 1; }
  if (old > 0x99 || oldCf) { al = (al + 0x60) & 0xff; cf = 1; }
  cpu.regs8[0] = al;
  // OF is undefined; P6 computes it as for the addition (QEMU leaves it clear: masked in tests).
  cpu.setResultFlags(al, 0, cf, 0, af);
}

function das(cpu: Cpu): void {
  const old = cpu.regs8[0], oldCf = cpu.getCF();
  let al = old, cf = 0, af = 0;
  if ((al & 0xf) > 9 || cpu.getAF()) { cf = oldCf | (al < 6 ? 1 : 0); al = (al - 6) & 0xff; af = 1; }
  if (old > 0x99 || oldCf) { al = (al - 0x60) & 0xff; cf = 1; }
  cpu.regs8[0] = al;
  cpu.setResultFlags(al, 0, cf, 0, af);
}

/** AAA (dir 1) and AAS (dir -1). */
function aaa(cpu: Cpu, dir: number): void {
  const adjust = (cpu.regs8[0] & 0xf) > 9 || cpu.getAF() !== 0;
  if (adjust) {
    cpu.regs16[0] = (cpu.regs16[0] + dir * 0x106) & 0xffff;
  }
  cpu.regs8[0] &= 0xf;
  cpu.materializeFlags();
  cpu.flags = (cpu.flags & ~(CF | AF)) | (adjust ? CF | AF : 0);
}

function aam(cpu: Cpu, base: number): void {
  if (base === 0) cpu.raise(Vector.DE);
  const al = cpu.regs8[0];
  cpu.regs8[1] = (al / base) | 0;
  cpu.regs8[0] = al % base;
  cpu.setResultFlags(cpu.regs8[0], 0, 0, 0, 0);
}

function aad(cpu: Cpu, base: number): void {
  const al = (cpu.regs8[0] + cpu.regs8[1] * base) & 0xff;
  cpu.regs16[0] = al;
  cpu.setResultFlags(al, 0, 0, 0, 0);
}

// ---- group 5 and control transfers --------------------------------------------------------

function group5(cpu: Cpu, ins: Instr): void {
  const m = decodeModrm(cpu, ins), sub = (m >> 3) & 7;
  const size = vsize(cpu);
  switch (sub) {
    case 0: writeE(cpu, size, cpu.inc(readEForWrite(cpu, size), size)); return;
    case 1: writeE(cpu, size, cpu.dec(readEForWrite(cpu, size), size)); return;
    case 2: { // CALL near indirect
      const target = readE(cpu, size);
      if ((target >>> 0) > (cpu.segLimit[Seg.CS] >>> 0) && cpu.protectedMode) cpu.raise(Vector.GP, 0);
      cpu.pushOp(cpu.eip);
      cpu.eip = size === 2 ? target : target & 0xffff;
      return;
    }
    case 3: case 5: { // CALL/JMP far indirect
      if (m >= 0xc0) cpu.raise(Vector.UD);
      const off = size === 2 ? cpu.read32(cpu.eaSeg, cpu.eaOff) : cpu.read16(cpu.eaSeg, cpu.eaOff);
      const sel = cpu.read16(cpu.eaSeg, (cpu.eaOff + (size === 2 ? 4 : 2)) | 0);
      farTransfer(cpu, sel, off, sub === 3);
      return;
    }
    case 4: { // JMP near indirect
      const target = readE(cpu, size);
      if ((target >>> 0) > (cpu.segLimit[Seg.CS] >>> 0) && cpu.protectedMode) cpu.raise(Vector.GP, 0);
      cpu.eip = size === 2 ? target : target & 0xffff;
      return;
    }
    case 6: cpu.pushOp(readE(cpu, size)); return;
    default: cpu.raise(Vector.UD);
  }
}

// ---- the two-byte opcode map --------------------------------------------------------------

function executeTwoByte(cpu: Cpu, ins: Instr, op: number): void {
  const r = cpu.regs;
  switch (op) {
    case 0x00: group6(cpu, ins); return;
    case 0x01: group7(cpu, ins); return;
    case 0x02: case 0x03: { // LAR / LSL
      if (!cpu.protectedMode || cpu.vm86) cpu.raise(Vector.UD);
      decodeModrm(cpu, ins);
      const sel = readE(cpu, 1);
      const d = probeDescriptor(cpu, sel, op === 0x03);
      if (!d) { cpu.setFlag(ZF, false); return; }
      const size = vsize(cpu);
      if (op === 0x02) writeG(cpu, size, d.hi & (size === 2 ? 0x00f0ff00 : 0xff00));
      else writeG(cpu, size, d.limit);
      cpu.setFlag(ZF, true);
      return;
    }
    case 0x06: // CLTS
      if (cpu.protectedMode && cpu.cpl !== 0) cpu.raise(Vector.GP, 0);
      cpu.cr0 &= ~CR0_TS;
      return;
    case 0x08: case 0x09: // INVD / WBINVD
      if (cpu.protectedMode && cpu.cpl !== 0) cpu.raise(Vector.GP, 0);
      return;
    case 0x0b: cpu.raise(Vector.UD); return; // UD2
    case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f:
      decodeModrm(cpu, ins); // hint NOPs (NOP Ev)
      return;
    case 0x20: case 0x21: case 0x22: case 0x23: moveControl(cpu, ins, op); return;
    case 0x30: wrmsr(cpu); return;
    case 0x31: // RDTSC
      if ((cpu.cr4 & CR4_TSD) && cpu.cpl !== 0 && cpu.protectedMode) cpu.raise(Vector.GP, 0);
      {
        const t = cpu.readTsc() + cpu.tscOffset;
        r[Reg.EAX] = t % 4294967296 | 0;
        r[Reg.EDX] = Math.floor(t / 4294967296) | 0;
      }
      return;
    case 0x32: rdmsr(cpu); return;
    case 0x33: rdpmc(cpu); return;
    case 0x34: sysenter(cpu); return;
    case 0x35: sysexit(cpu); return;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
      const size = vsize(cpu);
      decodeModrm(cpu, ins);
      const v = readE(cpu, size); // the source is read (and may fault) whatever the condition
      if (cpu.condition(op & 15)) writeG(cpu, size, v);
      return;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
    case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x8c: case 0x8d: case 0x8e: case 0x8f: {
      if (cpu.condition(op & 15)) jumpRel(cpu, ins.imm);
      return;
    }
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x98: case 0x99: case 0x9a: case 0x9b: case 0x9c: case 0x9d: case 0x9e: case 0x9f:
      decodeModrm(cpu, ins);
      writeE(cpu, 0, cpu.condition(op & 15) ? 1 : 0);
      return;
    case 0xa0: cpu.pushOp(cpu.sreg[Seg.FS]); return;
    case 0xa1: popSegment(cpu, Seg.FS); return;
    case 0xa2: cpuid(cpu); return;
    case 0xa3: case 0xab: case 0xb3: case 0xbb: bitTest(cpu, ins, op === 0xa3 ? 0 : op === 0xab ? 1 : op === 0xb3 ? 2 : 3, false); return;
    case 0xa4: case 0xa5: case 0xac: case 0xad: {
      const size = vsize(cpu);
      decodeModrm(cpu, ins);
      const count = (op & 1) ? cpu.regs8[4] : ins.imm;
      const dst = readEForWrite(cpu, size);
      writeE(cpu, size, doubleShift(cpu, op < 0xa8, dst, readG(cpu, size), count, size));
      return;
    }
    case 0xa8: cpu.pushOp(cpu.sreg[Seg.GS]); return;
    case 0xa9: popSegment(cpu, Seg.GS); return;
    case 0xae: {
      const m = decodeModrm(cpu, ins), sub = (m >> 3) & 7;
      if (m >= 0xc0 || sub > 1) cpu.raise(Vector.UD);
      if (cpu.cr0 & (CR0_EM | CR0_TS)) cpu.raise(Vector.NM);
      if (!cpu.fpu) cpu.raise(Vector.UD);
      if (sub === 0) cpu.fpu.fxsave(cpu.eaSeg, cpu.eaOff); else cpu.fpu.fxrstor(cpu.eaSeg, cpu.eaOff);
      return;
    }
    case 0xaf: {
      const size = vsize(cpu);
      decodeModrm(cpu, ins);
      writeG(cpu, size, imulTruncating(cpu, readG(cpu, size), readE(cpu, size), size));
      return;
    }
    case 0xb0: case 0xb1: { // CMPXCHG
      const size = op & 1 ? vsize(cpu) : 0;
      decodeModrm(cpu, ins);
      const dst = readEForWrite(cpu, size);
      const acc = readReg(cpu, size, 0) & SIZE_MASK[size];
      cpu.alu(7, acc, dst & SIZE_MASK[size], size);
      if (cpu.getZF()) writeE(cpu, size, readG(cpu, size));
      else { writeE(cpu, size, dst); writeReg(cpu, size, 0, dst); } // the destination is always written
      return;
    }
    case 0xb2: loadFarPointer(cpu, ins, Seg.SS); return;
    case 0xb4: loadFarPointer(cpu, ins, Seg.FS); return;
    case 0xb5: loadFarPointer(cpu, ins, Seg.GS); return;
    case 0xb6: { decodeModrm(cpu, ins); writeG(cpu, vsize(cpu), readE(cpu, 0)); return; }
    case 0xb7: { decodeModrm(cpu, ins); writeG(cpu, vsize(cpu), readE(cpu, 1)); return; }
    case 0xba: {
      const m = decodeModrm(cpu, ins), sub = (m >> 3) & 7;
      bitTest(cpu, ins, sub - 4, true); // /0-/3: #UD in the decoder
      return;
    }
    case 0xbc: case 0xbd: { // BSF / BSR
      const size = vsize(cpu);
      decodeModrm(cpu, ins);
      const v = readE(cpu, size) & SIZE_MASK[size];
      cpu.materializeFlags();
      if (v === 0) { cpu.flags |= ZF; return; } // destination unchanged, as P6 does
      cpu.flags &= ~ZF;
      const idx = op === 0xbc ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
      writeG(cpu, size, idx);
      return;
    }
    case 0xbe: { decodeModrm(cpu, ins); writeG(cpu, vsize(cpu), (readE(cpu, 0) << 24) >> 24); return; }
    case 0xbf: { decodeModrm(cpu, ins); writeG(cpu, vsize(cpu), (readE(cpu, 1) << 16) >> 16); return; }
    case 0xc0: case 0xc1: { // XADD
      const size = op & 1 ? vsize(cpu) : 0;
      decodeModrm(cpu, ins);
      const dst = readEForWrite(cpu, size), src = readG(cpu, size);
      const sum = cpu.alu(0, dst & SIZE_MASK[size], src & SIZE_MASK[size], size);
      writeG(cpu, size, dst);
      writeE(cpu, size, sum);
      return;
    }
    case 0xc7: { // CMPXCHG8B
      const m = decodeModrm(cpu, ins);
      if (m >= 0xc0 || ((m >> 3) & 7) !== 1) cpu.raise(Vector.UD);
      cpu.checkWritable(cpu.eaSeg, cpu.eaOff, 8);
      const lo = cpu.read32(cpu.eaSeg, cpu.eaOff), hi = cpu.read32(cpu.eaSeg, (cpu.eaOff + 4) | 0);
      if (lo === r[Reg.EAX] && hi === r[Reg.EDX]) {
        cpu.write32(cpu.eaSeg, cpu.eaOff, r[Reg.EBX]);
        cpu.write32(cpu.eaSeg, (cpu.eaOff + 4) | 0, r[Reg.ECX]);
        cpu.setFlag(ZF, true);
      } else {
        cpu.write32(cpu.eaSeg, cpu.eaOff, lo);
        cpu.write32(cpu.eaSeg, (cpu.eaOff + 4) | 0, hi);
        r[Reg.EAX] = lo; r[Reg.EDX] = hi;
        cpu.setFlag(ZF, false);
      }
      return;
    }
    case 0xc8: case 0xc9: case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf: {
      const v = r[op & 7];
      // BSWAP with a 16-bit operand is undefined; P6 clears the low word (as QEMU does).
      if (cpu.o32) r[op & 7] = ((v >>> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) | 0;
      else cpu.regs16[(op & 7) << 1] = 0;
      return;
    }
    default:
      cpu.raise(Vector.UD);
  }
}

/** BT/BTS/BTR/BTC (kind 0-3) with a register or immediate bit offset. */
function bitTest(cpu: Cpu, ins: Instr, kind: number, immediate: boolean): void {
  const size = vsize(cpu);
  if (!immediate) decodeModrm(cpu, ins);
  const bits = size === 2 ? 32 : 16;
  let bit: number;
  if (immediate) bit = ins.imm & (bits - 1);
  else bit = readG(cpu, size);
  let v: number;
  if (cpu.modrm >= 0xc0 || immediate) {
    if (!immediate) bit &= bits - 1;
    v = kind === 0 ? readE(cpu, size) : readEForWrite(cpu, size);
  } else {
    // A register bit offset addresses memory beyond the operand (signed, in operand-size units).
    const signedBit = size === 2 ? bit | 0 : (bit << 16) >> 16;
    const unitOff = Math.floor(signedBit / bits) * (bits >> 3);
    cpu.eaOff = cpu.a32 ? (cpu.eaOff + unitOff) | 0 : (cpu.eaOff + unitOff) | 0;
    bit = signedBit & (bits - 1);
    v = kind === 0 ? readE(cpu, size) : readEForWrite(cpu, size);
  }
  const cf = (v >>> bit) & 1;
  cpu.materializeFlags();
  cpu.flags = (cpu.flags & ~CF) | cf;
  if (kind === 0) return;
  const m = 1 << bit;
  writeE(cpu, size, kind === 1 ? v | m : kind === 2 ? v & ~m : v ^ m);
}

function group6(cpu: Cpu, ins: Instr): void {
  const m = decodeModrm(cpu, ins), sub = (m >> 3) & 7;
  if (!cpu.protectedMode || cpu.vm86) cpu.raise(Vector.UD);
  switch (sub) {
    case 0: writeE(cpu, m >= 0xc0 ? vsize(cpu) : 1, cpu.ldtSel); return; // SLDT
    case 1: writeE(cpu, m >= 0xc0 ? vsize(cpu) : 1, cpu.trSel); return;  // STR
    case 2: if (cpu.cpl) cpu.raise(Vector.GP, 0); loadLdt(cpu, readE(cpu, 1)); return;
    case 3: if (cpu.cpl) cpu.raise(Vector.GP, 0); loadTaskRegister(cpu, readE(cpu, 1)); return;
    case 4: case 5: { // VERR / VERW
      const sel = readE(cpu, 1);
      const d = probeDescriptor(cpu, sel, false);
      let ok = false;
      if (d && !d.isSystem) {
        if (sub === 4) ok = !d.isCode || (d.hi & 0x200) !== 0;
        else ok = !d.isCode && (d.hi & 0x200) !== 0;
        if (d.isCode && (d.hi & 0x400) === 0 && (d.dpl < cpu.cpl || d.dpl < (sel & 3))) ok = false;
      }
      cpu.setFlag(ZF, ok);
      return;
    }
    default: cpu.raise(Vector.UD);
  }
}

function group7(cpu: Cpu, ins: Instr): void {
  const m = decodeModrm(cpu, ins), sub = (m >> 3) & 7;
  const privileged = cpu.protectedMode && cpu.cpl !== 0;
  switch (sub) {
    case 0: case 1: { // SGDT / SIDT
      requireMemory(cpu);
      const base = sub === 0 ? cpu.gdtBase : cpu.idtBase, limit = sub === 0 ? cpu.gdtLimit : cpu.idtLimit;
      cpu.checkWritable(cpu.eaSeg, cpu.eaOff, 6);
      cpu.write16(cpu.eaSeg, cpu.eaOff, limit);
      // With a 16-bit operand the P6 stores the top byte of the base as well (SDM: 386+ behaviour).
      cpu.write32(cpu.eaSeg, (cpu.eaOff + 2) | 0, cpu.o32 ? base : base & 0xffffff);
      return;
    }
    case 2: case 3: { // LGDT / LIDT
      requireMemory(cpu);
      if (privileged || cpu.vm86) cpu.raise(Vector.GP, 0);
      const limit = cpu.read16(cpu.eaSeg, cpu.eaOff);
      let base = cpu.read32(cpu.eaSeg, (cpu.eaOff + 2) | 0);
      if (!cpu.o32) base &= 0xffffff;
      if (sub === 2) { cpu.gdtBase = base; cpu.gdtLimit = limit; } else { cpu.idtBase = base; cpu.idtLimit = limit; }
      return;
    }
    case 4: // SMSW
      writeE(cpu, m >= 0xc0 ? vsize(cpu) : 1, cpu.cr0);
      return;
    case 6: { // LMSW: can set PE but never clear it
      if (privileged || cpu.vm86) cpu.raise(Vector.GP, 0);
      const v = readE(cpu, 1);
      cpu.setCr0((cpu.cr0 & ~0xe) | (v & 0xf) | (cpu.cr0 & CR0_PE));
      return;
    }
    case 7: // INVLPG
      requireMemory(cpu);
      if (privileged || cpu.vm86) cpu.raise(Vector.GP, 0);
      cpu.invalidatePage((cpu.segBase[cpu.eaSeg] + cpu.eaOff) | 0);
      return;
    default: cpu.raise(Vector.UD);
  }
}

function moveControl(cpu: Cpu, ins: Instr, op: number): void {
  const m = ins.modrm; // always register operands: mod bits are ignored
  cpu.modrm = m | 0xc0;
  const n = (m >> 3) & 7, reg = m & 7;
  if (cpu.protectedMode && (cpu.cpl !== 0 || cpu.vm86)) cpu.raise(Vector.GP, 0);
  const r = cpu.regs;
  switch (op) {
    case 0x20: // MOV r32, CRn
      switch (n) {
        case 0: r[reg] = cpu.cr0; return;
        case 2: r[reg] = cpu.cr2; return;
        case 3: r[reg] = cpu.cr3; return;
        case 4: r[reg] = cpu.cr4; return;
        default: cpu.raise(Vector.UD);
      }
      return;
    case 0x22: { // MOV CRn, r32
      const v = r[reg];
      switch (n) {
        case 0:
          if ((v & CR0_PG) && !(v & CR0_PE)) cpu.raise(Vector.GP, 0);
          if ((v & 0x20000000) && !(v & 0x40000000)) cpu.raise(Vector.GP, 0); // NW without CD
          cpu.setCr0(v);
          return;
        case 2: cpu.cr2 = v; return;
        case 3: cpu.setCr3(v & ~0xfe7); return;
        case 4:
          // Only the bits of the features CPUID reports may be set (PSE, PGE, TSD, OSFXSR, PCE, DE? no).
          if (v & ~(0x4 | 0x10 | 0x80 | 0x100 | 0x200)) cpu.raise(Vector.GP, 0);
          cpu.setCr4(v);
          return;
        default: cpu.raise(Vector.UD);
      }
      return;
    }
    case 0x21: // MOV r32, DRn
      if (n === 4 || n === 5) { r[reg] = cpu.dr[n + 2]; return; }
      r[reg] = cpu.dr[n];
      return;
    default: // 0x23 MOV DRn, r32
      if (n === 4 || n === 5) cpu.dr[n + 2] = r[reg];
      else if (n === 6) cpu.dr[6] = (r[reg] & 0xe00f) | (0xffff0ff0 | 0);
      else if (n === 7) { cpu.dr[7] = (r[reg] & 0xffff2bff) | 0x400; cpu.updateAccessChecks(); }
      else cpu.dr[n] = r[reg];
      return;
  }
}

