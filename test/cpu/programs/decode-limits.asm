; Segment limits and wrap-around in real mode (limits 0xFFFF): a word or dword access at offset
; 0xFFFF/0xFFFE crosses the limit → #GP(0) for DS/ES (the SDM's real-address-mode exceptions),
; #SS(0) for SS; a byte at 0xFFFF is fine; 16-bit address sums wrap; executing past CS:FFFF
; (after a one-byte instruction there) is #GP, as is an instruction that straddles the limit; PUSH with SP = 0
; wraps to 0xFFFE; PUSH with SP = 1 faults and, with no stack to deliver #SS on, shuts down.
; oracle: bochs — QEMU 7.2 TCG does not check real-mode segment limits (it wraps or reads past
; 0xFFFF) and does not set RF in fault frames (SDM 17.3.1.1); Bochs follows the SDM.
%include "harness.inc"
CODESEG equ 0x2000
main:
  mov ax, 0x1000
  mov es, ax
  mov byte [es:0xFFFF], 0xAB
  mov byte [es:0x0000], 0xCD
  CASE "es byte 0xFFFF", {mov al, [es:0xFFFF]}
  CASE "es word 0xFFFF", {mov ax, [es:0xFFFF]}
  CASE "es dword 0xFFFD", {mov eax, [es:0xFFFD]}
  CASE "es dword 0xFFFC", {mov eax, [es:0xFFFC]}
  CASE "es write word 0xFFFF", {mov [es:0xFFFF], ax}
  mov bx, 0xFFFF
  mov si, 1
  CASE "es [bx+si] (wraps to 0)", {mov al, [es:bx + si]}
  PRINT "  al="
  HEX8 eax
  PRINT NL
  CASE "es [ebx+esi] 32-bit sum 0x10000", {mov al, [es:ebx + esi]}
  ; stack segment
  mov bp, 0xFFFF
  CASE "ss word [bp] at 0xFFFF", {mov ax, [bp]}
  CASE "ss byte [bp] at 0xFFFF", {mov al, [bp]}
  mov [saved_esp], esp
  mov ax, 0x3000
  mov ss, ax
  mov sp, 0
  CASE "push with sp=0 (wraps)", {push word 0x4321}
  mov bx, sp
  movzx ecx, word [ss:0xFFFE]
  PRINT "  sp="
  HEX16 ebx
  PRINT " [ss:fffe]="
  HEX16 ecx
  PRINT NL
  xor ax, ax
  mov ss, ax
  mov esp, [saved_esp]
  ; IP wrap-around: a NOP at CODESEG:FFFF, then execution continues at CODESEG:0000
  mov ax, CODESEG
  mov es, ax
  mov byte [es:0xFFFF], 0x90                 ; nop
  mov byte [es:0x0000], 0xEA                 ; jmp far F000:R(wrapped)
  mov word [es:0x0001], R(wrapped)
  mov word [es:0x0003], 0xF000
  TRY wrapped
  jmp CODESEG:0xFFFF
wrapped:
  PRINT "after executing past ffff", NL
  ; an instruction straddling the CS limit: 2-byte "mov al, 0x55" at FFFF
  mov byte [es:0xFFFF], 0xB0
  mov byte [es:0x0000], 0x55
  PRINT "straddling instruction: "
  TRY straddle_done
  jmp CODESEG:0xFFFF
straddle_done:
  ; last: PUSH with SP = 1 is #SS, and delivering it pushes on the same stack: #SS again, #DF,
  ; then shutdown (the run ends with a triple fault)
  PRINT "push with sp=1: "
  mov ax, 0x3000
  mov ss, ax
  mov sp, 1
  push ax
  PRINT "not reached", NL
  EXIT 3
ROM_END
