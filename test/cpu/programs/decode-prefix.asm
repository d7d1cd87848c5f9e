; Decoding edge cases: the 15-byte instruction limit (#GP(0) when exceeded, counted with prefixes),
; repeated prefixes of one kind, LOCK on lockable and non-lockable instructions (#UD), and
; undefined or invalid encodings (#UD): UD2, 0F FF, FE/FF with invalid /r, 8F /1, C6 /1, LEA/LES/
; BOUND/CMPXCHG8B with a register operand, MOV to CS, MOV to segment register 6/7, the SSE/SSSE3
; escapes this CPU does not have.
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
MEM equ 0x20000
%macro ADD_LONG 1   ; %1 prefixes (DS overrides) + add dword [MEM], 0x11111111 (10 bytes)
  times %1 db 0x3E
  add dword [MEM], 0x11111111
%endmacro
%macro NOP_LONG 1
  times %1 db 0x66
  nop
%endmacro
%macro TWO_66 0
  db 0x66, 0x66
  mov eax, 0x12345678       ; decoded as mov ax, 0x5678 followed by 2 bytes 34 12 (xor al, 0x12)
%endmacro
%macro TWO_67 0
  db 0x67, 0x67
  mov eax, [0x5678]         ; 16-bit address 0x5678 (the two bytes 34 12 are then executed: xor al, 0x12)
%endmacro
pm:
  mov dword [MEM], 0
  mov dword [0x5678], 0xFEEDF00D
  PRINT "-- length", NL
  CASE "15 bytes (14 prefixes + nop)", {NOP_LONG 14}
  CASE "16 bytes (15 prefixes + nop)", {NOP_LONG 15}
  CASE "15 bytes (5 prefixes + add m32, i32)", {ADD_LONG 5}
  CASE "16 bytes (6 prefixes + add m32, i32)", {ADD_LONG 6}
  PRINT "mem="
  HEX32 [MEM]
  PRINT NL
  PRINT "-- repeated prefixes", NL
  xor eax, eax
  TWO_66
  PRINT "66 66 mov: eax="
  HEX32 eax
  PRINT NL
  xor eax, eax
  TWO_67
  PRINT "67 67 mov: eax="
  HEX32 eax
  PRINT NL
  mov eax, 0x1234
  db 0x3E, 0x3E, 0x3E, 0x2E    ; several overrides of the same kind... the last is CS
  mov ebx, [0x5678]
  PRINT "3E 3E 3E 2E mov (cs = flat): "
  HEX32 ebx
  PRINT NL
  mov ecx, 3
  mov edi, MEM
  xor eax, eax
  db 0xF3, 0xF3
  stosd
  PRINT "F3 F3 stosd: ecx="
  HEX32 ecx
  PRINT NL
  PRINT "-- lock", NL
  CASE "lock add [m], r", {lock add [MEM], eax}
  CASE "lock xchg [m], r", {lock xchg [MEM], eax}
  CASE "lock bts [m], i", {lock bts dword [MEM], 3}
  CASE "lock cmpxchg8b", {lock cmpxchg8b [MEM]}
  CASE "lock inc [m]", {lock inc dword [MEM]}
  CASE "lock not [m]", {lock not dword [MEM]}
  CASE "lock add r, r", {db 0xF0, 0x01, 0xC3}
  CASE "lock add r, [m] (02 form)", {db 0xF0, 0x03, 0x05, 0x00, 0x00, 0x02, 0x00}
  CASE "lock mov [m], r", {db 0xF0, 0x89, 0x05, 0x00, 0x00, 0x02, 0x00}
  CASE "lock nop", {db 0xF0, 0x90}
  CASE "lock cmp [m], r", {db 0xF0, 0x39, 0x05, 0x00, 0x00, 0x02, 0x00}
  CASE "lock bt [m], r", {db 0xF0, 0x0F, 0xA3, 0x05, 0x00, 0x00, 0x02, 0x00}
  CASE "lock test [m], i", {db 0xF0, 0xF7, 0x05, 0x00, 0x00, 0x02, 0x00, 1, 0, 0, 0}
  CASE "lock movsb", {db 0xF0, 0xA4}
  mov esi, MEM
  mov edi, MEM + 4
  PRINT "-- undefined", NL
  CASE "ud2", {ud2}
  CASE "0F FF", {db 0x0F, 0xFF}
  CASE "0F 0B with prefix", {db 0x66, 0x0F, 0x0B}
  CASE "FE /2", {db 0xFE, 0xD0}
  CASE "FE /7", {db 0xFE, 0xF8}
  CASE "FF /7", {db 0xFF, 0xF8}
  CASE "FF /3 register (far call r)", {db 0xFF, 0xD8}
  CASE "FF /5 register (far jmp r)", {db 0xFF, 0xE8}
  CASE "8F /1", {db 0x8F, 0xC8}
  CASE "C6 /1", {db 0xC6, 0xC8, 0x00}
  CASE "lea r, r", {db 0x8D, 0xC0}
  CASE "les r, r", {db 0xC4, 0xC0}
  CASE "lds r, r", {db 0xC5, 0xC0}
  CASE "bound r, r", {db 0x62, 0xC0}
  CASE "cmpxchg8b r", {db 0x0F, 0xC7, 0xC8}
  CASE "mov cs, ax", {db 0x8E, 0xC8}
  CASE "mov sreg6, ax", {db 0x8E, 0xF0}
  CASE "mov ax, sreg7", {db 0x8C, 0xF8}
  CASE "0F 38 (ssse3 escape)", {db 0x0F, 0x38, 0x00, 0xC0}
  CASE "0F 01 /5 register", {db 0x0F, 0x01, 0xE8}
  CASE "0F 00 /6", {db 0x0F, 0x00, 0xF0}
  CASE "0F A6 (old cmpxchg)", {db 0x0F, 0xA6, 0xC0}
  CASE "0F 0E (femms)", {db 0x0F, 0x0E}
  CASE "0F 24 (mov tr)", {db 0x0F, 0x24, 0xC0}
  CASE "0F 37 (getsec)", {db 0x0F, 0x37}
  CASE "0F 05 (syscall)", {db 0x0F, 0x05}
  CASE "0F 07 (sysret)", {db 0x0F, 0x07}
  CASE "0F 78 (vmread)", {db 0x0F, 0x78, 0xC0}
  CASE "0F FF prefixed", {db 0xF3, 0x0F, 0xFF}
  PRINT "done", NL
  EXIT 0
ROM_END
