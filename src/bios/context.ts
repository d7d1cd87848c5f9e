// What a BIOS service sees while it runs inside its ROM stub's trap: the caller's registers,
// the FLAGS image the stub's IRET will restore, and memory through the CPU (so that a call
// from virtual-8086 mode still goes through paging).

import type { Cpu } from '../cpu/cpu.ts';
import { Reg, Seg } from '../cpu/cpu.ts';

export const CF = 0x0001, ZF = 0x0040, IF = 0x0200;

/** BIOS data area offsets (segment 0x40, linear 0x400 + offset). */
export const BDA = {
  com: 0x00, lpt: 0x08, ebdaSeg: 0x0e, equipment: 0x10, memKiB: 0x13,
  kbdFlags: 0x17, kbdFlags2: 0x18, kbdHead: 0x1a, kbdTail: 0x1c, kbdBuf: 0x1e,
  floppyRecal: 0x3e, floppyMotor: 0x3f, floppyMotorCount: 0x40, floppyStatus: 0x41,
  videoMode: 0x49, videoCols: 0x4a, videoPageSize: 0x4c, videoPageStart: 0x4e, cursorPos: 0x50,
  cursorShape: 0x60, videoPage: 0x62, crtcBase: 0x63, videoModeCtl: 0x65, videoPalette: 0x66,
  resetVector: 0x67, ticks: 0x6c, midnight: 0x70, ctrlBreak: 0x71, warmBoot: 0x72,
  diskStatus: 0x74, diskCount: 0x75, lptTimeout: 0x78, comTimeout: 0x7c,
  kbdBufStart: 0x80, kbdBufEnd: 0x82, videoRows: 0x84, charHeight: 0x85, egaInfo: 0x87,
  egaSwitches: 0x88, vgaFlags: 0x89, vgaDcc: 0x8a, floppyMedia: 0x90, kbdFlags3: 0x96, kbdLeds: 0x97,
} as const;

export class Ctx {
  constructor(readonly cpu: Cpu) {}

  get ax(): number { return this.cpu.regs16[0]; } set ax(v: number) { this.cpu.regs16[0] = v; }
  get cx(): number { return this.cpu.regs16[2]; } set cx(v: number) { this.cpu.regs16[2] = v; }
  get dx(): number { return this.cpu.regs16[4]; } set dx(v: number) { this.cpu.regs16[4] = v; }
  get bx(): number { return this.cpu.regs16[6]; } set bx(v: number) { this.cpu.regs16[6] = v; }
  get bp(): number { return this.cpu.regs16[10]; }
  get si(): number { return this.cpu.regs16[12]; } set si(v: number) { this.cpu.regs16[12] = v; }
  get di(): number { return this.cpu.regs16[14]; } set di(v: number) { this.cpu.regs16[14] = v; }
  get al(): number { return this.cpu.regs8[0]; } set al(v: number) { this.cpu.regs8[0] = v; }
  get ah(): number { return this.cpu.regs8[1]; } set ah(v: number) { this.cpu.regs8[1] = v; }
  get cl(): number { return this.cpu.regs8[4]; } set cl(v: number) { this.cpu.regs8[4] = v; }
  get ch(): number { return this.cpu.regs8[5]; } set ch(v: number) { this.cpu.regs8[5] = v; }
  get dl(): number { return this.cpu.regs8[8]; } set dl(v: number) { this.cpu.regs8[8] = v; }
  get dh(): number { return this.cpu.regs8[9]; } set dh(v: number) { this.cpu.regs8[9] = v; }
  get bl(): number { return this.cpu.regs8[12]; } set bl(v: number) { this.cpu.regs8[12] = v; }
  get bh(): number { return this.cpu.regs8[13]; } set bh(v: number) { this.cpu.regs8[13] = v; }
  get eax(): number { return this.cpu.regs[Reg.EAX] >>> 0; } set eax(v: number) { this.cpu.regs[Reg.EAX] = v; }
  get ebx(): number { return this.cpu.regs[Reg.EBX] >>> 0; } set ebx(v: number) { this.cpu.regs[Reg.EBX] = v; }
  get ecx(): number { return this.cpu.regs[Reg.ECX] >>> 0; } set ecx(v: number) { this.cpu.regs[Reg.ECX] = v; }
  get edx(): number { return this.cpu.regs[Reg.EDX] >>> 0; } set edx(v: number) { this.cpu.regs[Reg.EDX] = v; }
  get es(): number { return this.cpu.sreg[Seg.ES]; }
  get ds(): number { return this.cpu.sreg[Seg.DS]; }

  /** Linear address of the caller's seg:off (the segment's cached base, as the CPU uses it). */
  lin(seg: Seg, off: number): number { return (this.cpu.segBase[seg] + (off & 0xffff)) | 0; }

  read8(lin: number): number { return this.cpu.readLin8(lin | 0); }
  read16(lin: number): number { return this.cpu.readLin16(lin | 0); }
  read32(lin: number): number { return this.cpu.readLin32(lin | 0) >>> 0; }
  write8(lin: number, v: number): void { this.cpu.writeLin8(lin | 0, v); }
  write16(lin: number, v: number): void { this.cpu.writeLin16(lin | 0, v); }
  write32(lin: number, v: number): void { this.cpu.writeLin32(lin | 0, v); }
  readBytes(lin: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.cpu.readLin8((lin + i) | 0);
    return out;
  }
  writeBytes(lin: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.cpu.writeLin8((lin + i) | 0, data[i]);
  }

  // The BIOS data area (always real-mode linear 0x400 on; the BIOS owns it).
  bda8(off: number): number { return this.cpu.mem.read8(0x400 + off); }
  bda16(off: number): number { return this.cpu.mem.read16(0x400 + off); }
  bda32(off: number): number { return this.cpu.mem.read32(0x400 + off) >>> 0; }
  setBda8(off: number, v: number): void { this.cpu.mem.write8(0x400 + off, v); }
  setBda16(off: number, v: number): void { this.cpu.mem.write16(0x400 + off, v); }
  setBda32(off: number, v: number): void { this.cpu.mem.write32(0x400 + off, v); }

  /** Linear address of the FLAGS word the stub's IRET pops (IP, CS, FLAGS on the stack). */
  private get flagsLin(): number { return this.lin(Seg.SS, this.cpu.regs16[8] + 4); }
  setFlagOut(bit: number, on: boolean): void {
    const f = this.read16(this.flagsLin);
    this.write16(this.flagsLin, on ? f | bit : f & ~bit);
  }
  /** Return status the usual way: AH = status, CF = (status != 0). */
  status(ah: number): void { this.ah = ah; this.setFlagOut(CF, ah !== 0); }
  carry(on: boolean): void { this.setFlagOut(CF, on); }
  zero(on: boolean): void { this.setFlagOut(ZF, on); }

  /** Make the stub halt with interrupts on and call the service again. */
  wait(): void { this.cpu.eip = (this.cpu.eip + 1) | 0; this.cpu.invalidateFetch(); }

  /** Continue at seg:off in real mode (the bootstrap's far jump). */
  jump(seg: number, off: number): void {
    this.cpu.setSegmentReal(Seg.CS, seg);
    this.cpu.eip = off;
    this.cpu.invalidateFetch();
  }
}
