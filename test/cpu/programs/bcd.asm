; BCD adjustments: DAA DAS AAA AAS for every AL with AF/CF in = 00, 01, 10, 11, and AAM/AAD
; with several bases, including AAM 0 → #DE.
; Line "op AL=xx: r/f r/f r/f r/f" gives AX (AAA/AAS) or AL (DAA/DAS) and flags for each AF/CF in.
; Flags masked where the SDM leaves them undefined: DAA/DAS OF (mask 0xD5); AAA/AAS OF SF ZF PF
; (mask 0x11); AAM/AAD OF AF CF (mask 0xC4).
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
flagsin: dd 0x002, 0x003, 0x012, 0x013   ; AF/CF = 00 01 10 11 (other flags clear)

; BCDOP name, mask, instruction, ax-width: all 256 AL values, AH = 0x35
%macro BCDOP 4
  mov esi, %%name
  mov edi, %%code
  mov edx, %2
  mov ecx, %4
  call run_all
  jmp %%after
%%name: db %1, 0
%%code:
  %3
  ret
%%after:
%endmacro

run_all:
  pushad
  xor ebp, ebp
.al:
  push esi
  call puts_esi
  pop esi
  PRINT " AL="
  HEX8 ebp
  PRINT ":"
  xor ebx, ebx
.f:
  mov eax, ebp
  mov ah, 0x35
  push dword [flagsin + ebx * 4]
  popfd
  call edi
  pushfd
  PRINT " "
  HEXN ecx, eax
  PRINT "/"
  pop eax
  and eax, edx
  HEX8 eax
  inc ebx
  cmp ebx, 4
  jb .f
  PRINT NL
  inc ebp
  cmp ebp, 256
  jb .al
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

; AAM/AAD with base b over a sample of AX values
%macro AAX 2
  mov edi, %%code
  mov esi, %%name
  call run_aax
  jmp %%after
%%name: db %1, 0
%%code:
  mov dword [resume], %%r
  %2
%%r:
  mov dword [resume], 0
  ret
%%after:
%endmacro
axvals: dw 0x0000, 0x0009, 0x0063, 0x00FF, 0x0109, 0x0905, 0x1234, 0xFFFF, 0x80F0
run_aax:
  pushad
  xor ebx, ebx
.l:
  movzx eax, word [axvals + ebx * 2]
  push esi
  call puts_esi
  pop esi
  PRINT " AX="
  HEX16 eax
  push dword 0x8D7 & ~0x400
  popfd
  call edi
  pushfd
  PRINT " -> "
  HEX16 eax
  pop eax
  and eax, 0xC4
  PRINT " fl="
  HEX8 eax
  PRINT NL
  inc ebx
  cmp ebx, 9
  jb .l
  popad
  ret

pm:
  BCDOP "daa", 0xD5, daa, 2
  BCDOP "das", 0xD5, das, 2
  BCDOP "aaa", 0x11, aaa, 4
  BCDOP "aas", 0x11, aas, 4
  AAX "aam 10", aam
  AAX "aam 16", {aam 16}
  AAX "aam 7", {aam 7}
  AAX "aam 255", {aam 255}
  AAX "aam 0", {aam 0}
  AAX "aad 10", aad
  AAX "aad 16", {aad 16}
  AAX "aad 0", {aad 0}
  AAX "aad 255", {aad 255}
  PRINT "done", NL
  EXIT 0
ROM_END
