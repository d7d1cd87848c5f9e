; Shifts and rotates (ROL ROR RCL RCR SHL SHR SAR, SHLD SHRD) by every count 0..33 through CL,
; by 1 and by immediates, 8/16/32-bit, register and memory operands.
; Line: "<kernel> n=<count> a=<value> c=<flags in> r=<result> fl=<flags out>".
; Flags masked as the SDM says (run_kernel computes the mask from the count):
;   count & 31 = 0: nothing changes, all six arithmetic flags printed;
;   rotates: OF only when the masked count is 1 (SF ZF AF PF are unaffected, so printed);
;   shifts: AF undefined; OF only for count 1; SHL/SHR CF undefined when count >= operand size;
;   SHLD/SHRD: AF undefined, OF only for count 1; 16-bit with count > 16: result and flags
;   undefined (printed as "r=undef").
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
ARITH equ 0x8D5
MEMOP equ 0x20000
ROT   equ 0
SHX   equ 1            ; SHL/SHR
CSAR  equ 2
DBL   equ 3            ; SHLD/SHRD

values: dd 0x8D5A3C81, 0x00000001
flagsin: dd 0x002, 0x8D7       ; all clear / all six set

; KS name, class, size, count (-1: every count 0..33), {instruction}[, mem]
; The kernel gets the value in EAX (and EDX for SHLD/SHRD's source), CL = count. With "mem",
; the value is stored at MEMOP first, the instruction operates there, and it is read back.
%macro KS 5-6
  mov esi, %%name
  mov edi, %%code
  mov edx, %2 | (%3 << 8)
  mov ecx, %4
  mov cl, %4 & 0xFF
  call run_kernel
  jmp %%after
%%name: db %1, 0
%%code:
%ifidn %6, mem
  mov [MEMOP], eax
%endif
  %5
%ifidn %6, mem
  mov eax, [MEMOP]
%endif
  ret
%%after:
%endmacro

run_kernel:               ; esi name, edi code, dl class, dh size, ecx fixed count (or -1: all)
  pushad
  mov ebp, ecx
  xor ebx, ebx            ; count
  cmp ebp, -1
  je .count
  mov ebx, ebp
.count:
  push ebx                ; [esp+8] count
  push dword 0            ; [esp+4] value index
  push dword 0            ; [esp]   flags-in index
.case:
  push esi
  call puts_esi
  pop esi
  mov ecx, [esp + 8]
  PRINT " n="
  HEX8 ecx
  mov eax, [esp + 4]
  mov eax, [values + eax * 4]
  SHOW "a", eax
  mov ebx, [esp]
  mov ebx, [flagsin + ebx * 4]
  PRINT " c="
  HEX16 ebx
  push edx
  mov edx, 0x0F0F1234     ; SHLD/SHRD source
  push ebx
  popfd
  call edi
  pushfd
  pop ebx
  pop edx
  ; mask for this count and class
  mov ecx, [esp + 8]
  and ecx, 31
  mov esi, ARITH
  jz .masked
  cmp ecx, 1
  je .one
  and esi, ~0x800         ; OF undefined
.one:
  cmp dl, ROT
  je .masked
  and esi, ~0x10          ; AF undefined
  cmp dl, SHX
  jne .nocf
  movzx edi, dh
  cmp ecx, edi
  jb .masked
  and esi, ~1             ; CF undefined: SHL/SHR count >= size
.nocf:
  cmp dl, DBL
  jne .masked
  cmp dh, 16
  jne .masked
  cmp ecx, 16
  jbe .masked
  PRINT " r=undef", NL
  jmp .next
.masked:
  SHOW "r", eax
  and ebx, esi
  PRINT " fl="
  HEX16 ebx
  PRINT NL
.next:
  mov esi, [esp + 12 + 4]     ; restore pushad's esi (name) and edi (code)
  mov edi, [esp + 12 + 0]
  inc dword [esp]
  cmp dword [esp], 2
  jb .case
  mov dword [esp], 0
  inc dword [esp + 4]
  cmp dword [esp + 4], 2
  jb .case
  mov dword [esp + 4], 0
  cmp ebp, -1
  jne .done
  inc dword [esp + 8]
  cmp dword [esp + 8], 34
  jb .case
.done:
  add esp, 12
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
%macro SH 2     ; op, class: CL form for all counts, three sizes; memory form 32-bit
  KS %str(%1 8 cl), %2, 8, -1, {%1 al, cl}
  KS %str(%1 16 cl), %2, 16, -1, {%1 ax, cl}
  KS %str(%1 32 cl), %2, 32, -1, {%1 eax, cl}
  KS %str(%1 32 m cl), %2, 32, -1, {%1 dword [MEMOP], cl}, mem
  KS %str(%1 16 m cl), %2, 16, -1, {%1 word [MEMOP], cl}, mem
%endmacro
%macro SHF 2    ; op, class: the by-1 form and the immediate form
  KS %str(%1 8 1), %2, 8, 1, {%1 al, 1}
  KS %str(%1 16 1), %2, 16, 1, {%1 ax, 1}
  KS %str(%1 32 1), %2, 32, 1, {%1 eax, 1}
  KS %str(%1 8 i), %2, 8, 9, {%1 al, 9}
  KS %str(%1 16 i), %2, 16, 17, {%1 ax, 17}
  KS %str(%1 32 i), %2, 32, 31, {%1 eax, 31}
  KS %str(%1 32 i33), %2, 32, 33, {%1 eax, 33}
  KS %str(%1 8 i0), %2, 8, 0, {%1 al, 0}
  KS %str(%1 8 m1), %2, 8, 1, {%1 byte [MEMOP], 1}, mem
  KS %str(%1 32 mi), %2, 32, 5, {%1 dword [MEMOP], 5}, mem
%endmacro
  SH rol, ROT
  SH ror, ROT
  SH rcl, ROT
  SH rcr, ROT
  SH shl, SHX
  SH shr, SHX
  SH sar, CSAR
  SHF rol, ROT
  SHF ror, ROT
  SHF rcl, ROT
  SHF rcr, ROT
  SHF shl, SHX
  SHF shr, SHX
  SHF sar, CSAR
  ; SAL is SHL; /6 is an undocumented alias of /4 on real processors: not tested
  KS "shld 16 cl", DBL, 16, -1, {shld ax, dx, cl}
  KS "shld 32 cl", DBL, 32, -1, {shld eax, edx, cl}
  KS "shrd 16 cl", DBL, 16, -1, {shrd ax, dx, cl}
  KS "shrd 32 cl", DBL, 32, -1, {shrd eax, edx, cl}
  KS "shld 32 m cl", DBL, 32, -1, {shld [MEMOP], edx, cl}, mem
  KS "shrd 16 m cl", DBL, 16, -1, {shrd [MEMOP], dx, cl}, mem
  KS "shld 32 i", DBL, 32, 12, {shld eax, edx, 12}
  KS "shrd 32 i1", DBL, 32, 1, {shrd eax, edx, 1}
  KS "shld 16 i", DBL, 16, 16, {shld ax, dx, 16}
  KS "shrd 16 m i", DBL, 16, 7, {shrd [MEMOP], dx, 7}, mem
  PRINT "done", NL
  EXIT 0
ROM_END
