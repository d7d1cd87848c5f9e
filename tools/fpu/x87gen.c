/* x87 golden-vector generator: runs x87 instructions on the host's real FPU.
 *
 * For every case: FNINIT, FLDCW cw, FLD m80 b, FLD m80 a (so ST0=a, ST1=b), EFLAGS := flags,
 * then the instruction under test (emitted as raw bytes, memory operand = membuf), then
 * FNSTSW/PUSHF/FNSAVE (non-waiting, so unmasked exceptions stay pending and visible).
 * One line per case (all hex):
 *   OPC MODRM CW FLAGS A B MEM SETUP : SW TW ST0 ST1 ST2 MEMOUT EFLAGS
 * SETUP n: ST0=a ST1=b; f: six 2.0 pushed first (full stack); u: only a; e: empty stack.
 * MEM/MEMOUT are the memory operand bytes before/after (or '-'); EFLAGS keeps ZF PF CF OF SF AF.
 * Build and run: tools/fpu/gen.sh (x86_64 Linux, gcc). The output is committed, so CI needs no gcc.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

unsigned char membuf[16] __attribute__((aligned(16)));
unsigned char av[10], bv[10], cv[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x40 }; /* cv = 2.0 */
char setup = 'n';   /* n: ST0=a ST1=b; f: full stack (six 2.0 below b); u: only a; e: empty */
unsigned short cwv;
uint64_t flagsin, flagsout;
unsigned char savev[108];

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static unsigned rndn(unsigned n) { return (unsigned)(rnd() % n); }

typedef struct { uint16_t se; uint64_t m; } f80;
static void put80(unsigned char *p, f80 v) { memcpy(p, &v.m, 8); p[8] = v.se; p[9] = v.se >> 8; }

#define MEMOP(o, r) ((o) << 8 | (r) << 3 | 5)
/* Every instruction the generator can run: register forms X(opc, modrm), memory forms XM(opc, reg). */
#define REG_OPS \
  X(0xd8,0xc1) X(0xd8,0xc9) X(0xd8,0xe1) X(0xd8,0xe9) X(0xd8,0xf1) X(0xd8,0xf9) \
  X(0xd8,0xd1) X(0xd8,0xd9) X(0xdd,0xe1) X(0xdd,0xe9) X(0xde,0xd9) X(0xda,0xe9) \
  X(0xdb,0xf1) X(0xdb,0xe9) X(0xdf,0xf1) X(0xdf,0xe9) \
  X(0xdc,0xc1) X(0xdc,0xe1) X(0xdc,0xe9) X(0xde,0xf1) X(0xde,0xf9) X(0xde,0xc1) \
  X(0xd9,0xfa) X(0xd9,0xfc) X(0xd9,0xf4) X(0xd9,0xe1) X(0xd9,0xe0) X(0xd9,0xe4) X(0xd9,0xe5) \
  X(0xd9,0xfd) X(0xd9,0xf8) X(0xd9,0xf5) X(0xd9,0xf0) X(0xd9,0xfe) X(0xd9,0xff) X(0xd9,0xfb) \
  X(0xd9,0xf2) X(0xd9,0xf3) X(0xd9,0xf1) X(0xd9,0xf9) \
  X(0xd9,0xe8) X(0xd9,0xe9) X(0xd9,0xea) X(0xd9,0xeb) X(0xd9,0xec) X(0xd9,0xed) X(0xd9,0xee) \
  X(0xda,0xc1) X(0xda,0xc9) X(0xda,0xd1) X(0xda,0xd9) X(0xdb,0xc1) X(0xdb,0xc9) X(0xdb,0xd1) X(0xdb,0xd9) \
  X(0xd9,0xc9) X(0xdd,0xc1) X(0xdd,0xd1) X(0xdd,0xd9) X(0xd9,0xc1) X(0xd9,0xf6) X(0xd9,0xf7)
#define MEM_OPS \
  XM(0xd9,2) XM(0xd9,3) XM(0xdd,2) XM(0xdd,3) XM(0xdf,2) XM(0xdf,3) XM(0xdb,2) XM(0xdf,7) XM(0xdf,6) XM(0xdb,7) \
  XM(0xd9,0) XM(0xdd,0) XM(0xdf,0) XM(0xdb,0) XM(0xdf,5) XM(0xdf,4) XM(0xdb,5) \
  XM(0xd8,0) XM(0xdc,1) XM(0xd8,7) XM(0xdc,4) XM(0xda,0) XM(0xde,4) XM(0xda,2) XM(0xdc,2) XM(0xde,6) XM(0xda,5)

#define S_(x) #x
#define S(x) S_(x)
#define PRE "pushq flagsin(%%rip)\n popfq\n"
#define POST "\n pushfq\n popq flagsout(%%rip)\n fnstsw %%ax\n fnsave savev(%%rip)"

static void run(int opc, int modrm) {
  asm volatile("fninit\n fldcw cwv(%%rip)" ::: "memory");
  if (setup == 'f') for (int i = 0; i < 6; i++) asm volatile("fldt cv(%%rip)" ::: "memory");
  if (setup == 'n' || setup == 'f') asm volatile("fldt bv(%%rip)" ::: "memory");
  if (setup != 'e') asm volatile("fldt av(%%rip)" ::: "memory");
  switch (opc << 8 | modrm) {
#define X(o, m) case (o << 8 | m): asm volatile(PRE ".byte " S(o) "," S(m) POST ::: "rax", "memory", "cc"); break;
#define XM(o, r) case MEMOP(o, r): asm volatile(PRE ".byte " S(o) ", 5 + 8 * " S(r) "\n .long membuf - . - 4" POST ::: "rax", "memory", "cc"); break;
    REG_OPS MEM_OPS
    default: fprintf(stderr, "no such op %02x %02x\n", opc, modrm); __builtin_trap();
  }
}

static void hex(const unsigned char *p, int n) { for (int i = n - 1; i >= 0; i--) printf("%02x", p[i]); }
static void emit(int opc, int modrm, f80 a, f80 b, int memlen) {
  unsigned char memin[16];
  put80(av, a); put80(bv, b);
  memcpy(memin, membuf, 16);
  run(opc, modrm);
  printf("%02x %02x %04x %02x ", opc, modrm, cwv, (unsigned)flagsin);
  hex(av, 10); putchar(' '); hex(bv, 10); putchar(' ');
  if (memlen) hex(memin, memlen); else putchar('-');
  printf(" %c : %02x%02x %02x%02x ", setup, savev[5], savev[4], savev[9], savev[8]);
  for (int i = 0; i < 3; i++) { hex(savev + 28 + 10 * i, 10); putchar(' '); }
  if (memlen) hex(membuf, memlen); else putchar('-');
  printf(" %02x\n", (unsigned)(flagsout & 0x8d5));
}

/* ---- operand values ---- */
static f80 mk(uint16_t se, uint64_t m) { f80 v = { se, m }; return v; }
static const f80 specials[] = {
  {0x0000, 0}, {0x8000, 0},                                             /* zeros */
  {0x3fff, 0x8000000000000000ull}, {0xbfff, 0x8000000000000000ull},     /* ±1 */
  {0x3fff, 0xc000000000000000ull}, {0x4000, 0xc90fdaa22168c235ull},     /* 1.5, pi */
  {0x3ffd, 0xaaaaaaaaaaaaaaabull}, {0xc01a, 0xf1234567890abcdeull},
  {0x7ffe, 0xffffffffffffffffull}, {0xfffe, 0xffffffffffffffffull},     /* max normal */
  {0x0001, 0x8000000000000000ull}, {0x8001, 0x8000000000000000ull},     /* min normal */
  {0x0000, 0x0000000000000001ull}, {0x8000, 0x7fffffffffffffffull},     /* denormals */
  {0x0000, 0x4000000000000000ull}, {0x0000, 0x8000000000000000ull},     /* denormal, pseudo-denormal */
  {0x8000, 0x8000000000000123ull},                                       /* pseudo-denormal */
  {0x7fff, 0x8000000000000000ull}, {0xffff, 0x8000000000000000ull},     /* ±inf */
  {0x7fff, 0xc000000000000000ull}, {0xffff, 0xc000000000001234ull},     /* QNaN */
  {0x7fff, 0x8000000000000001ull}, {0xffff, 0xa000000000000000ull},     /* SNaN */
  {0xffff, 0xc000000000000000ull},                                       /* real indefinite */
  {0x3fff, 0x4000000000000000ull}, {0x0001, 0x0000000000000001ull},     /* unnormals */
  {0x7fff, 0x0000000000000000ull}, {0x7fff, 0x4000000000000000ull},     /* pseudo-inf, pseudo-NaN */
  {0x403e, 0x8000000000000000ull}, {0x400e, 0xfffe000000000000ull},     /* 2^63, 65534 */
  {0x4000, 0xa000000000000000ull}, {0xc3ff, 0x8000000000000001ull},     /* 2.5, big */
  {0x3c00, 0xfffffffffffff800ull}, {0x3f80, 0xffffff0000000000ull},
};
#define NSPEC (int)(sizeof specials / sizeof specials[0])

static f80 rnorm(int elo, int ehi) {
  uint64_t m = rnd() | 0x8000000000000000ull;
  switch (rndn(6)) {   /* patterns that reach halfway and carry cases */
    case 0: m &= ~0ull << rndn(64); m |= 0x8000000000000000ull; break;
    case 1: m |= (1ull << rndn(64)) - 1; break;
  }
  return mk((rndn(2) << 15) | (elo + rndn(ehi - elo + 1)), m);
}
static f80 rany(void) {
  int k = rndn(10);
  if (k < 2) return specials[rndn(NSPEC)];
  if (k < 3) return rnorm(1, 0x7ffe);
  if (k < 4) { f80 v = rnorm(0, 0); v.m >>= 1 + rndn(63); return v; }   /* denormal */
  return rnorm(0x3fff - 70, 0x3fff + 70);
}
static unsigned rcw(void) {
  unsigned masks = rndn(5) ? 0x3f : (unsigned)rndn(64);
  unsigned pc = (unsigned[]){0, 2, 3, 3}[rndn(4)];
  return 0x40 | rndn(4) << 10 | pc << 8 | masks;
}
static void rflags(void) { flagsin = 0x202 | (rnd() & 0x8d5); }

static void binop(int opc, int modrm, f80 a, f80 b) { cwv = rcw(); rflags(); emit(opc, modrm, a, b, 0); }

int main(void) {
  static const int arith[][2] = { {0xd8,0xc1}, {0xd8,0xc9}, {0xd8,0xe1}, {0xd8,0xe9}, {0xd8,0xf1}, {0xd8,0xf9} };
  static const int cmp[][2] = { {0xd8,0xd1}, {0xd8,0xd9}, {0xdd,0xe1}, {0xdd,0xe9}, {0xde,0xd9}, {0xda,0xe9},
                                {0xdb,0xf1}, {0xdb,0xe9}, {0xdf,0xf1}, {0xdf,0xe9} };
  /* arithmetic: specials × specials, then random (near exponents, then wide) */
  for (int o = 0; o < 6; o++)
    for (int i = 0; i < NSPEC; i++)
      for (int j = 0; j < NSPEC; j++) binop(arith[o][0], arith[o][1], specials[i], specials[j]);
  for (int o = 0; o < 6; o++)
    for (int n = 0; n < 1000; n++) {
      f80 a = rnorm(0x3fff - 40, 0x3fff + 40), b = rnorm(0x3fff - 40, 0x3fff + 40);
      if (n % 3 == 0) b.se = (b.se & 0x8000) | ((a.se & 0x7fff) + rndn(5) - 2);
      binop(arith[o][0], arith[o][1], a, b);
    }
  for (int o = 0; o < 6; o++)
    for (int n = 0; n < 600; n++) {   /* overflow / underflow / denormal territory */
      f80 a = rnorm(1, 0x7ffe), b = rany();
      if (n & 1) { a = rnorm(0, 200); a.se &= 0x8000 | rndn(80); if ((a.se & 0x7fff) == 0) a.m >>= rndn(64); }
      if (n % 4 < 2) { int e = (o == 1) ? (0x3fff - (a.se & 0x7fff) + 0x3fff + rndn(9) - 4) : (o >= 4) ? ((a.se & 0x7fff) + 0x3fff - 0x7ffe - rndn(5) + 2) : -1;
        if (e > 0 && e < 0x7fff) b = rnorm(e, e); else if (o == 1) b = rnorm(0x7ffe - 80, 0x7ffe); }
      binop(arith[o][0], arith[o][1], a, b);
    }
  /* other forms of the arithmetic ops: reversed-register and popping */
  static const int other[][2] = { {0xdc,0xc1}, {0xdc,0xe1}, {0xdc,0xe9}, {0xde,0xf1}, {0xde,0xf9}, {0xde,0xc1} };
  for (int o = 0; o < 6; o++) for (int n = 0; n < 150; n++) binop(other[o][0], other[o][1], rany(), rany());
  /* comparisons */
  for (int o = 0; o < 10; o++) {
    for (int i = 0; i < NSPEC; i++) for (int j = 0; j < NSPEC; j += 1 + (i & 1)) binop(cmp[o][0], cmp[o][1], specials[i], specials[j]);
    for (int n = 0; n < 100; n++) { f80 a = rany(); binop(cmp[o][0], cmp[o][1], a, n & 1 ? a : rany()); }
  }
  /* unary: FSQRT FRNDINT FXTRACT FABS FCHS FTST FXAM */
  static const int un[] = { 0xfa, 0xfc, 0xf4, 0xe1, 0xe0, 0xe4, 0xe5 };
  for (int o = 0; o < 7; o++) {
    for (int i = 0; i < NSPEC; i++) for (int k = 0; k < 4; k++) binop(0xd9, un[o], specials[i], specials[0]);
    for (int n = 0; n < (o < 3 ? 1000 : 150); n++) {
      f80 a = n % 3 ? rnorm(0x3fff - 20, 0x3fff + 70) : rany();
      binop(0xd9, un[o], a, specials[2]);
    }
  }
  /* FSCALE FPREM FPREM1 */
  static const int sc[] = { 0xfd, 0xf8, 0xf5 };
  for (int o = 0; o < 3; o++) {
    for (int i = 0; i < NSPEC; i++) for (int j = 0; j < NSPEC; j++) binop(0xd9, sc[o], specials[i], specials[j]);
    for (int n = 0; n < 1000; n++) {
      f80 a = rany(), b = rany();
      if (o == 0 && n % 2) b = rnorm(0x3fff - 2, 0x3fff + 15);
      if (o > 0 && n % 2) { a = rnorm(0x3fff - 10, 0x3fff + 200); b = rnorm(0x3fff - 10, 0x3fff + 30); }
      binop(0xd9, sc[o], a, b);
    }
  }
  /* transcendentals: F2XM1 FSIN FCOS FSINCOS FPTAN FPATAN FYL2X FYL2XP1 */
  static const int tr[] = { 0xf0, 0xfe, 0xff, 0xfb, 0xf2, 0xf3, 0xf1, 0xf9 };
  for (int o = 0; o < 8; o++) {
    for (int i = 0; i < NSPEC; i++) for (int j = 0; j < NSPEC; j += 3) binop(0xd9, tr[o], specials[i], specials[j]);
    for (int n = 0; n < 600; n++) {
      f80 a, b = rnorm(0x3fff - 3, 0x3fff + 3);
      switch (tr[o]) {
        case 0xf0: a = rnorm(0x3fff - 1 - rndn(n % 4 ? 3 : 70), 0x3fff - 1); break;
        case 0xf9: a = rnorm(0x3fff - 3 - rndn(n % 4 ? 3 : 70), 0x3fff - 3); break;
        case 0xf1: a = rnorm(1, 0x7ffe); a.se &= 0x7fff; if (n % 2) a = rnorm(0x3fff - 3, 0x3fff + 3), a.se &= 0x7fff; break;
        case 0xf3: a = rnorm(0x3fff - 30, 0x3fff + 30); b = rnorm(0x3fff - 30, 0x3fff + 30); break;
        default: a = rnorm(0x3fff - 8, 0x3fff + (n % 5 ? 3 : 62)); break;
      }
      binop(0xd9, tr[o], a, b);
    }
  }
  /* constants under every rounding mode */
  for (int c = 0xe8; c <= 0xee; c++) for (int r = 0; r < 4; r++) for (int p = 0; p < 4; p += 2) {
    cwv = 0x7f | r << 10 | p << 8; flagsin = 0x202; emit(0xd9, c, specials[2], specials[3], 0);
  }
  /* FCMOVcc, FXCH, FST/FSTP st(i), FLD st(i), FFREE, FDECSTP/FINCSTP */
  static const int cm[] = { 0xc1, 0xc9, 0xd1, 0xd9 };
  for (int o = 0; o < 8; o++) for (int n = 0; n < 24; n++) binop(o < 4 ? 0xda : 0xdb, cm[o & 3], rany(), rany());
  static const int mv[][2] = { {0xd9,0xc9}, {0xdd,0xc1}, {0xdd,0xd1}, {0xdd,0xd9}, {0xd9,0xc1}, {0xd9,0xf6}, {0xd9,0xf7} };
  for (int o = 0; o < 7; o++) for (int n = 0; n < 8; n++) binop(mv[o][0], mv[o][1], rany(), rany());
  /* stores: FST(P) m32/m64, FIST m16/m32, FISTP m64, FBSTP, FSTP m80 */
  static const int st[][3] = { {0xd9,2,4}, {0xd9,3,4}, {0xdd,2,8}, {0xdd,3,8}, {0xdf,2,2}, {0xdb,2,4}, {0xdf,7,8}, {0xdf,6,10}, {0xdb,7,10} };
  for (int o = 0; o < 9; o++) {
    for (int i = 0; i < NSPEC; i++) for (int k = 0; k < 3; k++) { memset(membuf, 0x5a, 16); cwv = rcw(); rflags(); emit(st[o][0], MEMOP(st[o][0], st[o][1]) & 0xff, specials[i], specials[0], st[o][2]); }
    for (int n = 0; n < 800; n++) {
      f80 a;
      int k = n % 4;
      if (st[o][2] == 4 && st[o][0] == 0xd9) a = k ? rnorm(0x3fff - 160, 0x3fff + 130) : rany();
      else if (st[o][2] == 8 && st[o][0] == 0xdd) a = k ? rnorm(0x3fff - 1090, 0x3fff + 1030) : rany();
      else if (st[o][2] == 2) a = k ? rnorm(0x3fff - 2, 0x3fff + 16) : rany();
      else if (st[o][2] == 4) a = k ? rnorm(0x3fff - 2, 0x3fff + 32) : rany();
      else if (st[o][1] == 6) a = k ? rnorm(0x3fff - 2, 0x3fff + 61) : rany();
      else if (st[o][2] == 8) a = k ? rnorm(0x3fff - 2, 0x3fff + 64) : rany();
      else a = rany();
      if (n % 8 == 1) a.m &= ~0ull << (1 + rndn(40));   /* integers and halves */
      memset(membuf, 0x5a, 16); cwv = rcw(); rflags();
      emit(st[o][0], MEMOP(st[o][0], st[o][1]) & 0xff, a, specials[2], st[o][2]);
      if (n >= 300 && st[o][0] != 0xd9 && st[o][0] != 0xdd) break;
    }
  }
  /* loads: FLD m32/m64, FILD m16/m32/m64, FBLD, FLD m80; and memory-operand arithmetic */
  static const int ld[][3] = { {0xd9,0,4}, {0xdd,0,8}, {0xdf,0,2}, {0xdb,0,4}, {0xdf,5,8}, {0xdf,4,10}, {0xdb,5,10},
                               {0xd8,0,4}, {0xdc,1,8}, {0xd8,7,4}, {0xdc,4,8}, {0xda,0,4}, {0xde,4,2}, {0xda,2,4}, {0xdc,2,8}, {0xde,6,2}, {0xda,5,4} };
  for (int o = 0; o < 17; o++)
    for (int n = 0; n < 500; n++) {
      uint64_t m = rnd();
      int len = ld[o][2];
      if (n % 4 == 0) m &= (len == 4 ? 0x807fffffull : 0x800fffffffffffffull) | (rndn(2) ? 0 : ~0ull);   /* zero/denormal */
      if (n % 4 == 1) m |= (len == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);   /* inf/NaN */
      if (len == 10 && ld[o][1] == 4) {   /* BCD: mostly valid digits, some small, some invalid */
        for (int d = 0; d < 9; d++) membuf[d] = rndn(n % 7 ? 10 : 16) | rndn(n % 7 ? 10 : 16) << 4;
        membuf[9] = rndn(2) ? 0x80 : 0;
        if (n % 5 == 0) { int k = rndn(9); memset(membuf + k, 0, 9 - k); }
      } else if (len == 10) put80(membuf, rany());
      else memcpy(membuf, &m, 8);
      if (len == 8 && o == 4 && n % 3 == 0) { int64_t v = (int64_t)(rnd() >> rndn(64)); memcpy(membuf, &v, 8); }
      cwv = rcw(); rflags();
      emit(ld[o][0], MEMOP(ld[o][0], ld[o][1]) & 0xff, rany(), rany(), len);
    }
  /* the reserved precision control value 01 */
  static const int pc1[][2] = { {0xd8,0xc1}, {0xd8,0xc9}, {0xd8,0xf1}, {0xd9,0xfa} };
  for (int o = 0; o < 4; o++) for (int n = 0; n < 100; n++) {
    cwv = 0x17f | rndn(4) << 10; rflags();
    emit(pc1[o][0], pc1[o][1], rnorm(0x3fff - 40, 0x3fff + 40), rnorm(0x3fff - 40, 0x3fff + 40), 0);
  }
  /* stack faults: pushes onto a full stack, operations on empty registers (masked and unmasked IE) */
  static const int full[][2] = { {0xd9,0xe8}, {0xd9,0xeb}, {0xd9,0xc1}, {0xd9,0xf4}, {0xd9,0xf2}, {0xd9,0xfb}, {0xd9,0xf6},
                                 {0xd9,0x05}, {0xdf,0x05}, {0xdb,0x2d}, {0xdf,0x25} };
  static const int under[][2] = { {0xd8,0xc1}, {0xdc,0xc1}, {0xde,0xc1}, {0xde,0xf9}, {0xd8,0xd1}, {0xd8,0xd9}, {0xde,0xd9}, {0xda,0xe9},
                                  {0xdb,0xf1}, {0xdf,0xf1}, {0xd9,0xc9}, {0xdd,0xd1}, {0xdd,0xd9}, {0xd9,0xfd}, {0xd9,0xf8}, {0xd9,0xf3},
                                  {0xd9,0xf1}, {0xd9,0xf9}, {0xda,0xc1}, {0xd9,0xc1} };
  static const int empty[][3] = { {0xd9,0xfa,0}, {0xd9,0xe0,0}, {0xd9,0xe1,0}, {0xd9,0xe4,0}, {0xd9,0xe5,0}, {0xd9,0xfc,0}, {0xd9,0xf4,0},
                                  {0xd9,0xfe,0}, {0xd9,0xf2,0}, {0xd9,0xfb,0}, {0xd9,0xf0,0}, {0xd9,0x15,4}, {0xdf,0x1d,2}, {0xdf,0x35,10},
                                  {0xdb,0x3d,10}, {0xd8,0x05,4}, {0xdc,0x15,8}, {0xdb,0x15,4}, {0xdd,0xd9,0} };
  for (int o = 0; o < 11; o++) for (int n = 0; n < 12; n++) {
    setup = 'f'; memset(membuf, 0x3f, 16); cwv = rcw() & ~(n & 1); rflags();
    emit(full[o][0], full[o][1], rany(), rany(), (full[o][1] & 0xc0) == 0xc0 ? 0 : full[o][0] == 0xd9 ? 4 : full[o][0] == 0xdb || full[o][1] == 0x25 ? 10 : 2);
  }
  for (int o = 0; o < 20; o++) for (int n = 0; n < 12; n++) { setup = 'u'; cwv = rcw() & ~(n & 1); rflags(); emit(under[o][0], under[o][1], rany(), rany(), 0); }
  for (int o = 0; o < 19; o++) for (int n = 0; n < 12; n++) {
    setup = 'e'; memset(membuf, 0x3f, 16); cwv = rcw() & ~(n & 1); rflags(); emit(empty[o][0], empty[o][1], rany(), rany(), empty[o][2]);
  }
  return 0;
}
