// EFLAGS bits and helpers shared by the interpreter and (later) the JIT.

export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const TF = 0x100;
export const IF = 0x200;
export const DF = 0x400;
export const OF = 0x800;
export const IOPL = 0x3000;
export const NT = 0x4000;
export const RF = 0x10000;
export const VM = 0x20000;
export const AC = 0x40000;
export const VIF = 0x80000;
export const VIP = 0x100000;
export const ID = 0x200000;

/** The six status flags an arithmetic instruction may leave to be computed lazily. */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Bits that exist on a Pentium Pro class CPU (bit 1 reads as one). */
export const EFLAGS_IMPLEMENTED = CF | PF | AF | ZF | SF | TF | IF | DF | OF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;
export const EFLAGS_ALWAYS_ONE = 0x2;

/** PF is set when the low byte of a result has an even number of one bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let bits = 0;
  for (let b = i; b; b >>= 1) bits += b & 1;
  PARITY[i] = bits & 1 ? 0 : PF;
}

// Control register bits the CPU acts on.
export const CR0_PE = 0x1;
export const CR0_MP = 0x2;
export const CR0_EM = 0x4;
export const CR0_TS = 0x8;
export const CR0_ET = 0x10;
export const CR0_NE = 0x20;
export const CR0_WP = 0x10000;
export const CR0_AM = 0x40000;
export const CR0_NW = 0x20000000;
export const CR0_CD = 0x40000000;
export const CR0_PG = 0x80000000 | 0;

export const CR4_VME = 0x1;
export const CR4_PVI = 0x2;
export const CR4_TSD = 0x4;
export const CR4_DE = 0x8;
export const CR4_PSE = 0x10;
export const CR4_PAE = 0x20;
export const CR4_MCE = 0x40;
export const CR4_PGE = 0x80;
export const CR4_PCE = 0x100;
export const CR4_OSFXSR = 0x200;
export const CR4_OSXMMEXCPT = 0x400;
