; Mode switches: real mode → 32-bit protected mode → 16-bit protected mode (a 16-bit code
; segment: default operand and address size 16, prefixes select 32) → back to real mode through
; 16-bit segments with 64 KiB limits; "unreal" mode (a 4 GiB DS limit kept in the descriptor cache
; after PE is cleared); segment registers and descriptor caches across the switches.
; oracle: bochs — QEMU 7.2 TCG does not check the real-mode DS limit (last case: #GP(0) per SDM).
%include "harness.inc"
S_CODE16 equ SEL_CODE16     ; base F0000, limit FFFF
S_BIG    equ SEL_FREE       ; flat 4 GiB data
main:
  PRINT "real: cs="
  mov ax, cs
  HEX16 eax
  PRINT NL
  ; build the GDT through the harness and come back to 16-bit code below
  ENTER_PM32 pm32
bits 32
pm32:
  PRINT "pm32: cs="
  mov eax, cs
  HEX16 eax
  SETDESC S_BIG, 0, 0xFFFFF, ACC_DATA0, 0xC
  mov dword [0x123456], 0xFACEB00C
  PRINT " [0x123456]="
  HEX32 [0x123456]
  PRINT NL
  ; to 16-bit protected mode: far jump into the 16-bit code segment (base F0000)
  jmp S_CODE16:R(pm16)
bits 16
pm16:
  mov ax, SEL_DATA16        ; a 16-bit stack first (the harness's routines use SP and BP)
  mov ss, ax
  mov esp, 0x7000
  PRINT "pm16: cs="
  mov ax, cs
  HEX16 eax
  ; operand size 16 by default: PUSH pushes 2 bytes, 66 makes it 4
  push ax
  mov bx, sp
  push eax
  mov cx, sp
  add sp, 6
  PRINT " push16 sp="
  HEX16 ebx
  PRINT " push32 sp="
  HEX16 ecx
  ; a 16-bit data segment with a 64 KiB limit, and the flat one with 4 GiB
  mov ax, S_BIG
  mov fs, ax
  mov eax, [fs:dword 0x123456]
  PRINT " fs:[0x123456]="
  HEX32 eax
  PRINT NL
  ; back to real mode: the real-mode IVT at 0 again, clear PE, far jump to load a real-mode CS
  lidt [cs:R(real_idtr)]
  mov ax, SEL_DATA16
  mov ds, ax
  mov es, ax
  mov eax, cr0
  and eax, ~1
  mov cr0, eax
  jmp 0xF000:R(real_again)
real_again:
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, STACK_RM
  PRINT "real again: cs="
  mov ax, cs
  HEX16 eax
  ; FS still has the 4 GiB limit in its cache (loaded in protected mode, not reloaded): unreal mode
  mov eax, [fs:dword 0x123456]
  PRINT " unreal fs:[0x123456]="
  HEX32 eax
  PRINT " fs="
  mov ax, fs
  HEX16 eax
  PRINT NL
  ; reloading FS in real mode keeps the limit (only base and selector change in real mode)
  xor ax, ax
  mov fs, ax
  mov eax, [fs:dword 0x123456]
  PRINT "after mov fs, 0: fs:[0x123456]="
  HEX32 eax
  PRINT NL
  ; DS has a 64 KiB limit: an access beyond it is #GP
  mov dword [resume], R(after_gp) + ROMBASE
  mov eax, [dword 0x123456]
after_gp:
  PRINT "done", NL
  EXIT 0
real_idtr:
  dw 0x3FF
  dd 0
ROM_END
