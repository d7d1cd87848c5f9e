// Protected-mode machinery: descriptors, segment loads with their checks, far transfers
// through gates, interrupt and exception delivery in every mode, hardware task switching,
// the I/O permission bitmap, CPUID and MSRs. Functions take the CPU as their first argument
// so the interpreter and a later JIT call exactly the same code.

import {
  Cpu, Seg, Reg, ACC_P, ACC_S, ACC_CODE, ACC_DC, ACC_RW, ACC_DB, ACC_ACCESSED,
} from './cpu.ts';
import { Vector } from './fault.ts';
import { IF, TF, NT, RF, VM, IOPL, AC, VIF, VIP, CR0_TS, CR0_PG } from './flags.ts';

/** A descriptor as read from the GDT/LDT: the two dwords and the fields the checks need. */
export class Descriptor {
  lo = 0; hi = 0;
  get base(): number { return ((this.lo >>> 16) | ((this.hi & 0xff) << 16) | (this.hi & 0xff000000)) | 0; }
  get limit(): number {
    const raw = (this.lo & 0xffff) | (this.hi & 0xf0000);
    return (this.hi & 0x800000) ? ((raw << 12) | 0xfff) : raw;
  }
  /** Access byte in bits 0-7, flags nibble in bits 12-15 (the CPU's segAccess format). */
  get access(): number { return (this.hi >>> 8) & 0xf0ff; }
  get type(): number { return (this.hi >>> 8) & 0xf; }
  get isSystem(): boolean { return (this.hi & 0x1000) === 0; }
  get isCode(): boolean { return !this.isSystem && (this.hi & 0x800) !== 0; }
  get dpl(): number { return (this.hi >>> 13) & 3; }
  get present(): boolean { return (this.hi & 0x8000) !== 0; }
  // Gate fields
  get gateSelector(): number { return this.lo >>> 16; }
  get gateOffset(): number { return (this.lo & 0xffff) | (this.hi & 0xffff0000); }
  get gateParamCount(): number { return this.hi & 0x1f; }
}

/** Linear address of a selector's descriptor, or -1 when it lies beyond the table's limit. */
function descriptorAddress(cpu: Cpu, sel: number): number {
  const index = sel & ~7;
  if (sel & 4) {
    if ((cpu.ldtSel & ~3) === 0 || index + 7 > (cpu.ldtLimit >>> 0)) return -1;
    return (cpu.ldtBase + index) | 0;
  }
  if (index + 7 > (cpu.gdtLimit >>> 0)) return -1;
  return (cpu.gdtBase + index) | 0;
}

/** Read a descriptor; raises `vector`(selector) when it is outside its table. */
export function readDescriptor(cpu: Cpu, sel: number, d: Descriptor, vector = Vector.GP): void {
  const addr = descriptorAddress(cpu, sel);
  if (addr === -1) cpu.raise(vector, sel & 0xfffc);
  d.lo = cpu.sysRead32(addr);
  d.hi = cpu.sysRead32((addr + 4) | 0);
}

/** Set the accessed bit of a code/data descriptor, as the CPU does when it loads one. */
function setAccessed(cpu: Cpu, sel: number, d: Descriptor): void {
  if (!(d.hi & 0x100)) {
    d.hi |= 0x100;
    cpu.sysWrite8((descriptorAddress(cpu, sel) + 5) | 0, (d.hi >>> 8) & 0xff);
  }
}

const scratch = new Descriptor();
const scratch2 = new Descriptor();

export function loadSegmentReal(cpu: Cpu, s: number, selector: number): void {
  selector &= 0xffff;
  if (s === Seg.CS) {
    // Real mode keeps the cached limit/size of CS only in the descriptor cache; real code is 16-bit.
    cpu.setSegmentCache(s, selector, selector << 4, cpu.vm86 ? 0xffff : cpu.segLimit[s],
      ACC_P | ACC_S | ACC_RW | ACC_ACCESSED | ACC_CODE | (cpu.vm86 ? 0x60 : (cpu.segAccess[s] & 0x60)));
    return;
  }
  // Real mode keeps limit and attributes from the last protected-mode load ("unreal mode").
  const acc = cpu.vm86 ? (ACC_P | ACC_S | ACC_RW | ACC_ACCESSED | 0x60) : ((cpu.segAccess[s] & 0xffff & ~ACC_CODE & ~ACC_DC) | ACC_P | ACC_S | ACC_RW);
  cpu.setSegmentCache(s, selector, selector << 4, cpu.vm86 ? 0xffff : cpu.segLimit[s], acc);
}

/** MOV/POP to a segment register, LDS and friends: the full load with its checks. */
export function loadSegment(cpu: Cpu, s: number, sel: number): void {
  sel &= 0xffff;
  if (!cpu.protectedMode || cpu.vm86) { loadSegmentReal(cpu, s, sel); return; }
  if (s === Seg.SS) { loadStackSegment(cpu, sel, cpu.cpl); return; }
  if ((sel & 0xfffc) === 0) { cpu.setSegmentNull(s, sel); return; }
  const d = scratch;
  readDescriptor(cpu, sel, d);
  const rpl = sel & 3, dpl = d.dpl;
  if (d.isSystem || (d.isCode && !(d.hi & 0x200))) cpu.raise(Vector.GP, sel & 0xfffc);
  if (!d.isCode || !(d.hi & 0x400)) {
    // Data and non-conforming code: both CPL and RPL must be within the descriptor's privilege.
    if (rpl > dpl || cpu.cpl > dpl) cpu.raise(Vector.GP, sel & 0xfffc);
  }
  if (!d.present) cpu.raise(Vector.NP, sel & 0xfffc);
  setAccessed(cpu, sel, d);
  cpu.setSegmentCache(s, sel, d.base, d.limit, d.access);
}

function loadStackSegment(cpu: Cpu, sel: number, cpl: number, vector = Vector.GP): void {
  commitStackSegment(cpu, sel, checkStackSegment(cpu, sel, cpl, vector));
}

/** The checks of an SS load at privilege `cpl`, without changing anything (returns the descriptor). */
function checkStackSegment(cpu: Cpu, sel: number, cpl: number, vector = Vector.GP): Descriptor {
  if ((sel & 0xfffc) === 0) cpu.raise(vector, 0);
  const d = new Descriptor();
  readDescriptor(cpu, sel, d, vector);
  if ((sel & 3) !== cpl || d.isSystem || d.isCode || !(d.hi & 0x200) || d.dpl !== cpl) cpu.raise(vector, sel & 0xfffc);
  if (!d.present) cpu.raise(Vector.SS, sel & 0xfffc);
  return d;
}

function commitStackSegment(cpu: Cpu, sel: number, d: Descriptor): void {
  setAccessed(cpu, sel, d);
  cpu.setSegmentCache(Seg.SS, sel, d.base, d.limit, d.access);
}

/** Load CS from a checked code descriptor at privilege `cpl` and jump. */
function setCodeSegment(cpu: Cpu, sel: number, d: Descriptor, cpl: number, eip: number): void {
  setAccessed(cpu, sel, d);
  const limit = d.limit;
  if ((eip >>> 0) > (limit >>> 0)) cpu.raise(Vector.GP, 0);
  cpu.setSegmentCache(Seg.CS, (sel & 0xfffc) | cpl, d.base, limit, d.access);
  cpu.setCpl(cpl);
  cpu.eip = eip;
}

/** After a return to an outer level, data segments more privileged than CPL become null. */
function invalidateOuterSegments(cpu: Cpu): void {
  for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) {
    const acc = cpu.segAccess[s];
    if (acc & 0x10000) continue;
    const dpl = (acc >> 5) & 3;
    const conformingCode = (acc & (ACC_CODE | ACC_DC)) === (ACC_CODE | ACC_DC);
    if (!conformingCode && dpl < cpu.cpl) cpu.setSegmentNull(s, 0);
  }
}

// ---- far transfers ------------------------------------------------------------------------

/** JMP FAR / CALL FAR. `nextEip` is the return address for CALL. */
export function farTransfer(cpu: Cpu, sel: number, offset: number, isCall: boolean): void {
  sel &= 0xffff;
  if (!cpu.protectedMode || cpu.vm86) {
    if (isCall) {
      // Push before loading so a stack fault leaves CS:EIP unchanged.
      const cs = cpu.sreg[Seg.CS], ip = cpu.eip;
      if (cpu.o32) { cpu.push32(cs); cpu.push32(ip); } else { cpu.push16(cs); cpu.push16(ip); }
    }
    loadSegmentReal(cpu, Seg.CS, sel);
    cpu.eip = cpu.o32 ? offset : offset & 0xffff;
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raise(Vector.GP, 0);
  const d = scratch2;
  readDescriptor(cpu, sel, d);
  const cpl = cpu.cpl, rpl = sel & 3;
  if (!d.isSystem) {
    if (!d.isCode) cpu.raise(Vector.GP, sel & 0xfffc);
    if (d.hi & 0x400) { if (d.dpl > cpl) cpu.raise(Vector.GP, sel & 0xfffc); }
    else if (rpl > cpl || d.dpl !== cpl) cpu.raise(Vector.GP, sel & 0xfffc);
    if (!d.present) cpu.raise(Vector.NP, sel & 0xfffc);
    if (!cpu.o32) offset &= 0xffff;
    if ((offset >>> 0) > (d.limit >>> 0)) cpu.raise(Vector.GP, 0);
    if (isCall) {
      const cs = cpu.sreg[Seg.CS], ip = cpu.eip;
      if (cpu.o32) { cpu.push32(cs); cpu.push32(ip); } else { cpu.push16(cs); cpu.push16(ip); }
    }
    setCodeSegment(cpu, sel, d, cpl, offset);
    return;
  }
  // System descriptors: call gates, task gates, TSS.
  const type = d.type;
  if (d.dpl < cpl || d.dpl < rpl) cpu.raise(Vector.GP, sel & 0xfffc);
  if (!d.present) cpu.raise(Vector.NP, sel & 0xfffc);
  switch (type) {
    case 1: case 9: // available TSS
      taskSwitch(cpu, sel, d, isCall ? TaskSwitch.Call : TaskSwitch.Jump, -1);
      return;
    case 5: { // task gate
      const tss = d.gateSelector;
      const t = scratch;
      if (tss & 4) cpu.raise(Vector.GP, tss & 0xfffc);
      readDescriptor(cpu, tss, t);
      if (!t.isSystem || (t.type !== 1 && t.type !== 9)) cpu.raise(Vector.GP, tss & 0xfffc);
      if (!t.present) cpu.raise(Vector.NP, tss & 0xfffc);
      taskSwitch(cpu, tss, t, isCall ? TaskSwitch.Call : TaskSwitch.Jump, -1);
      return;
    }
    case 4: case 12: callGate(cpu, d, isCall, type === 12); return;
    default: cpu.raise(Vector.GP, sel & 0xfffc);
  }
}

function callGate(cpu: Cpu, gate: Descriptor, isCall: boolean, gate32: boolean): void {
  const sel = gate.gateSelector;
  const offset = gate32 ? gate.gateOffset : gate.gateOffset & 0xffff;
  if ((sel & 0xfffc) === 0) cpu.raise(Vector.GP, 0);
  const d = new Descriptor();
  readDescriptor(cpu, sel, d);
  const cpl = cpu.cpl;
  if (!d.isCode || d.dpl > cpl) cpu.raise(Vector.GP, sel & 0xfffc);
  if (!d.present) cpu.raise(Vector.NP, sel & 0xfffc);
  const conforming = (d.hi & 0x400) !== 0;
  if (!isCall) {
    if (!conforming && d.dpl !== cpl) cpu.raise(Vector.GP, sel & 0xfffc);
    setCodeSegment(cpu, sel, d, cpl, offset);
    return;
  }
  const retCs = cpu.sreg[Seg.CS], retEip = cpu.eip;
  if (!conforming && d.dpl < cpl) {
    // Inner-level call: switch to the stack for the new level from the TSS, copy parameters.
    const newCpl = d.dpl;
    const { ss: newSs, esp: newEsp } = stackFromTss(cpu, newCpl);
    const oldSs = cpu.sreg[Seg.SS], oldEsp = cpu.regs[Reg.ESP], oldStack32 = cpu.stack32;
    const count = gate.gateParamCount;
    const params: number[] = [];
    for (let i = 0; i < count; i++) {
      const off = oldStack32 ? (oldEsp + i * (gate32 ? 4 : 2)) | 0 : (oldEsp + i * (gate32 ? 4 : 2)) & 0xffff;
      params.push(gate32 ? cpu.read32(Seg.SS, off) : cpu.read16(Seg.SS, off));
    }
    loadStackSegmentForLevel(cpu, newSs, newCpl);
    cpu.regs[Reg.ESP] = newEsp;
    if (!cpu.stack32) cpu.regs[Reg.ESP] = newEsp & 0xffff;
    const push = gate32 ? (v: number) => cpu.push32(v) : (v: number) => cpu.push16(v);
    push(oldSs); push(oldEsp);
    for (let i = count - 1; i >= 0; i--) push(params[i]);
    push(retCs); push(retEip);
    setCodeSegment(cpu, sel, d, newCpl, offset);
    return;
  }
  if (gate32) { cpu.push32(retCs); cpu.push32(retEip); } else { cpu.push16(retCs); cpu.push16(retEip); }
  setCodeSegment(cpu, sel, d, cpl, offset);
}

function stackFromTss(cpu: Cpu, level: number): { ss: number; esp: number } {
  if (cpu.trType === 9 || cpu.trType === 11) {
    const off = 4 + level * 8;
    if (off + 7 > (cpu.trLimit >>> 0)) cpu.raise(Vector.TS, cpu.trSel & 0xfffc);
    return { esp: cpu.sysRead32((cpu.trBase + off) | 0), ss: cpu.sysRead16((cpu.trBase + off + 4) | 0) };
  }
  const off = 2 + level * 4;
  if (off + 3 > (cpu.trLimit >>> 0)) cpu.raise(Vector.TS, cpu.trSel & 0xfffc);
  return { esp: cpu.sysRead16((cpu.trBase + off) | 0), ss: cpu.sysRead16((cpu.trBase + off + 2) | 0) };
}

/** Loading SS for an inner level during a gate transfer: faults are #TS. */
function loadStackSegmentForLevel(cpu: Cpu, sel: number, level: number): void {
  loadStackSegment(cpu, sel, level, Vector.TS);
}

/** RETF [imm16]. */
export function farReturn(cpu: Cpu, release: number): void {
  const o32 = cpu.o32, size = o32 ? 4 : 2;
  const eip = o32 ? cpu.peek32(0) : cpu.peek16(0);
  const sel = (o32 ? cpu.peek32(size) : cpu.peek16(size)) & 0xffff;
  if (!cpu.protectedMode || cpu.vm86) {
    cpu.addSp(2 * size + release);
    loadSegmentReal(cpu, Seg.CS, sel);
    cpu.eip = eip;
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raise(Vector.GP, 0);
  const d = scratch2;
  readDescriptor(cpu, sel, d);
  const rpl = sel & 3, cpl = cpu.cpl;
  if (rpl < cpl || !d.isCode) cpu.raise(Vector.GP, sel & 0xfffc);
  if (d.hi & 0x400) { if (d.dpl > rpl) cpu.raise(Vector.GP, sel & 0xfffc); }
  else if (d.dpl !== rpl) cpu.raise(Vector.GP, sel & 0xfffc);
  if (!d.present) cpu.raise(Vector.NP, sel & 0xfffc);
  if (rpl === cpl) {
    cpu.addSp(2 * size + release);
    setCodeSegment(cpu, sel, d, cpl, eip);
    return;
  }
  // Return to an outer level: the caller's SS:ESP follow the parameters.
  const newEsp = o32 ? cpu.peek32(2 * size + release) : cpu.peek16(2 * size + release);
  const newSs = (o32 ? cpu.peek32(3 * size + release) : cpu.peek16(3 * size + release)) & 0xffff;
  const ss = checkStackSegment(cpu, newSs, rpl);
  setCodeSegment(cpu, sel, d, rpl, eip);
  commitStackSegment(cpu, newSs, ss);
  if (cpu.stack32) cpu.regs[Reg.ESP] = (newEsp + release) | 0;
  else cpu.setReg16(Reg.ESP, (newEsp + release) & 0xffff);
  invalidateOuterSegments(cpu);
}

/** IRET / IRETD in every mode. */
export function interruptReturn(cpu: Cpu): void {
  const o32 = cpu.o32;
  if (!cpu.protectedMode) {
    const eip = o32 ? cpu.peek32(0) : cpu.peek16(0);
    const cs = o32 ? cpu.peek32(4) : cpu.peek16(2);
    const fl = o32 ? cpu.peek32(8) : cpu.peek16(4);
    cpu.addSp(o32 ? 12 : 6);
    loadSegmentReal(cpu, Seg.CS, cs & 0xffff);
    cpu.eip = eip;
    const keep = o32 ? (VM | VIF | VIP) : 0xffff0000;
    cpu.setEflags((cpu.getEflags() & keep) | (fl & ~keep));
    return;
  }
  if (cpu.vm86) {
    // IRET in virtual-8086 mode is IOPL-sensitive; with IOPL 3 it behaves as in real mode but cannot change IOPL.
    if (cpu.iopl < 3) cpu.raise(Vector.GP, 0);
    const eip = o32 ? cpu.peek32(0) : cpu.peek16(0);
    const cs = o32 ? cpu.peek32(4) : cpu.peek16(2);
    const fl = o32 ? cpu.peek32(8) : cpu.peek16(4);
    cpu.addSp(o32 ? 12 : 6);
    loadSegmentReal(cpu, Seg.CS, cs & 0xffff);
    cpu.eip = o32 ? eip : eip & 0xffff;
    const keep = IOPL | VM | VIF | VIP | (o32 ? 0 : 0xffff0000);
    cpu.setEflags((cpu.getEflags() & keep) | (fl & ~keep));
    return;
  }
  if (cpu.flags & NT) {
    // Return from a nested task through the back link of the current TSS.
    const link = cpu.sysRead16(cpu.trBase);
    const d = new Descriptor();
    if (link & 4) cpu.raise(Vector.TS, link & 0xfffc);
    readDescriptor(cpu, link, d, Vector.TS);
    if (!d.isSystem || (d.type !== 3 && d.type !== 11)) cpu.raise(Vector.TS, link & 0xfffc);
    if (!d.present) cpu.raise(Vector.NP, link & 0xfffc);
    taskSwitch(cpu, link, d, TaskSwitch.Iret, -1);
    return;
  }
  const size = o32 ? 4 : 2;
  const eip = o32 ? cpu.peek32(0) : cpu.peek16(0);
  const sel = (o32 ? cpu.peek32(size) : cpu.peek16(size)) & 0xffff;
  const fl = o32 ? cpu.peek32(2 * size) : cpu.peek16(2 * size);
  const cpl = cpu.cpl;
  if ((fl & VM) && o32 && cpl === 0) {
    // Return to virtual-8086 mode: the frame also holds ESP, SS, ES, DS, FS, GS.
    const esp = cpu.peek32(12), ss = cpu.peek32(16), es = cpu.peek32(20), ds = cpu.peek32(24), fs = cpu.peek32(28), gs = cpu.peek32(32);
    cpu.setEflags(fl);
    cpu.flags |= VM;
    cpu.setCpl(3);
    cpu.modeChanged();
    loadSegmentReal(cpu, Seg.CS, sel);
    loadSegmentReal(cpu, Seg.SS, ss & 0xffff);
    loadSegmentReal(cpu, Seg.ES, es & 0xffff);
    loadSegmentReal(cpu, Seg.DS, ds & 0xffff);
    loadSegmentReal(cpu, Seg.FS, fs & 0xffff);
    loadSegmentReal(cpu, Seg.GS, gs & 0xffff);
    cpu.regs[Reg.ESP] = esp;
    cpu.eip = eip & 0xffff;
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.raise(Vector.GP, 0);
  const d = scratch2;
  readDescriptor(cpu, sel, d);
  const rpl = sel & 3;
  if (rpl < cpl || !d.isCode) cpu.raise(Vector.GP, sel & 0xfffc);
  if (d.hi & 0x400) { if (d.dpl > rpl) cpu.raise(Vector.GP, sel & 0xfffc); }
  else if (d.dpl !== rpl) cpu.raise(Vector.GP, sel & 0xfffc);
  if (!d.present) cpu.raise(Vector.NP, sel & 0xfffc);
  let newEsp = 0, newSs = 0, ss: Descriptor | null = null;
  if (rpl > cpl) {
    newEsp = o32 ? cpu.peek32(3 * size) : cpu.peek16(3 * size);
    newSs = (o32 ? cpu.peek32(4 * size) : cpu.peek16(4 * size)) & 0xffff;
    ss = checkStackSegment(cpu, newSs, rpl);
    if ((o32 ? eip >>> 0 : eip & 0xffff) > (d.limit >>> 0)) cpu.raise(Vector.GP, 0);
  } else {
    cpu.addSp(3 * size);
  }
  setCodeSegment(cpu, sel, d, rpl, o32 ? eip : eip & 0xffff);
  // Which flags IRET may change depends on the old CPL and IOPL.
  let changeable = 0x3f7fd5 & ~(VM | VIF | VIP);
  if (!o32) changeable &= 0xffff;
  if (cpl > 0) changeable &= ~IOPL;
  if (cpl > cpu.iopl) changeable &= ~IF;
  cpu.setEflags((cpu.getEflags() & ~changeable) | (fl & changeable));
  if (ss) {
    commitStackSegment(cpu, newSs, ss);
    if (cpu.stack32) cpu.regs[Reg.ESP] = newEsp; else cpu.setReg16(Reg.ESP, newEsp);
    invalidateOuterSegments(cpu);
  }
}

// ---- interrupts and exceptions ------------------------------------------------------------

/**
 * Deliver interrupt `vector` (with `error` >= 0 pushed as error code). `software` marks INT n /
 * INT3 / INTO (privilege-checked against the gate's DPL); `hardware` marks external interrupts.
 * EIP must already hold the return address (next instruction for traps, this one for faults).
 */
export function deliverInterrupt(cpu: Cpu, vector: number, error: number, software: boolean, hardware: boolean): void {
  cpu.halted = false;
  if (!cpu.protectedMode) {
    // Real mode: through the IVT at IDTR.base.
    if (vector * 4 + 3 > (cpu.idtLimit >>> 0)) cpu.raise(Vector.GP, 0);
    const entry = cpu.readLin32((cpu.idtBase + vector * 4) | 0);
    const fl = cpu.getEflags();
    const saveO32 = cpu.o32;
    cpu.o32 = false;
    try {
      cpu.push16(fl);
      cpu.push16(cpu.sreg[Seg.CS]);
      cpu.push16(cpu.eip);
    } finally { cpu.o32 = saveO32; }
    loadSegmentReal(cpu, Seg.CS, entry >>> 16);
    cpu.eip = entry & 0xffff;
    cpu.flags &= ~(IF | TF | AC | RF);
    return;
  }
  const ext = software ? 0 : 1;
  const idtErr = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > (cpu.idtLimit >>> 0)) cpu.raise(Vector.GP, idtErr);
  const gate = new Descriptor();
  gate.lo = cpu.sysRead32((cpu.idtBase + vector * 8) | 0);
  gate.hi = cpu.sysRead32((cpu.idtBase + vector * 8 + 4) | 0);
  const type = gate.type;
  if (!gate.isSystem || !(type === 5 || type === 6 || type === 7 || type === 14 || type === 15)) cpu.raise(Vector.GP, idtErr);
  if (software && gate.dpl < cpu.cpl) cpu.raise(Vector.GP, vector * 8 + 2);
  if (!gate.present) cpu.raise(Vector.NP, idtErr);
  if (type === 5) {
    const tss = gate.gateSelector;
    const t = new Descriptor();
    if (tss & 4) cpu.raise(Vector.TS, tss & 0xfffc);
    readDescriptor(cpu, tss, t, Vector.TS);
    if (!t.isSystem || (t.type !== 1 && t.type !== 9)) cpu.raise(Vector.TS, tss & 0xfffc);
    if (!t.present) cpu.raise(Vector.NP, tss & 0xfffc);
    taskSwitch(cpu, tss, t, TaskSwitch.Call, error);
    return;
  }
  const gate32 = type >= 14;
  const trapGate = (type & 1) === 1;
  const sel = gate.gateSelector;
  const offset = gate32 ? gate.gateOffset : gate.gateOffset & 0xffff;
  if ((sel & 0xfffc) === 0) cpu.raise(Vector.GP, ext);
  const d = new Descriptor();
  readDescriptor(cpu, sel, d);
  if (!d.isCode || d.dpl > cpu.cpl) cpu.raise(Vector.GP, (sel & 0xfffc) + ext);
  if (!d.present) cpu.raise(Vector.NP, (sel & 0xfffc) + ext);
  const fl = cpu.getEflags();
  const conforming = (d.hi & 0x400) !== 0;
  const push = gate32 ? (v: number) => cpu.push32(v) : (v: number) => cpu.push16(v);
  const oldCs = cpu.sreg[Seg.CS], oldEip = cpu.eip;
  if (!conforming && d.dpl < cpu.cpl) {
    // Inter-privilege interrupt: new stack from the TSS.
    const newCpl = d.dpl;
    const { ss: newSs, esp: newEsp } = stackFromTss(cpu, newCpl);
    const fromV86 = cpu.vm86;
    if (fromV86 && newCpl !== 0) cpu.raise(Vector.GP, (sel & 0xfffc) + ext);
    const oldSs = cpu.sreg[Seg.SS], oldEsp = cpu.regs[Reg.ESP];
    const seg = [cpu.sreg[Seg.ES], cpu.sreg[Seg.DS], cpu.sreg[Seg.FS], cpu.sreg[Seg.GS]];
    if (fromV86) { cpu.flags &= ~VM; cpu.vm86 = false; }
    const savedCpl = cpu.cpl;
    cpu.cpl = newCpl; cpu.modeChanged();
    try {
      loadStackSegmentForLevel(cpu, newSs, newCpl);
      cpu.regs[Reg.ESP] = cpu.stack32 ? newEsp : newEsp & 0xffff;
      if (fromV86) { push(seg[3]); push(seg[2]); push(seg[1]); push(seg[0]); }
      push(oldSs); push(oldEsp); push(fl); push(oldCs); push(oldEip);
      if (error >= 0) push(error);
    } catch (e) {
      // Undo the mode change so the fault is taken from the original context.
      if (fromV86) { cpu.flags |= VM; }
      cpu.cpl = savedCpl; cpu.modeChanged();
      throw e;
    }
    if (fromV86) {
      for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) cpu.setSegmentNull(s, 0);
    }
    setCodeSegment(cpu, sel, d, newCpl, offset);
  } else {
    if (cpu.vm86) cpu.raise(Vector.GP, (sel & 0xfffc) + ext);
    push(fl); push(oldCs); push(oldEip);
    if (error >= 0) push(error);
    setCodeSegment(cpu, sel, d, cpu.cpl, offset);
  }
  cpu.flags &= ~(TF | NT | RF | VM);
  if (!trapGate) cpu.flags &= ~IF;
  cpu.modeChanged();
}

// ---- task switching -------------------------------------------------------------------------

export const enum TaskSwitch { Jump, Call, Iret }

/** Switch to the task whose TSS descriptor `d` (selector `sel`) is given. */
export function taskSwitch(cpu: Cpu, sel: number, d: Descriptor, kind: TaskSwitch, error: number): void {
  const tss32 = (d.type & 8) !== 0;
  const newBase = d.base, newLimit = d.limit;
  if ((newLimit >>> 0) < (tss32 ? 0x67 : 0x2b)) cpu.raise(Vector.TS, sel & 0xfffc);
  // Save the outgoing task's state.
  const oldBase = cpu.trBase, old32 = cpu.trType === 9 || cpu.trType === 11;
  let flags = cpu.getEflags();
  if (kind === TaskSwitch.Iret) flags &= ~NT;
  const r = cpu.regs;
  if (old32) {
    cpu.sysWrite32((oldBase + 0x20) | 0, cpu.eip);
    cpu.sysWrite32((oldBase + 0x24) | 0, flags);
    for (let i = 0; i < 8; i++) cpu.sysWrite32((oldBase + 0x28 + i * 4) | 0, r[i]);
    for (let s = 0; s < 6; s++) cpu.sysWrite16((oldBase + 0x48 + s * 4) | 0, cpu.sreg[s]);
  } else {
    cpu.sysWrite16((oldBase + 0x0e) | 0, cpu.eip);
    cpu.sysWrite16((oldBase + 0x10) | 0, flags);
    for (let i = 0; i < 8; i++) cpu.sysWrite16((oldBase + 0x12 + i * 2) | 0, r[i]);
    for (let s = 0; s < 4; s++) cpu.sysWrite16((oldBase + 0x22 + s * 2) | 0, cpu.sreg[s]);
  }
  // Busy bits: the old task stops being busy on JMP/IRET; the new one becomes busy unless IRET.
  if (kind !== TaskSwitch.Call) {
    const a = (cpu.gdtBase + (cpu.trSel & ~7) + 5) | 0;
    cpu.sysWrite8(a, cpu.sysRead8(a) & ~0x2);
  }
  if (kind !== TaskSwitch.Iret) {
    const a = (cpu.gdtBase + (sel & ~7) + 5) | 0;
    cpu.sysWrite8(a, cpu.sysRead8(a) | 0x2);
  }
  // Read the incoming task's state.
  let eip: number, nflags: number, cr3 = cpu.cr3, ldt: number;
  const seg = [0, 0, 0, 0, 0, 0];
  const nr = new Int32Array(8);
  if (tss32) {
    cr3 = cpu.sysRead32((newBase + 0x1c) | 0);
    eip = cpu.sysRead32((newBase + 0x20) | 0);
    nflags = cpu.sysRead32((newBase + 0x24) | 0);
    for (let i = 0; i < 8; i++) nr[i] = cpu.sysRead32((newBase + 0x28 + i * 4) | 0);
    for (let s = 0; s < 6; s++) seg[s] = cpu.sysRead16((newBase + 0x48 + s * 4) | 0);
    ldt = cpu.sysRead16((newBase + 0x60) | 0);
  } else {
    eip = cpu.sysRead16((newBase + 0x0e) | 0);
    nflags = cpu.sysRead16((newBase + 0x10) | 0);
    for (let i = 0; i < 8; i++) nr[i] = cpu.sysRead16((newBase + 0x12 + i * 2) | 0) | (r[i] & 0xffff0000);
    for (let s = 0; s < 4; s++) seg[s] = cpu.sysRead16((newBase + 0x22 + s * 2) | 0);
    ldt = cpu.sysRead16((newBase + 0x2a) | 0);
  }
  if (kind === TaskSwitch.Call) {
    cpu.sysWrite16(newBase, cpu.trSel);
    nflags |= NT;
  }
  // From here the new task's context is loaded; faults belong to the new task.
  cpu.trSel = sel; cpu.trBase = newBase; cpu.trLimit = newLimit; cpu.trType = d.type | 2;
  if (tss32 && (cpu.cr0 & CR0_PG)) cpu.setCr3(cr3);
  cpu.regs.set(nr);
  cpu.eip = eip;
  cpu.setEflags(nflags);
  cpu.cr0 |= CR0_TS;
  // Load selectors first without checks so a fault reports the new task's state.
  const v86 = (nflags & VM) !== 0;
  cpu.modeChanged();
  // LDT
  if ((ldt & 0xfffc) === 0) { cpu.ldtSel = ldt; cpu.ldtBase = 0; cpu.ldtLimit = 0; }
  else {
    const l = new Descriptor();
    if (ldt & 4) cpu.raise(Vector.TS, ldt & 0xfffc);
    readDescriptor(cpu, ldt, l, Vector.TS);
    if (!l.isSystem || l.type !== 2) cpu.raise(Vector.TS, ldt & 0xfffc);
    if (!l.present) cpu.raise(Vector.TS, ldt & 0xfffc);
    cpu.ldtSel = ldt; cpu.ldtBase = l.base; cpu.ldtLimit = l.limit;
  }
  if (v86) {
    cpu.setCpl(3);
    for (let s = 0; s < 6; s++) loadSegmentReal(cpu, s, seg[s]);
  } else {
    const cs = seg[Seg.CS];
    const newCpl = cs & 3;
    if ((cs & 0xfffc) === 0) cpu.raise(Vector.TS, 0);
    const c = new Descriptor();
    readDescriptor(cpu, cs, c, Vector.TS);
    if (!c.isCode) cpu.raise(Vector.TS, cs & 0xfffc);
    if ((c.hi & 0x400) ? c.dpl > newCpl : c.dpl !== newCpl) cpu.raise(Vector.TS, cs & 0xfffc);
    if (!c.present) cpu.raise(Vector.NP, cs & 0xfffc);
    setAccessed(cpu, cs, c);
    cpu.setSegmentCache(Seg.CS, cs, c.base, c.limit, c.access);
    cpu.setCpl(newCpl);
    loadStackSegment(cpu, seg[Seg.SS], newCpl, Vector.TS);
    for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) {
      const v = seg[s];
      if ((v & 0xfffc) === 0) { cpu.setSegmentNull(s, v); continue; }
      const x = new Descriptor();
      readDescriptor(cpu, v, x, Vector.TS);
      if (x.isSystem || (x.isCode && !(x.hi & 0x200))) cpu.raise(Vector.TS, v & 0xfffc);
      if ((!x.isCode || !(x.hi & 0x400)) && ((v & 3) > x.dpl || newCpl > x.dpl)) cpu.raise(Vector.TS, v & 0xfffc);
      if (!x.present) cpu.raise(Vector.NP, v & 0xfffc);
      setAccessed(cpu, v, x);
      cpu.setSegmentCache(s, v, x.base, x.limit, x.access);
    }
  }
  if ((cpu.eip >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) cpu.raise(Vector.GP, 0);
  if (error >= 0) { if (tss32) cpu.push32(error); else cpu.push16(error); }
}

// ---- I/O permission -----------------------------------------------------------------------

/** #GP(0) unless the current privilege or the TSS I/O bitmap allows access to these ports. */
export function checkIoPermission(cpu: Cpu, port: number, size: number): void {
  if (!cpu.protectedMode || (!cpu.vm86 && cpu.cpl <= cpu.iopl)) return;
  if (cpu.trType !== 9 && cpu.trType !== 11) cpu.raise(Vector.GP, 0);
  const limit = cpu.trLimit >>> 0;
  if (limit < 0x67) cpu.raise(Vector.GP, 0);
  const mapBase = cpu.sysRead16((cpu.trBase + 0x66) | 0);
  const byteOff = mapBase + (port >>> 3);
  if (byteOff + 1 > limit) cpu.raise(Vector.GP, 0);
  const bits = cpu.sysRead16((cpu.trBase + byteOff) | 0);
  const mask = ((1 << size) - 1) << (port & 7);
  if (bits & mask) cpu.raise(Vector.GP, 0);
}

// ---- descriptor-table instructions ----------------------------------------------------------

export function loadLdt(cpu: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) { cpu.ldtSel = sel; cpu.ldtBase = 0; cpu.ldtLimit = 0; return; }
  if (sel & 4) cpu.raise(Vector.GP, sel & 0xfffc);
  const d = scratch;
  readDescriptor(cpu, sel, d);
  if (!d.isSystem || d.type !== 2) cpu.raise(Vector.GP, sel & 0xfffc);
  if (!d.present) cpu.raise(Vector.NP, sel & 0xfffc);
  cpu.ldtSel = sel; cpu.ldtBase = d.base; cpu.ldtLimit = d.limit;
}

export function loadTaskRegister(cpu: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0 || (sel & 4)) cpu.raise(Vector.GP, sel & 0xfffc);
  const d = scratch;
  readDescriptor(cpu, sel, d);
  if (!d.isSystem || (d.type !== 1 && d.type !== 9)) cpu.raise(Vector.GP, sel & 0xfffc);
  if (!d.present) cpu.raise(Vector.NP, sel & 0xfffc);
  const a = (cpu.gdtBase + (sel & ~7) + 5) | 0;
  cpu.sysWrite8(a, cpu.sysRead8(a) | 2);
  cpu.trSel = sel; cpu.trBase = d.base; cpu.trLimit = d.limit; cpu.trType = d.type | 2;
}

/** LAR/LSL/VERR/VERW: returns the descriptor when the selector is visible at CPL/RPL, else null. */
export function probeDescriptor(cpu: Cpu, sel: number, forLsl: boolean): Descriptor | null {
  if ((sel & 0xfffc) === 0) return null;
  const addr = descriptorAddress(cpu, sel);
  if (addr === -1) return null;
  const d = new Descriptor();
  d.lo = cpu.sysRead32(addr); d.hi = cpu.sysRead32((addr + 4) | 0);
  if (d.isSystem) {
    const t = d.type;
    const ok = forLsl ? [1, 2, 3, 9, 11].includes(t) : [1, 2, 3, 4, 5, 9, 11, 12].includes(t);
    if (!ok) return null;
  }
  const conformingCode = d.isCode && (d.hi & 0x400) !== 0;
  if (!conformingCode && (d.dpl < cpu.cpl || d.dpl < (sel & 3))) return null;
  return d;
}

// ---- CPUID and MSRs -------------------------------------------------------------------------

/** Feature bits of CPUID.1:EDX, honest about what is implemented. */
export const CPUID_FEATURES =
  (1 << 0) |  // FPU
  (1 << 3) |  // PSE
  (1 << 4) |  // TSC
  (1 << 5) |  // MSR
  (1 << 8) |  // CX8
  (1 << 11) | // SEP
  (1 << 12) | // MTRR
  (1 << 13) | // PGE
  (1 << 15) | // CMOV
  (1 << 24);  // FXSR

export function cpuid(cpu: Cpu): void {
  const r = cpu.regs;
  switch (r[Reg.EAX]) {
    case 0:
      r[Reg.EAX] = 2;
      r[Reg.EBX] = 0x756e6547; // "Genu"
      r[Reg.EDX] = 0x49656e69; // "ineI"
      r[Reg.ECX] = 0x6c65746e; // "ntel"
      break;
    case 1:
      r[Reg.EAX] = 0x0633; // family 6, model 3 (Pentium II class), stepping 3
      r[Reg.EBX] = 0; r[Reg.ECX] = 0;
      r[Reg.EDX] = CPUID_FEATURES;
      break;
    case 2:
      // One round of descriptors: 16 KiB L1 I and D, 512 KiB L2 (Pentium II values).
      r[Reg.EAX] = 0x03020101; r[Reg.EBX] = 0; r[Reg.ECX] = 0; r[Reg.EDX] = 0x0c040843;
      break;
    default:
      r[Reg.EAX] = 0x03020101; r[Reg.EBX] = 0; r[Reg.ECX] = 0; r[Reg.EDX] = 0x0c040843; // as leaf 2 (highest basic leaf)
      break;
  }
}

const MTRR_CAP = 0xfe, MTRR_DEF_TYPE = 0x2ff;
function isMtrr(msr: number): boolean {
  return (msr >= 0x200 && msr <= 0x20f) || msr === 0x250 || msr === 0x258 || msr === 0x259 ||
    (msr >= 0x268 && msr <= 0x26f) || msr === MTRR_DEF_TYPE;
}

export function rdmsr(cpu: Cpu): void {
  if (cpu.cpl !== 0) cpu.raise(Vector.GP, 0);
  const msr = cpu.regs[Reg.ECX] >>> 0;
  let v: bigint;
  switch (msr) {
    case 0x10: v = BigInt.asUintN(64, BigInt(Math.floor(cpu.readTsc() + cpu.tscOffset))); break;
    case 0x1b: v = BigInt(cpu.apicBase >>> 0); break;
    case 0x174: v = BigInt(cpu.sysenterCs); break;
    case 0x175: v = BigInt(cpu.sysenterEsp >>> 0); break;
    case 0x176: v = BigInt(cpu.sysenterEip >>> 0); break;
    case 0x17: v = 0n; break;                 // IA32_PLATFORM_ID
    case 0x2a: v = 0n; break;                 // EBL_CR_POWERON
    case 0x8b: v = 0n; break;                 // microcode signature
    case 0x179: v = 0n; break;                // MCG_CAP (no banks)
    case MTRR_CAP: v = 0x508n; break;         // 8 variable ranges, fixed ranges, write-combining
    case 0xc1: case 0xc2: v = BigInt(perfCounter(cpu, msr - 0xc1)); break;
    case 0x186: case 0x187: v = BigInt(cpu.perfEventSelect[msr - 0x186] >>> 0); break;
    default:
      if (isMtrr(msr)) { v = cpu.mtrr.get(msr) ?? 0n; break; }
      cpu.raise(Vector.GP, 0);
  }
  cpu.regs[Reg.EAX] = Number(v & 0xffffffffn) | 0;
  cpu.regs[Reg.EDX] = Number(v >> 32n) | 0;
}

export function wrmsr(cpu: Cpu): void {
  if (cpu.cpl !== 0) cpu.raise(Vector.GP, 0);
  const msr = cpu.regs[Reg.ECX] >>> 0;
  const lo = cpu.regs[Reg.EAX] >>> 0, hi = cpu.regs[Reg.EDX] >>> 0;
  switch (msr) {
    case 0x10: cpu.tscOffset = (hi * 4294967296 + lo) - cpu.readTsc(); return;
    case 0x1b: cpu.apicBase = (lo & 0xfffff900) | 0; return;
    case 0x174: cpu.sysenterCs = lo & 0xffff; return;
    case 0x175: cpu.sysenterEsp = lo | 0; return;
    case 0x176: cpu.sysenterEip = lo | 0; return;
    case 0x8b: case 0x17: case 0x2a: case 0x179: return;
    case 0xc1: case 0xc2: { // P6 counters are 40 bits wide; writes set the low 32 (sign-extended)
      const i = msr - 0xc1;
      cpu.perfCounterBase[i] = (lo | 0) - perfEventCount(cpu, i);
      return;
    }
    case 0x186: case 0x187: {
      const i = msr - 0x186;
      const before = perfCounter(cpu, i);
      cpu.perfEventSelect[i] = lo | 0;
      cpu.perfCounterBase[i] = before - perfEventCount(cpu, i);
      return;
    }
    default:
      if (isMtrr(msr)) { cpu.mtrr.set(msr, (BigInt(hi) << 32n) | BigInt(lo)); return; }
      cpu.raise(Vector.GP, 0);
  }
}

// P6 performance counters (SDM vol. 3, P6 family performance monitoring): two counters whose
// event select registers choose what they count. Instructions retired (0xC0) and unhalted
// cycles (0x79) are counted from the CPU's own tallies; every other event counts nothing.
// Counters do not interrupt on overflow (the machine has no local APIC to deliver a PMI).
function perfEventCount(cpu: Cpu, i: number): number {
  const sel = cpu.perfEventSelect[i];
  if (!(cpu.perfEventSelect[0] & (1 << 22))) return 0; // EN lives in EVNTSEL0 for both counters
  const countsUser = (sel & (1 << 16)) !== 0, countsOs = (sel & (1 << 17)) !== 0;
  if (!countsUser && !countsOs) return 0;
  switch (sel & 0xff) {
    case 0xc0: return cpu.instructionCount + cpu.sliceRetired;
    case 0x79: return Math.floor(cpu.readTsc());
    default: return 0;
  }
}
function perfCounter(cpu: Cpu, i: number): number {
  return Number(BigInt.asUintN(40, BigInt(cpu.perfCounterBase[i] + perfEventCount(cpu, i))));
}

/** RDPMC: counters 0 and 1, allowed at CPL 0 or when CR4.PCE is set. */
export function rdpmc(cpu: Cpu): void {
  if (cpu.protectedMode && cpu.cpl !== 0 && !(cpu.cr4 & 0x100)) cpu.raise(Vector.GP, 0);
  const i = cpu.regs[Reg.ECX];
  if (i !== 0 && i !== 1) cpu.raise(Vector.GP, 0);
  const v = perfCounter(cpu, i);
  cpu.regs[Reg.EAX] = v % 4294967296 | 0;
  cpu.regs[Reg.EDX] = Math.floor(v / 4294967296) & 0xff;
}

export function sysenter(cpu: Cpu): void {
  const cs = cpu.sysenterCs & 0xfffc;
  if (!cpu.protectedMode || cs === 0) cpu.raise(Vector.GP, 0);
  cpu.flags &= ~(VM | IF | RF);
  cpu.vm86 = false;
  cpu.setSegmentCache(Seg.CS, cs, 0, -1, ACC_P | ACC_S | ACC_CODE | ACC_RW | ACC_ACCESSED | ACC_DB | 0x8000);
  cpu.setSegmentCache(Seg.SS, (cs + 8) & 0xfffc, 0, -1, ACC_P | ACC_S | ACC_RW | ACC_ACCESSED | ACC_DB | 0x8000);
  cpu.setCpl(0);
  cpu.modeChanged();
  cpu.regs[Reg.ESP] = cpu.sysenterEsp;
  cpu.eip = cpu.sysenterEip;
}

export function sysexit(cpu: Cpu): void {
  const cs = cpu.sysenterCs & 0xfffc;
  if (!cpu.protectedMode || cpu.vm86 || cpu.cpl !== 0 || cs === 0) cpu.raise(Vector.GP, 0);
  cpu.setSegmentCache(Seg.CS, (cs + 16) | 3, 0, -1, ACC_P | ACC_S | ACC_CODE | ACC_RW | ACC_ACCESSED | ACC_DB | 0x8000 | 0x60);
  cpu.setSegmentCache(Seg.SS, (cs + 24) | 3, 0, -1, ACC_P | ACC_S | ACC_RW | ACC_ACCESSED | ACC_DB | 0x8000 | 0x60);
  cpu.setCpl(3);
  cpu.regs[Reg.ESP] = cpu.regs[Reg.ECX];
  cpu.eip = cpu.regs[Reg.EDX];
}

