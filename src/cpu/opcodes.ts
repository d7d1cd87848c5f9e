// The opcode map as data: one entry per opcode form of the one-byte and 0F two-byte maps.
// The decoder (decoder.ts) is driven by the compiled tables below and nothing else decodes:
// which forms take a ModRM byte, which immediates follow and in what size, which forms LOCK may
// prefix, which end a decoded block, and which arithmetic flags each reads and writes (for the
// JIT, which computes flags only where something reads them).
//
// Operand notation (as in the SDM's opcode tables, and v86's gen/x86_table.js):
//   E ModRM r/m, G ModRM reg, M ModRM memory only, R ModRM register only (mod ignored),
//   S segment register in ModRM reg, C/D control/debug register in ModRM reg,
//   I immediate, J relative target, O moffs (address-size offset), A far pointer,
//   Z register in the low opcode bits; sizes b = 8, w = 16, v/z = operand size, bs = signed byte.

import { CF, PF, AF, ZF, SF, OF, ARITH_FLAGS } from './flags.ts';

/** Immediate kinds (in fetch order after the ModRM bytes). */
export const enum Imm {
  None = 0,
  Ib = 1,     // byte, zero-extended
  Ibs = 2,    // byte, sign-extended (Jb, Ibs)
  Iw = 3,     // word, zero-extended
  Iv = 4,     // operand size, zero-extended from 16 bits
  Jz = 5,     // operand size, sign-extended from 16 bits (rel16/rel32)
  Ob = 6,     // address size, zero-extended (moffs)
  Ap = 7,     // far pointer: operand-size offset then selector word (imm2)
  IwIb = 8,   // ENTER: word then byte (imm2)
}

/** Attribute bits of an opcode form. */
export const enum Attr {
  Modrm = 1,        // a ModRM byte (and any SIB/displacement) follows the opcode
  RegOnly = 2,      // ModRM always names registers (MOV CR/DR): no effective address
  Prefix = 4,
  Invalid = 8,      // #UD right after the opcode bytes
  ImmIfReg01 = 16,  // the immediate is present only for ModRM reg 0 and 1 (group 3 TEST)
  ByteOp = 32,      // the immediate of Iv/Iz is a byte (opcode bit 0 clear in F6)
  X87 = 64,
}

export const OPCODE_COUNT = 512; // 0x000-0x0FF one-byte, 0x100-0x1FF after 0F

export const opName: string[] = new Array(OPCODE_COUNT).fill('(bad)');
export const opOperands: string[] = new Array(OPCODE_COUNT).fill('');
export const opAttr = new Uint8Array(OPCODE_COUNT);
export const opImm = new Uint8Array(OPCODE_COUNT);
/** ModRM reg values (bit mask) for which LOCK is legal, with a memory operand. 0 = never. */
export const opLockRegs = new Uint8Array(OPCODE_COUNT);
/** ModRM reg values that are #UD right after the ModRM byte (before SIB/displacement). */
export const opUdEarlyRegs = new Uint8Array(OPCODE_COUNT);
/** ModRM reg values that are #UD after the effective address, before the immediate. */
export const opUdLateRegs = new Uint8Array(OPCODE_COUNT);
/** ModRM reg values (bit mask; 0xFF for the whole opcode) for which the form ends a decoded block. */
export const opEndsRegs = new Uint8Array(OPCODE_COUNT);
/** Conditional branches: they end a block when taken and fall through otherwise (a side exit). */
export const opCondBranch = new Uint8Array(OPCODE_COUNT);
/** Arithmetic flags read / written (any value, including undefined) by the form. */
export const opFlagsRead = new Uint16Array(OPCODE_COUNT);
export const opFlagsWritten = new Uint16Array(OPCODE_COUNT);

interface Form {
  lock?: number;      // lockable reg mask (0xFF: every reg)
  ends?: number;      // ends-block reg mask (0xFF: always)
  cond?: boolean;     // conditional branch: falls through when not taken
  udEarly?: number;
  udLate?: number;
  r?: number;         // flags read
  w?: number;         // flags written
  immIfReg01?: boolean;
}

const ALL = 0xff;

function def(op: number, name: string, operands: string, f: Form = {}): void {
  opName[op] = name;
  opOperands[op] = operands;
  let attr = 0, imm = Imm.None;
  for (const o of operands ? operands.split(',') : []) {
    if (o === 'eAX' || o === '1' || /^[A-Z][A-Z]$/.test(o)) continue; // fixed registers (AL, CL, DX, ES…)
    const k = o[0];
    if ('EGMS'.includes(k)) attr |= Attr.Modrm;
    if (k === 'R' || k === 'C' || k === 'D') attr |= Attr.Modrm | Attr.RegOnly;
    if (k === 'I' || k === 'J') {
      if (o === 'Ibs' || o === 'Jb') imm = Imm.Ibs;
      else if (o === 'Ib') imm = imm === Imm.Iw ? Imm.IwIb : Imm.Ib;
      else if (o === 'Iw') imm = Imm.Iw;
      else if (o === 'Iz' || o === 'Iv') imm = Imm.Iv;
      else if (o === 'Jz') imm = Imm.Jz;
      else throw new Error(`opcode ${op.toString(16)}: immediate ${o}`);
    }
    if (k === 'O') imm = Imm.Ob;
    if (k === 'A') imm = Imm.Ap;
  }
  if (f.immIfReg01) attr |= Attr.ImmIfReg01;
  if (name === 'ESC') attr |= Attr.X87;
  opAttr[op] = attr;
  opImm[op] = imm;
  opLockRegs[op] = f.lock ?? 0;
  opEndsRegs[op] = f.ends ?? 0;
  opCondBranch[op] = f.cond ? 1 : 0;
  opUdEarlyRegs[op] = f.udEarly ?? 0;
  opUdLateRegs[op] = f.udLate ?? 0;
  opFlagsRead[op] = f.r ?? 0;
  opFlagsWritten[op] = f.w ?? 0;
}

for (let op = 0; op < OPCODE_COUNT; op++) opAttr[op] = Attr.Invalid;

// ---- one-byte map --------------------------------------------------------------------------

const ALU = ['ADD', 'OR', 'ADC', 'SBB', 'AND', 'SUB', 'XOR', 'CMP'];
for (let i = 0; i < 8; i++) {
  const b = i << 3, lock = i === 7 ? 0 : ALL, r = i === 2 || i === 3 ? CF : 0, w = ARITH_FLAGS;
  def(b + 0, ALU[i], 'Eb,Gb', { lock, r, w });
  def(b + 1, ALU[i], 'Ev,Gv', { lock, r, w });
  def(b + 2, ALU[i], 'Gb,Eb', { r, w });
  def(b + 3, ALU[i], 'Gv,Ev', { r, w });
  def(b + 4, ALU[i], 'AL,Ib', { r, w });
  def(b + 5, ALU[i], 'eAX,Iz', { r, w });
}
def(0x06, 'PUSH', 'ES'); def(0x07, 'POP', 'ES');
def(0x0e, 'PUSH', 'CS');
def(0x16, 'PUSH', 'SS'); def(0x17, 'POP', 'SS', { ends: ALL }); // interrupt shadow
def(0x1e, 'PUSH', 'DS'); def(0x1f, 'POP', 'DS');
for (const p of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) { def(p, 'PREFIX', ''); opAttr[p] = Attr.Prefix; }
def(0x27, 'DAA', '', { r: CF | AF, w: ARITH_FLAGS });
def(0x2f, 'DAS', '', { r: CF | AF, w: ARITH_FLAGS });
def(0x37, 'AAA', '', { r: AF, w: ARITH_FLAGS });
def(0x3f, 'AAS', '', { r: AF, w: ARITH_FLAGS });
for (let i = 0; i < 8; i++) {
  def(0x40 + i, 'INC', 'Zv', { w: ARITH_FLAGS & ~CF });
  def(0x48 + i, 'DEC', 'Zv', { w: ARITH_FLAGS & ~CF });
  def(0x50 + i, 'PUSH', 'Zv');
  def(0x58 + i, 'POP', 'Zv');
}
def(0x60, 'PUSHA', ''); def(0x61, 'POPA', '');
def(0x62, 'BOUND', 'Gv,Ma');
def(0x63, 'ARPL', 'Ew,Gw', { w: ZF });
def(0x68, 'PUSH', 'Iz');
def(0x69, 'IMUL', 'Gv,Ev,Iz', { w: ARITH_FLAGS });
def(0x6a, 'PUSH', 'Ibs');
def(0x6b, 'IMUL', 'Gv,Ev,Ibs', { w: ARITH_FLAGS });
def(0x6c, 'INSB', ''); def(0x6d, 'INSW', ''); def(0x6e, 'OUTSB', ''); def(0x6f, 'OUTSW', '');
const CC_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];
const CC = ['O', 'NO', 'B', 'AE', 'E', 'NE', 'BE', 'A', 'S', 'NS', 'P', 'NP', 'L', 'GE', 'LE', 'G'];
for (let cc = 0; cc < 16; cc++) def(0x70 + cc, 'J' + CC[cc], 'Jb', { ends: ALL, cond: true, r: CC_READS[cc] });
const GRP1_READ = CF; // ADC/SBB (reg 2, 3) read CF; the table records the union over the group
def(0x80, 'GRP1', 'Eb,Ib', { lock: 0x7f, r: GRP1_READ, w: ARITH_FLAGS });
def(0x81, 'GRP1', 'Ev,Iz', { lock: 0x7f, r: GRP1_READ, w: ARITH_FLAGS });
def(0x82, 'GRP1', 'Eb,Ib', { lock: 0x7f, r: GRP1_READ, w: ARITH_FLAGS });
def(0x83, 'GRP1', 'Ev,Ibs', { lock: 0x7f, r: GRP1_READ, w: ARITH_FLAGS });
def(0x84, 'TEST', 'Eb,Gb', { w: ARITH_FLAGS }); def(0x85, 'TEST', 'Ev,Gv', { w: ARITH_FLAGS });
def(0x86, 'XCHG', 'Eb,Gb', { lock: ALL }); def(0x87, 'XCHG', 'Ev,Gv', { lock: ALL });
def(0x88, 'MOV', 'Eb,Gb'); def(0x89, 'MOV', 'Ev,Gv'); def(0x8a, 'MOV', 'Gb,Eb'); def(0x8b, 'MOV', 'Gv,Ev');
def(0x8c, 'MOV', 'Ev,Sw');
def(0x8d, 'LEA', 'Gv,M');
def(0x8e, 'MOV', 'Sw,Ew', { ends: ALL }); // MOV SS: interrupt shadow
def(0x8f, 'POP', 'Ev', { udEarly: 0xfe });
def(0x90, 'NOP', '');
for (let i = 1; i < 8; i++) def(0x90 + i, 'XCHG', 'Zv,eAX');
def(0x98, 'CBW', ''); def(0x99, 'CWD', '');
def(0x9a, 'CALLF', 'Ap', { ends: ALL });
def(0x9b, 'FWAIT', '');
def(0x9c, 'PUSHF', '', { r: ARITH_FLAGS });
def(0x9d, 'POPF', '', { ends: ALL, w: ARITH_FLAGS });
def(0x9e, 'SAHF', '', { w: CF | PF | AF | ZF | SF });
def(0x9f, 'LAHF', '', { r: CF | PF | AF | ZF | SF });
def(0xa0, 'MOV', 'AL,Ob'); def(0xa1, 'MOV', 'eAX,Ov'); def(0xa2, 'MOV', 'Ob,AL'); def(0xa3, 'MOV', 'Ov,eAX');
def(0xa4, 'MOVSB', ''); def(0xa5, 'MOVSW', '');
def(0xa6, 'CMPSB', '', { w: ARITH_FLAGS }); def(0xa7, 'CMPSW', '', { w: ARITH_FLAGS });
def(0xa8, 'TEST', 'AL,Ib', { w: ARITH_FLAGS }); def(0xa9, 'TEST', 'eAX,Iz', { w: ARITH_FLAGS });
def(0xaa, 'STOSB', ''); def(0xab, 'STOSW', '');
def(0xac, 'LODSB', ''); def(0xad, 'LODSW', '');
def(0xae, 'SCASB', '', { w: ARITH_FLAGS }); def(0xaf, 'SCASW', '', { w: ARITH_FLAGS });
for (let i = 0; i < 8; i++) { def(0xb0 + i, 'MOV', 'Zb,Ib'); def(0xb8 + i, 'MOV', 'Zv,Iv'); }
// Rotates through carry read CF; a zero count leaves every flag as it was (so "written" is a may-write).
def(0xc0, 'GRP2', 'Eb,Ib', { r: CF, w: ARITH_FLAGS }); def(0xc1, 'GRP2', 'Ev,Ib', { r: CF, w: ARITH_FLAGS });
def(0xc2, 'RET', 'Iw', { ends: ALL }); def(0xc3, 'RET', '', { ends: ALL });
def(0xc4, 'LES', 'Gv,Mp'); def(0xc5, 'LDS', 'Gv,Mp');
def(0xc6, 'MOV', 'Eb,Ib', { udLate: 0xfe }); def(0xc7, 'MOV', 'Ev,Iz', { udLate: 0xfe });
def(0xc8, 'ENTER', 'Iw,Ib'); def(0xc9, 'LEAVE', '');
def(0xca, 'RETF', 'Iw', { ends: ALL }); def(0xcb, 'RETF', '', { ends: ALL });
def(0xcc, 'INT3', '', { ends: ALL }); def(0xcd, 'INT', 'Ib', { ends: ALL });
def(0xce, 'INTO', '', { ends: ALL, r: OF }); def(0xcf, 'IRET', '', { ends: ALL, w: ARITH_FLAGS });
def(0xd0, 'GRP2', 'Eb,1', { r: CF, w: ARITH_FLAGS }); def(0xd1, 'GRP2', 'Ev,1', { r: CF, w: ARITH_FLAGS });
def(0xd2, 'GRP2', 'Eb,CL', { r: CF, w: ARITH_FLAGS }); def(0xd3, 'GRP2', 'Ev,CL', { r: CF, w: ARITH_FLAGS });
def(0xd4, 'AAM', 'Ib', { w: ARITH_FLAGS }); def(0xd5, 'AAD', 'Ib', { w: ARITH_FLAGS });
def(0xd6, 'SALC', '', { r: CF });
def(0xd7, 'XLAT', '');
for (let i = 0; i < 8; i++) def(0xd8 + i, 'ESC', 'E');
def(0xe0, 'LOOPNZ', 'Jb', { ends: ALL, cond: true, r: ZF }); def(0xe1, 'LOOPZ', 'Jb', { ends: ALL, cond: true, r: ZF });
def(0xe2, 'LOOP', 'Jb', { ends: ALL, cond: true }); def(0xe3, 'JCXZ', 'Jb', { ends: ALL, cond: true });
def(0xe4, 'IN', 'AL,Ib'); def(0xe5, 'IN', 'eAX,Ib'); def(0xe6, 'OUT', 'Ib,AL'); def(0xe7, 'OUT', 'Ib,eAX');
def(0xe8, 'CALL', 'Jz', { ends: ALL }); def(0xe9, 'JMP', 'Jz', { ends: ALL });
def(0xea, 'JMPF', 'Ap', { ends: ALL }); def(0xeb, 'JMP', 'Jb', { ends: ALL });
def(0xec, 'IN', 'AL,DX'); def(0xed, 'IN', 'eAX,DX'); def(0xee, 'OUT', 'DX,AL'); def(0xef, 'OUT', 'DX,eAX');
def(0xf1, 'ICEBP', '', { ends: ALL });
def(0xf4, 'HLT', '', { ends: ALL });
def(0xf5, 'CMC', '', { r: CF, w: CF });
def(0xf6, 'GRP3', 'Eb,Ib', { immIfReg01: true, lock: 0x0c, w: ARITH_FLAGS });
def(0xf7, 'GRP3', 'Ev,Iz', { immIfReg01: true, lock: 0x0c, w: ARITH_FLAGS });
def(0xf8, 'CLC', '', { w: CF }); def(0xf9, 'STC', '', { w: CF });
def(0xfa, 'CLI', ''); def(0xfb, 'STI', '', { ends: ALL });
def(0xfc, 'CLD', ''); def(0xfd, 'STD', '');
def(0xfe, 'GRP4', 'Eb', { lock: 0x03, w: ARITH_FLAGS & ~CF });
def(0xff, 'GRP5', 'Ev', { lock: 0x03, ends: 0x3c, w: ARITH_FLAGS & ~CF });

// ---- two-byte map (0F xx) ------------------------------------------------------------------

const T = 0x100;
def(T + 0x00, 'GRP6', 'Ew', { ends: 0x0c }); // LLDT, LTR
def(T + 0x01, 'GRP7', 'M', { ends: ALL });   // LGDT/LIDT/LMSW/INVLPG change what code means
def(T + 0x02, 'LAR', 'Gv,Ew', { w: ZF }); def(T + 0x03, 'LSL', 'Gv,Ew', { w: ZF });
def(T + 0x06, 'CLTS', '');
def(T + 0x08, 'INVD', ''); def(T + 0x09, 'WBINVD', '');
def(T + 0x0b, 'UD2', '', { ends: ALL });
for (let i = 0x18; i < 0x20; i++) def(T + i, 'NOP', 'Ev');
def(T + 0x20, 'MOV', 'Rd,Cd'); def(T + 0x21, 'MOV', 'Rd,Dd');
def(T + 0x22, 'MOV', 'Cd,Rd', { ends: ALL }); def(T + 0x23, 'MOV', 'Dd,Rd', { ends: ALL });
def(T + 0x30, 'WRMSR', '', { ends: ALL }); def(T + 0x31, 'RDTSC', ''); def(T + 0x32, 'RDMSR', ''); def(T + 0x33, 'RDPMC', '');
def(T + 0x34, 'SYSENTER', '', { ends: ALL }); def(T + 0x35, 'SYSEXIT', '', { ends: ALL });
for (let cc = 0; cc < 16; cc++) {
  def(T + 0x40 + cc, 'CMOV' + CC[cc], 'Gv,Ev', { r: CC_READS[cc] });
  def(T + 0x80 + cc, 'J' + CC[cc], 'Jz', { ends: ALL, cond: true, r: CC_READS[cc] });
  def(T + 0x90 + cc, 'SET' + CC[cc], 'Eb', { r: CC_READS[cc] });
}
def(T + 0xa0, 'PUSH', 'FS'); def(T + 0xa1, 'POP', 'FS'); def(T + 0xa2, 'CPUID', '');
def(T + 0xa3, 'BT', 'Ev,Gv', { w: CF });
def(T + 0xa4, 'SHLD', 'Ev,Gv,Ib', { w: ARITH_FLAGS }); def(T + 0xa5, 'SHLD', 'Ev,Gv,CL', { w: ARITH_FLAGS });
def(T + 0xa8, 'PUSH', 'GS'); def(T + 0xa9, 'POP', 'GS');
def(T + 0xab, 'BTS', 'Ev,Gv', { lock: ALL, w: CF });
def(T + 0xac, 'SHRD', 'Ev,Gv,Ib', { w: ARITH_FLAGS }); def(T + 0xad, 'SHRD', 'Ev,Gv,CL', { w: ARITH_FLAGS });
def(T + 0xae, 'GRP15', 'M');
def(T + 0xaf, 'IMUL', 'Gv,Ev', { w: ARITH_FLAGS });
def(T + 0xb0, 'CMPXCHG', 'Eb,Gb', { lock: ALL, w: ARITH_FLAGS }); def(T + 0xb1, 'CMPXCHG', 'Ev,Gv', { lock: ALL, w: ARITH_FLAGS });
def(T + 0xb2, 'LSS', 'Gv,Mp', { ends: ALL });
def(T + 0xb3, 'BTR', 'Ev,Gv', { lock: ALL, w: CF });
def(T + 0xb4, 'LFS', 'Gv,Mp'); def(T + 0xb5, 'LGS', 'Gv,Mp');
def(T + 0xb6, 'MOVZX', 'Gv,Eb'); def(T + 0xb7, 'MOVZX', 'Gv,Ew');
def(T + 0xba, 'GRP8', 'Ev,Ib', { udLate: 0x0f, lock: 0xe0, w: CF });
def(T + 0xbb, 'BTC', 'Ev,Gv', { lock: ALL, w: CF });
def(T + 0xbc, 'BSF', 'Gv,Ev', { w: ZF }); def(T + 0xbd, 'BSR', 'Gv,Ev', { w: ZF });
def(T + 0xbe, 'MOVSX', 'Gv,Eb'); def(T + 0xbf, 'MOVSX', 'Gv,Ew');
def(T + 0xc0, 'XADD', 'Eb,Gb', { lock: ALL, w: ARITH_FLAGS }); def(T + 0xc1, 'XADD', 'Ev,Gv', { lock: ALL, w: ARITH_FLAGS });
def(T + 0xc7, 'GRP9', 'Mq', { lock: 0x02, w: ZF });
for (let i = 0; i < 8; i++) def(T + 0xc8 + i, 'BSWAP', 'Zd');

/** True when the form at `op` with ModRM `modrm` ends a decoded block. */
export function endsBlock(op: number, modrm: number): boolean {
  return (opEndsRegs[op] & (1 << ((modrm >> 3) & 7))) !== 0;
}
