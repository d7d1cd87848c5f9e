; ALU arithmetic and logic with flags, 8/16/32-bit, register/memory/immediate forms.
; Each line: "<kernel> a=<A> b=<B> c=<carry in> r=<EAX> rb=<EBX> fl=<flags>"; a kernel runs one
; instruction with A in EAX (AL/AX), B in EBX or memory, CF = carry in.
; Flags printed: OF SF ZF AF PF CF (mask ARITH), except after AND/OR/XOR/TEST, which leave AF
; undefined (SDM): those kernels use mask LOGIC. NOT changes no flags: mask 0 there.
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
%include "kernels.inc"
ARITH equ 0x8D5
LOGIC equ 0x8C5        ; AF undefined (AND, OR, XOR, TEST)

pm:
  ; register forms, every pair
%macro RR 2
  K {%str(%1), "8"}, %2, 64, %1 al, bl
  K {%str(%1), "16"}, %2, 64, %1 ax, bx
  K {%str(%1), "32"}, %2, 64, %1 eax, ebx
%endmacro
  RR add, ARITH
  RR adc, ARITH
  RR sub, ARITH
  RR sbb, ARITH
  RR cmp, ARITH
  RR and, LOGIC
  RR or, LOGIC
  RR xor, LOGIC
  RR test, LOGIC
  ; other encodings: r/m,r with register operands swapped (opcode 00 vs 02 forms), memory
  ; source, memory destination, accumulator-immediate, r/m-immediate, sign-extended imm8
%macro FORMS 2
  K {%str(%1), "8 r,rm (op+2)"}, %2, 8, db %1_OP + 2, 0xC3
  K {%str(%1), "32 r,rm (op+2)"}, %2, 8, db %1_OP + 3, 0xC3
  KM {%str(%1), "8 r,m"}, %2, 8, %1 al, [MEMOP]
  KM {%str(%1), "16 r,m"}, %2, 8, %1 ax, [MEMOP]
  KM {%str(%1), "32 r,m"}, %2, 8, %1 eax, [MEMOP]
  KD {%str(%1), "8 m,r"}, %2, 8, %1 byte [MEMOP], bl
  KD {%str(%1), "16 m,r"}, %2, 8, %1 word [MEMOP], bx
  KD {%str(%1), "32 m,r"}, %2, 8, %1 dword [MEMOP], ebx
  K {%str(%1), "8 al,i"}, %2, 8, %1 al, 0x81
  K {%str(%1), "16 ax,i"}, %2, 8, %1 ax, 0x8001
  K {%str(%1), "32 eax,i"}, %2, 8, %1 eax, 0x80000001
  K {%str(%1), "8 r,i"}, %2, 8, %1 bl, 0x7F
  K {%str(%1), "16 r,i"}, %2, 8, %1 bx, 0x1234
  K {%str(%1), "32 r,i"}, %2, 8, %1 ebx, 0xFFFF0000
  K {%str(%1), "16 r,i8"}, %2, 8, %1 ax, byte -2
  K {%str(%1), "32 r,i8"}, %2, 8, %1 eax, byte 0x7F
  KD {%str(%1), "32 m,i8"}, %2, 8, %1 dword [MEMOP], byte -128
  KD {%str(%1), "16 m,i"}, %2, 8, %1 word [MEMOP], 0xFFFF
%endmacro
%define add_OP 0x00
%define or_OP 0x08
%define adc_OP 0x10
%define sbb_OP 0x18
%define and_OP 0x20
%define sub_OP 0x28
%define xor_OP 0x30
%define cmp_OP 0x38
  FORMS add, ARITH
  FORMS or, LOGIC
  FORMS adc, ARITH
  FORMS sbb, ARITH
  FORMS and, LOGIC
  FORMS sub, ARITH
  FORMS xor, LOGIC
  FORMS cmp, ARITH
  ; unary: INC/DEC keep CF, NEG sets all, NOT none
%macro UN 2
  K {%str(%1), "8"}, %2, 8, %1 al
  K {%str(%1), "16"}, %2, 8, %1 ax
  K {%str(%1), "32"}, %2, 8, %1 eax
  KD {%str(%1), "32 m"}, %2, 8, %1 dword [MEMOP]
%endmacro
  UN inc, ARITH
  UN dec, ARITH
  UN neg, ARITH
  UN not, 0
  ; the 8-bit high registers and the 0x82 alias of 0x80 (valid in 32-bit mode)
  K "add ah,bh", ARITH, 8, add ah, bh
  K "sub bh,ah", ARITH, 8, sub bh, ah
  K "op82 add al,i", ARITH, 8, db 0x82, 0xC0, 0x90
  K "op82 sub al,i", ARITH, 8, db 0x82, 0xE8, 0x90
  PRINT "done", NL
  EXIT 0
ROM_END
