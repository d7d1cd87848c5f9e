// The BIOS ROM image: 128 KiB at 0xE0000-0xFFFFF (and its alias below 4 GiB).
//
// Code lives in the F000 segment at the IBM PC/AT compatibility entry points (software that
// jumps to F000:E05B or calls INT 13h at F000:E3FE still works). Each entry point jumps to a
// small stub that hands the service to TypeScript with `out TRAP_PORT, al`: the port handler
// sees CS:IP just past that OUT, finds which service it belongs to, and works on the CPU's
// registers and memory before the stub's IRET. A service that must wait (a key, a timeout)
// moves IP past the IRET to `sti; hlt; cli` and is called again with `retry` set.

import { Asm } from './asm.ts';

/** The port the ROM stubs write to; accesses from anywhere but the ROM's trap sites are ignored. */
export const TRAP_PORT = 0xe5;
export const ROM_SIZE = 0x20000;
export const ROM_BASE = 0xe0000;
export const BIOS_SEGMENT = 0xf000;

export type Service =
  | 'post' | 'int08' | 'int09' | 'int10' | 'int11' | 'int12' | 'int13' | 'int14' | 'int15'
  | 'int16' | 'int17' | 'int18' | 'int19' | 'int1a' | 'int40';

export interface TrapSite { service: Service; retry: boolean }

/** IBM PC/AT fixed addresses in the F000 segment. */
export const ENTRY = {
  post: 0xe05b, nmi: 0xe2c3, int13: 0xe3fe, int19: 0xe6f2, configTable: 0xe6f5, int14: 0xe739,
  int16: 0xe82e, int09: 0xe987, int40: 0xec59, int0e: 0xef57, diskParams: 0xefc7, int17: 0xefd2,
  int10: 0xf065, videoParams: 0xf0a4, int12: 0xf841, int11: 0xf84d, int15: 0xf859, font8x8: 0xfa6e,
  int1a: 0xfe6e, int08: 0xfea5, iret: 0xff53, int05: 0xff54, reset: 0xfff0,
} as const;

/** Where the stubs and BIOS-private code go (between the fixed entry points). */
const STUB_AREA = 0xf100;
/** The BIOS date at F000:FFF5 and the model byte at F000:FFFE (0xFC: PC/AT class). */
export const BIOS_DATE = '11/24/26';
export const BIOS_VERSION = '0.1';
export const MODEL_ID = 0xfc;
export const SUBMODEL_ID = 0x01;

export interface RomLayout {
  image: Uint8Array;
  /** F000 offset just past each trap OUT → the service it belongs to. */
  traps: Map<number, TrapSite>;
  /** Interrupt vector → F000 offset of its handler (the IVT POST writes). */
  vectors: Map<number, number>;
  /** F000 offset of the INT 18h stub (no bootable device). */
  int18: number;
}

export function buildRom(): RomLayout {
  const a = new Asm(ROM_SIZE, -0x10000); // offsets are F000-segment offsets; E000 lies below 0
  const traps = new Map<number, TrapSite>();
  const vectors = new Map<number, number>();
  const trap = (service: Service, retry = false) => { a.outImm(TRAP_PORT); traps.set(a.here, { service, retry }); };

  // A service stub: trap, return; or, when the service asks to wait, halt until an interrupt
  // and call it again.
  const serviceStub = (service: Service): number => {
    const at = a.here;
    const wait = `${service}.wait`;
    trap(service); a.iret();
    a.label(wait).sti().hlt().cli();
    trap(service, true); a.iret();
    a.jmpShort(wait);
    return at;
  };
  // A fixed entry point that jumps to code placed in the stub area.
  const entry = (fixed: number, body: () => void): void => {
    const save = a.here;
    a.org(fixed);
    const name = `entry.${fixed.toString(16)}`;
    a.jmpNear(name);
    a.org(save);
    a.label(name);
    body();
  };

  a.org(STUB_AREA);

  // POST: reset vector → E05B → the TypeScript POST, then the bootstrap (INT 19h).
  entry(ENTRY.post, () => { a.cli().cld(); trap('post'); a.int(0x19); a.label('post.dead').cli().hlt().jmpShort('post.dead'); });

  for (const [vector, service, fixed] of [
    [0x10, 'int10', ENTRY.int10], [0x11, 'int11', ENTRY.int11], [0x12, 'int12', ENTRY.int12],
    [0x13, 'int13', ENTRY.int13], [0x14, 'int14', ENTRY.int14], [0x15, 'int15', ENTRY.int15],
    [0x16, 'int16', ENTRY.int16], [0x17, 'int17', ENTRY.int17], [0x1a, 'int1a', ENTRY.int1a],
    [0x40, 'int40', ENTRY.int40],
  ] as const) {
    entry(fixed, () => serviceStub(service));
    vectors.set(vector, fixed);
  }

  // INT 08h (IRQ 0): count the tick, call the user hook INT 1Ch, then end the interrupt.
  entry(ENTRY.int08, () => {
    trap('int08');
    a.int(0x1c).pushAx().movAl(0x20).outImm(0x20).popAx().iret();
  });
  vectors.set(0x08, ENTRY.int08);

  // INT 09h (IRQ 1): read the scan code, offer it to INT 15h AH=4Fh, then translate it.
  entry(ENTRY.int09, () => {
    a.pushAx().inImm(0x60).movAh(0x4f).stc().int(0x15).jnc('int09.eoi');
    trap('int09');
    a.label('int09.eoi').cli().movAl(0x20).outImm(0x20).popAx().iret();
  });
  vectors.set(0x09, ENTRY.int09);

  // INT 19h: the bootstrap loader. The service jumps to the boot sector (or the kernel's setup
  // code); when nothing can boot it returns here and INT 18h reports it.
  entry(ENTRY.int19, () => { trap('int19'); a.int(0x18); });
  vectors.set(0x19, ENTRY.int19);
  const int18 = a.here;
  trap('int18');
  a.label('int18.dead').cli().hlt().jmpShort('int18.dead');
  vectors.set(0x18, int18);

  // Hardware interrupts nobody claimed: acknowledge them at the PIC(s).
  const eoiMaster = a.here;
  a.label('eoi.master').pushAx().movAl(0x20).outImm(0x20).popAx().iret();
  const eoiBoth = a.here;
  a.pushAx().movAl(0x20).outImm(0xa0).outImm(0x20).popAx().iret();
  // IRQ 8: the RTC; reading status register C re-arms its interrupt.
  const int70 = a.here;
  a.pushAx().movAl(0x0c).outImm(0x70).inImm(0x71).movAl(0x20).outImm(0xa0).outImm(0x20).popAx().iret();
  // IRQ 13: the FPU's error line; clear the busy latch (port F0h) before the EOI.
  const int75 = a.here;
  a.pushAx().db(0x30, 0xc0).outImm(0xf0).movAl(0x20).outImm(0xa0).outImm(0x20).popAx().iret(); // xor al,al
  for (const v of [0x0a, 0x0b, 0x0c, 0x0d, 0x0f]) vectors.set(v, eoiMaster);
  entry(ENTRY.int0e, () => { a.jmpNear('eoi.master'); });
  vectors.set(0x0e, ENTRY.int0e);
  for (const v of [0x71, 0x72, 0x73, 0x74, 0x76, 0x77]) vectors.set(v, eoiBoth);
  vectors.set(0x70, int70);
  vectors.set(0x75, int75);

  // Fixed-address entries that only return.
  a.org(ENTRY.nmi).iret();
  a.org(ENTRY.iret).iret();
  a.org(ENTRY.int05).iret();
  vectors.set(0x02, ENTRY.nmi);
  vectors.set(0x05, ENTRY.int05);

  // INT 15h AH=C0h: the system configuration table.
  a.org(ENTRY.configTable).dw(8).db(MODEL_ID, SUBMODEL_ID, 0x00,
    0x74,   // feature 1: 2nd PIC, RTC, INT 09h calls INT 15h/4Fh, EBDA allocated
    0x40,   // feature 2: INT 16h/09h (keyboard capabilities) supported
    0x00, 0x00, 0x00);

  // The diskette parameter table (INT 1Eh): 1.44 MB timings as the AT BIOS lists them.
  a.org(ENTRY.diskParams).db(0xaf, 0x02, 0x25, 0x02, 0x12, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08);

  // Reset vector, date and model byte.
  a.org(ENTRY.reset).jmpFar(BIOS_SEGMENT, ENTRY.post);
  a.org(0xfff5).ascii(BIOS_DATE);
  a.org(0xfffe).db(MODEL_ID);

  const image = a.finish();
  // Last byte: make the 64 KiB F000 segment sum to zero, as AT BIOSes do.
  let sum = 0;
  for (let i = 0x10000; i < 0x1ffff; i++) sum += image[i];
  image[0x1ffff] = (-sum) & 0xff;
  return { image, traps, vectors, int18 };
}
