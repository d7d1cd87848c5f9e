// What a debugger sees of the emulated CPU: the i386 register file as GDB's target description
// lays it out (the core feature GDB requires, then soulvm's system registers: control, debug,
// descriptor-table and segment-base registers), and memory by linear address through the
// guest's page tables or by physical address. Reading never changes guest state: the page walk
// here sets no accessed/dirty bits, fills no TLB and raises no fault.

import type { Cpu } from '../cpu/cpu.ts';
import { Fpu } from '../cpu/fpu/fpu.ts';
import type { MemoryBus } from '../bus/memory.ts';

interface RegDef {
  name: string;
  bits: 32 | 80;
  type: string;
  group?: string;
  feature: 'core' | 'sys';
  get(cpu: Cpu): number | Uint8Array;
  /** Absent: read-only (a write answers an error). */
  set?(cpu: Cpu, v: number): void;
}

const GPR = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
// GDB's order of the segment registers; soulvm's Seg numbering is ES CS SS DS FS GS.
const SEGS: [string, number][] = [['cs', 1], ['ss', 2], ['ds', 3], ['es', 0], ['fs', 4], ['gs', 5]];

function fpu(cpu: Cpu): Fpu | null { return cpu.fpu instanceof Fpu ? cpu.fpu : null; }

function setSegment(cpu: Cpu, seg: number, v: number): void {
  if ((v & 0xffff) === cpu.sreg[seg]) return;
  // Real and virtual-8086 mode: the base follows the selector. Protected mode would need a
  // descriptor load with its checks and faults, which a debugger must not cause.
  if (cpu.protectedMode && !cpu.vm86) throw new Error('segment registers can be changed in real mode only');
  cpu.setSegmentReal(seg, v & 0xffff);
}

export const REGISTERS: RegDef[] = [
  ...GPR.map((name, i): RegDef => ({
    name, bits: 32, feature: 'core', type: name === 'esp' || name === 'ebp' ? 'data_ptr' : 'int32',
    get: (c) => c.regs[i], set: (c, v) => { c.regs[i] = v; },
  })),
  { name: 'eip', bits: 32, feature: 'core', type: 'code_ptr', get: (c) => c.eip, set: (c, v) => { c.eip = v; c.invalidateFetch(); } },
  { name: 'eflags', bits: 32, feature: 'core', type: 'i386_eflags', get: (c) => c.getEflags(), set: (c, v) => { c.setEflags((v & ~0x2) | 0x2); c.attention = true; } },
  ...SEGS.map(([name, s]): RegDef => ({ name, bits: 32, feature: 'core', type: 'int32', get: (c) => c.sreg[s], set: (c, v) => setSegment(c, s, v) })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i): RegDef => ({
    name: `st${i}`, bits: 80, feature: 'core', type: 'i387_ext', get: (c) => fpu(c)?.stBytes(i) ?? new Uint8Array(10),
  })),
  { name: 'fctrl', bits: 32, feature: 'core', type: 'int', group: 'float', get: (c) => fpu(c)?.controlWord ?? 0x37f },
  { name: 'fstat', bits: 32, feature: 'core', type: 'int', group: 'float', get: (c) => fpu(c)?.statusWord ?? 0 },
  { name: 'ftag', bits: 32, feature: 'core', type: 'int', group: 'float', get: (c) => fpu(c)?.tagWord ?? 0xffff },
  { name: 'fiseg', bits: 32, feature: 'core', type: 'int', group: 'float', get: (c) => fpu(c)?.fcs ?? 0 },
  { name: 'fioff', bits: 32, feature: 'core', type: 'int', group: 'float', get: (c) => fpu(c)?.fip ?? 0 },
  { name: 'foseg', bits: 32, feature: 'core', type: 'int', group: 'float', get: (c) => fpu(c)?.fds ?? 0 },
  { name: 'fooff', bits: 32, feature: 'core', type: 'int', group: 'float', get: (c) => fpu(c)?.fdp ?? 0 },
  { name: 'fop', bits: 32, feature: 'core', type: 'int', group: 'float', get: (c) => fpu(c)?.fop ?? 0 },
  { name: 'cr0', bits: 32, feature: 'sys', type: 'soulvm_cr0', get: (c) => c.cr0, set: (c, v) => c.setCr0(v) },
  { name: 'cr2', bits: 32, feature: 'sys', type: 'data_ptr', get: (c) => c.cr2, set: (c, v) => { c.cr2 = v; } },
  { name: 'cr3', bits: 32, feature: 'sys', type: 'int32', get: (c) => c.cr3, set: (c, v) => c.setCr3(v) },
  { name: 'cr4', bits: 32, feature: 'sys', type: 'int32', get: (c) => c.cr4, set: (c, v) => c.setCr4(v) },
  ...[0, 1, 2, 3, 6, 7].map((i): RegDef => ({
    name: `dr${i}`, bits: 32, feature: 'sys', type: 'int32', get: (c) => c.dr[i], set: (c, v) => { c.dr[i] = v; c.updateAccessChecks(); },
  })),
  { name: 'gdtr_base', bits: 32, feature: 'sys', type: 'data_ptr', get: (c) => c.gdtBase },
  { name: 'gdtr_limit', bits: 32, feature: 'sys', type: 'int32', get: (c) => c.gdtLimit },
  { name: 'idtr_base', bits: 32, feature: 'sys', type: 'data_ptr', get: (c) => c.idtBase },
  { name: 'idtr_limit', bits: 32, feature: 'sys', type: 'int32', get: (c) => c.idtLimit },
  { name: 'ldtr', bits: 32, feature: 'sys', type: 'int32', get: (c) => c.ldtSel },
  { name: 'tr', bits: 32, feature: 'sys', type: 'int32', get: (c) => c.trSel },
  ...SEGS.map(([name, s]): RegDef => ({ name: `${name}_base`, bits: 32, feature: 'sys', type: 'data_ptr', get: (c) => c.segBase[s] })),
  ...SEGS.map(([name, s]): RegDef => ({ name: `${name}_limit`, bits: 32, feature: 'sys', type: 'int32', get: (c) => c.segLimit[s] })),
  { name: 'cpl', bits: 32, feature: 'sys', type: 'int32', get: (c) => c.cpl },
];

/** The target description GDB asks for with qXfer:features:read:target.xml. */
export function targetXml(): string {
  const reg = (r: RegDef, n: number) =>
    `    <reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${n}"${r.group ? ` group="${r.group}"` : ''}/>\n`;
  const regs = (f: RegDef['feature']) => REGISTERS.map((r, n) => (r.feature === f ? reg(r, n) : '')).join('');
  const flags = (id: string, bits: [number, string][]) =>
    `    <flags id="${id}" size="4">\n${bits.map(([b, n]) => `      <field name="${n}" start="${b}" end="${b}"/>\n`).join('')}    </flags>\n`;
  return `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>i386</architecture>
  <feature name="org.gnu.gdb.i386.core">
${flags('i386_eflags', [[0, 'CF'], [1, ''], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF'], [14, 'NT'], [16, 'RF'], [17, 'VM'], [18, 'AC'], [19, 'VIF'], [20, 'VIP'], [21, 'ID']])}${regs('core')}  </feature>
  <feature name="org.soulvm.i386.sys">
${flags('soulvm_cr0', [[0, 'PE'], [1, 'MP'], [2, 'EM'], [3, 'TS'], [4, 'ET'], [5, 'NE'], [16, 'WP'], [18, 'AM'], [29, 'NW'], [30, 'CD'], [31, 'PG']])}${regs('sys')}  </feature>
</target>
`;
}

function hex32(v: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b.toString('hex');
}

/** One register as GDB's hex (target byte order). */
export function readRegister(cpu: Cpu, n: number): string | null {
  const r = REGISTERS[n];
  if (!r) return null;
  const v = r.get(cpu);
  return typeof v === 'number' ? hex32(v) : Buffer.from(v).toString('hex');
}

/** Set a register from GDB's hex; returns an error message, or null when done. */
export function writeRegister(cpu: Cpu, n: number, hex: string): string | null {
  const r = REGISTERS[n];
  if (!r) return `no register ${n}`;
  if (hex.length !== r.bits / 4 || !/^[0-9a-fA-F]*$/.test(hex)) return `register ${r.name} takes ${r.bits / 8} bytes`;
  if (!r.set) return `register ${r.name} is read-only`;
  try {
    r.set(cpu, Buffer.from(hex, 'hex').readInt32LE(0));
  } catch (e) { return `${r.name}: ${(e as Error).message}`; }
  return null;
}

/**
 * Linear → physical through the guest's page tables as the CPU would walk them (4 KiB and
 * PSE 4 MiB pages), without touching accessed/dirty bits or the TLB. Null if not present.
 */
export function linearToPhysical(cpu: Cpu, mem: MemoryBus, lin: number): number | null {
  lin >>>= 0;
  if (!cpu.pagingEnabled) return (lin & mem.a20Mask) >>> 0;
  const pde = physRead32(mem, ((cpu.cr3 & ~0xfff) | ((lin >>> 22) << 2)) >>> 0);
  if (pde === null || !(pde & 1)) return null;
  if (pde & 0x80 && cpu.cr4 & 0x10) return (((pde & 0xffc00000) | (lin & 0x3fffff)) & mem.a20Mask) >>> 0;
  const pte = physRead32(mem, ((pde & ~0xfff) | (((lin >>> 12) & 0x3ff) << 2)) >>> 0);
  if (pte === null || !(pte & 1)) return null;
  return (((pte & ~0xfff) | (lin & 0xfff)) & mem.a20Mask) >>> 0;
}

function physRead32(mem: MemoryBus, pa: number): number | null {
  const off = mem.readOffset[pa >>> 12];
  if (off < 0 || (pa & 0xfff) > 0xffc) return null;
  const i = off + (pa & 0xfff), b = mem.bytes;
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

/**
 * Read `len` bytes of guest memory: by linear address (through the page tables) or physical.
 * RAM and ROM only (reading a device's registers could change it). Returns the bytes read
 * before the first unreadable one.
 */
export function readMemory(cpu: Cpu, mem: MemoryBus, addr: number, len: number, physical: boolean): Uint8Array {
  const out = new Uint8Array(len);
  let n = 0;
  while (n < len) {
    const a = (addr + n) >>> 0;
    const pa = physical ? a : linearToPhysical(cpu, mem, a);
    if (pa === null) break;
    const off = mem.readOffset[pa >>> 12];
    if (off < 0) break;
    const chunk = Math.min(len - n, 0x1000 - (pa & 0xfff), 0x1000 - (a & 0xfff));
    out.set(mem.bytes.subarray(off + (pa & 0xfff), off + (pa & 0xfff) + chunk), n);
    n += chunk;
  }
  return out.subarray(0, n);
}

/** Write guest memory (RAM only; ROM and devices refuse). Returns how many bytes were written. */
export function writeMemory(cpu: Cpu, mem: MemoryBus, addr: number, data: Uint8Array, physical: boolean): number {
  let n = 0;
  while (n < data.length) {
    const a = (addr + n) >>> 0;
    const pa = physical ? a : linearToPhysical(cpu, mem, a);
    if (pa === null || mem.writeOffset[pa >>> 12] < 0) break;
    mem.write8(pa, data[n]);
    n++;
  }
  if (n) cpu.invalidateFetch(); // code may have changed under the fetch window
  return n;
}
