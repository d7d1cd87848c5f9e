; MUL, IMUL (one, two and three operands), DIV, IDIV with 8/16/32-bit register and memory
; operands, including divide errors (#DE: quotient too large, divisor 0, IDIV -2^31/-1).
; Line: "<kernel> a=<EDX:EAX in> b=<operand> r=<EDX>:<EAX> [rb=<EBX>] fl=<flags>".
; Flags: MUL/IMUL define CF and OF only (SF ZF AF PF undefined: mask 0x801); DIV/IDIV leave all
; six undefined (mask 0). A #DE prints the exception line (harness) and the kernel goes on.
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
MEMOP equ 0x20000
vals: dd 0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x12345678, 0xFFFFFFFE
NVALS equ 14
hivals: dd 0, 0xFFFFFFFF, 1      ; EDX (high half of the dividend)
minus1: dd -1

; KX name, mask, {instruction}: A in EAX, high half in EDX, B in EBX and at MEMOP.
%macro KX 3
  mov esi, %%name
  mov edi, %%code
  mov edx, %2
  call run_kernel
  jmp %%after
%%name: db %1, 0
%%code:
  mov dword [resume], %%r
  %3
%%r:
  mov dword [resume], 0
  ret
%%after:
%endmacro

run_kernel:               ; esi name, edi code, edx flag mask
  pushad
  xor ebp, ebp
.case:                    ; ebp = a index * NVALS*3 + b index * 3 + hi index (subset: step 7)
  mov eax, ebp
  xor edx, edx
  mov ecx, 3
  div ecx
  mov ecx, [hivals + edx * 4]
  xor edx, edx
  mov ebx, NVALS
  div ebx                 ; eax = a index, edx = b index
  mov eax, [vals + eax * 4]
  mov ebx, [vals + edx * 4]
  mov edx, ecx
  push esi
  call puts_esi
  pop esi
  PRINT " a="
  HEX32 edx
  PRINT ":"
  HEX32 eax
  SHOW "b", ebx
  PRINT NL
  mov [MEMOP], ebx
  push dword 0x8D7 & ~0x400   ; defined flags in: all six set
  popfd
  call edi
  pushfd
  PRINT "  r="
  HEX32 edx
  PRINT ":"
  HEX32 eax
  SHOW "rb", ebx
  pop eax
  and eax, [esp + 20]     ; mask (pushad's edx)
  PRINT " fl="
  HEX16 eax
  PRINT NL
  mov esi, [esp + 4]
  mov edi, [esp]
  add ebp, 7
  cmp ebp, NVALS * NVALS * 3
  jb .case
  popad
  ret

puts_esi:
  push eax
.l:
  lodsb
  test al, al
  jz .e
  out 0xE9, al
  jmp .l
.e:
  pop eax
  ret

pm:
  KX "mul8 r", 0x801, {mul bl}
  KX "mul16 r", 0x801, {mul bx}
  KX "mul32 r", 0x801, {mul ebx}
  KX "mul8 m", 0x801, {mul byte [MEMOP]}
  KX "mul32 m", 0x801, {mul dword [MEMOP]}
  KX "imul8 r", 0x801, {imul bl}
  KX "imul16 r", 0x801, {imul bx}
  KX "imul32 r", 0x801, {imul ebx}
  KX "imul16 m", 0x801, {imul word [MEMOP]}
  KX "imul16 r,r", 0x801, {imul ax, bx}
  KX "imul32 r,m", 0x801, {imul eax, [MEMOP]}
  KX "imul16 r,r,i8", 0x801, {imul ax, bx, -3}
  KX "imul32 r,r,i32", 0x801, {imul eax, ebx, 0x10001}
  KX "imul32 r,m,i8", 0x801, {imul eax, [MEMOP], 0x7F}
  KX "imul16 r,m,i16", 0x801, {imul bx, [MEMOP], 0x8001}
  KX "div8 r", 0, {div bl}
  KX "div16 r", 0, {div bx}
  KX "div32 r", 0, {div ebx}
  KX "div32 m", 0, {div dword [MEMOP]}
  KX "idiv8 r", 0, {idiv bl}
  KX "idiv16 m", 0, {idiv word [MEMOP]}
  KX "idiv32 r", 0, {idiv ebx}
  ; the one IDIV overflow with a nonzero divisor that fits: -2^31 / -1
  KX "idiv32 min/-1", 0, {idiv dword [minus1]}
  PRINT "done", NL
  EXIT 0
ROM_END
