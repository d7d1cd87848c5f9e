; A basic x87 program (the FPU's own tests live in test/fpu): loads, arithmetic, square root,
; integer stores with rounding modes, compares into EFLAGS (FCOMI) and AX (FNSTSW), masked
; division by zero; and the CPU side of the FPU: CR0.EM and CR0.TS raise #NM, WAIT with TS and MP
; raises #NM, FNINIT leaves the default control word.
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1), and
; its C1 after an invalid FSQRT (masked: the indefinite NaN) is 1 where the SDM says C1 only
; reports rounding up (SDM 8.1.3.3), Bochs has 0.
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
MEM equ 0x20000
%macro ST0 1        ; prints "name st0=<80-bit> sw=<status word>"
  fld st0
  fstp tword [MEM]
  fnstsw ax
  PRINT %1, " st0="
  HEX16 [MEM + 8]
  PRINT ":"
  HEX32 [MEM + 4]
  PRINT ":"
  HEX32 [MEM]
  PRINT " sw="
  HEX16 eax
  PRINT NL
%endmacro
three: dd 3.0
seven: dq 7.0
big:   dd 2.5, 3.5, -2.5
pm:
  mov eax, cr0
  and eax, ~0xC           ; EM=0 TS=0
  or eax, 0x22            ; MP NE
  mov cr0, eax
  fninit
  fnstcw [MEM]
  PRINT "fninit cw="
  HEX16 [MEM]
  PRINT NL
  fld1
  ST0 "fld1"
  fldpi
  ST0 "fldpi"
  faddp st1, st0
  ST0 "1+pi"
  fmul dword [three]
  ST0 "*3"
  fdiv qword [seven]
  ST0 "/7"
  fsqrt
  ST0 "sqrt"
  fchs
  fsqrt
  ST0 "sqrt(-x)"
  fstp st0
  fld1
  fldz
  fdivp st1, st0
  ST0 "1/0"
  fstp st0
  fnclex
  ; integer stores in the four rounding modes
  mov ecx, 0
.rc:
  fnstcw [MEM + 16]
  and word [MEM + 16], ~0xC00
  mov eax, ecx
  shl eax, 10
  or [MEM + 16], ax
  fldcw [MEM + 16]
  PRINT "rc="
  HEX8 ecx
  xor ebx, ebx
.v:
  fld dword [big + ebx * 4]
  fistp dword [MEM]
  PRINT " "
  HEX32 [MEM]
  inc ebx
  cmp ebx, 3
  jb .v
  PRINT NL
  inc ecx
  cmp ecx, 4
  jb .rc
  fninit
  fld dword [three]
  fld1
  fcomi st0, st1
  pushfd
  pop eax
  and eax, 0x8D5
  PRINT "fcomi 1 vs 3 fl="
  HEX16 eax
  fcom st1
  fnstsw ax
  PRINT " fcom sw="
  HEX16 eax
  PRINT NL
  fninit
  ; #NM: EM=1, then TS=1
  mov eax, cr0
  or eax, 4
  mov cr0, eax
  CASE "fld1 with EM", {fld1}
  and eax, ~4
  or eax, 8
  mov cr0, eax
  CASE "fld1 with TS", {fld1}
  CASE "wait with TS and MP", {wait}
  and eax, ~2
  mov cr0, eax
  CASE "wait with TS, no MP", {wait}
  clts
  CASE "fld1 after clts", {fld1}
  PRINT "done", NL
  EXIT 0
ROM_END
