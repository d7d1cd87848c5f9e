// A tiny 16-bit x86 emitter for the BIOS ROM stubs: bytes at fixed ROM offsets, labels and
// short/near jumps with fixups. Only the few instructions the stubs use are spelled out.

export class Asm {
  /** The image being built; offsets are relative to its start. */
  readonly image: Uint8Array;
  pos = 0;
  private readonly labels = new Map<string, number>();
  private readonly fixups: { at: number; label: string; kind: 'rel8' | 'rel16' }[] = [];

  /** `base` is the offset of image[0] within the code segment (0 for a 64 KiB F000 image). */
  constructor(size: number, readonly base = 0) { this.image = new Uint8Array(size); }

  /** Continue emitting at `offset` (an absolute offset in the segment). */
  org(offset: number): this { this.pos = offset - this.base; return this; }
  /** The current offset within the code segment. */
  get here(): number { return this.pos + this.base; }

  db(...bytes: number[]): this {
    for (const b of bytes) {
      if (this.pos >= this.image.length) throw new RangeError(`ROM overflow at ${this.here.toString(16)}`);
      this.image[this.pos++] = b & 0xff;
    }
    return this;
  }
  dw(...words: number[]): this { for (const w of words) this.db(w, w >> 8); return this; }
  dd(...dwords: number[]): this { for (const d of dwords) this.dw(d, d >>> 16); return this; }
  ascii(s: string): this { for (let i = 0; i < s.length; i++) this.db(s.charCodeAt(i)); return this; }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} defined twice`);
    this.labels.set(name, this.here);
    return this;
  }
  addr(name: string): number {
    const a = this.labels.get(name);
    if (a === undefined) throw new Error(`undefined label ${name}`);
    return a;
  }

  private rel8(opcode: number, target: string): this {
    this.db(opcode);
    this.fixups.push({ at: this.pos, label: target, kind: 'rel8' });
    return this.db(0);
  }
  jmpShort(target: string): this { return this.rel8(0xeb, target); }
  jc(target: string): this { return this.rel8(0x72, target); }
  jnc(target: string): this { return this.rel8(0x73, target); }
  jz(target: string): this { return this.rel8(0x74, target); }
  jnz(target: string): this { return this.rel8(0x75, target); }
  jmpNear(target: string): this {
    this.db(0xe9);
    this.fixups.push({ at: this.pos, label: target, kind: 'rel16' });
    return this.dw(0);
  }
  jmpFar(segment: number, offset: number): this { return this.db(0xea).dw(offset, segment); }

  outImm(port: number): this { return this.db(0xe6, port); }         // out imm8, al
  inImm(port: number): this { return this.db(0xe4, port); }          // in al, imm8
  movAl(v: number): this { return this.db(0xb0, v); }
  movAh(v: number): this { return this.db(0xb4, v); }
  int(n: number): this { return this.db(0xcd, n); }
  iret(): this { return this.db(0xcf); }
  pushAx(): this { return this.db(0x50); }
  popAx(): this { return this.db(0x58); }
  cli(): this { return this.db(0xfa); }
  sti(): this { return this.db(0xfb); }
  stc(): this { return this.db(0xf9); }
  cld(): this { return this.db(0xfc); }
  hlt(): this { return this.db(0xf4); }

  /** Resolve label references; returns the image. */
  finish(): Uint8Array {
    for (const f of this.fixups) {
      const target = this.addr(f.label);
      if (f.kind === 'rel8') {
        const d = target - (f.at + 1 + this.base);
        if (d < -128 || d > 127) throw new RangeError(`short jump to ${f.label} out of range`);
        this.image[f.at] = d & 0xff;
      } else {
        const d = (target - (f.at + 2 + this.base)) & 0xffff;
        this.image[f.at] = d; this.image[f.at + 1] = d >> 8;
      }
    }
    return this.image;
  }
}
