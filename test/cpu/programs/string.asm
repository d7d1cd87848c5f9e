; String instructions (MOVS STOS LODS CMPS SCAS, byte/word/dword) with REP/REPE/REPNE, both
; directions, counts 0/1/n, segment overrides on the source, the address-size prefix (SI/DI/CX,
; including 16-bit index wrap-around), in 32-bit protected mode and in real mode.
; Line: "<case> esi=… edi=… ecx=… eax=… fl=… dst=<32 bytes of the destination area>".
; Flags: all six arithmetic flags and DF are defined after these (CMPS/SCAS as CMP; the others
; change none), so nothing is masked.
%include "harness.inc"
SRC  equ 0x30000
DST  equ 0x31000
SEL_FS equ SEL_FREE      ; data segment based at 0x100 (so an FS: override reads other bytes)

main:
  ; a short real-mode part first: source DS:SI = 3000:0000, destination ES:DI = 3100:0000
  call fill16
  mov ax, SRC >> 4
  mov ds, ax
  mov ax, DST >> 4
  mov es, ax
  xor si, si
  mov di, 0x10
  mov cx, 5
  cld
  rep movsw
  call show16
  mov si, 0x20
  mov di, 0x1F
  mov cx, 7
  std
  rep movsb
  call show16
  cld
  mov si, 4
  mov di, 4
  mov cx, 20
  repe cmpsb                ; source and destination now equal up to the copied part
  call show16
  mov al, 0x2C
  xor di, di
  mov cx, 40
  repne scasb
  call show16
  xor ax, ax
  mov ds, ax
  mov es, ax
  ENTER_PM32 pm

bits 16
fill16:                     ; source bytes i*7+3, destination cleared (linear, DS=ES=0 → use 32-bit)
  push ax
  push es
  push edi
  push ecx
  mov ax, SRC >> 4
  mov es, ax
  xor di, di
  mov cx, 256
  mov al, 3
.f:
  stosb
  add al, 7
  loop .f
  mov ax, DST >> 4
  mov es, ax
  xor di, di
  mov cx, 256
  xor al, al
  rep stosb
  pop ecx
  pop edi
  pop es
  pop ax
  ret
show16:
  pushf
  push eax
  push ebx
  PRINT "rm"
  SHOW "esi", esi
  SHOW "edi", edi
  SHOW "ecx", ecx
  SHOW "eax", eax
  mov bp, sp
  mov ax, [bp + 8]
  and ax, 0xCD5
  PRINT " fl="
  HEX16 eax
  PRINT " dst="
  xor bx, bx
.d:
  mov al, [es:bx]
  HEX8 eax
  inc bx
  cmp bx, 32
  jb .d
  PRINT NL
  pop ebx
  pop eax
  popf
  ret

bits 32
fill32:
  pushad
  mov edi, SRC
  mov ecx, 0x10000
  mov al, 3
.f:
  stosb
  add al, 7
  loop .f
  mov edi, DST
  mov ecx, 256
  xor al, al
  rep stosb
  popad
  ret

; STR name, esi, edi, ecx, eax, df (cld/std), {instruction}: runs it on fresh buffers and shows
; the registers, flags and the first 32 bytes of the destination area.
%macro STR 7
  call fill32
  PRINT %1
  push dword 0x8D7 & ~0x400   ; flags in: OF SF ZF AF PF CF set
  popfd
  mov esi, %2
  mov edi, %3
  mov ecx, %4
  mov eax, %5
  %6
  %7
  call show32
%endmacro

show32:
  pushfd
  SHOW "esi", esi
  SHOW "edi", edi
  SHOW "ecx", ecx
  SHOW "eax", eax
  push eax
  mov eax, [esp + 4]
  and eax, 0xCD5
  PRINT " fl="
  HEX16 eax
  PRINT " dst="
  push ebx
  xor ebx, ebx
.d:
  HEX8 [DST + ebx]
  inc ebx
  cmp ebx, 32
  jb .d
  PRINT NL
  pop ebx
  pop eax
  popfd
  cld
  ret

pm:
  SETDESC SEL_FS, 0x100, 0xFFFFF, ACC_DATA0, 0xC
  mov ax, SEL_FS
  mov fs, ax
  STR "movsb", SRC, DST, 0, 0, cld, movsb
  STR "rep movsb n=0", SRC, DST, 0, 0, cld, rep movsb
  STR "rep movsb n=1", SRC, DST, 1, 0, cld, rep movsb
  STR "rep movsb n=9", SRC, DST, 9, 0, cld, rep movsb
  STR "rep movsw n=5", SRC + 1, DST + 2, 5, 0, cld, rep movsw
  STR "rep movsd n=3", SRC, DST, 3, 0, cld, rep movsd
  STR "rep movsd back", SRC + 12, DST + 20, 4, 0, std, rep movsd
  STR "rep movsb back", SRC + 10, DST + 31, 11, 0, std, rep movsb
  STR "fs rep movsb", SRC - 0x100, DST, 6, 0, cld, {fs rep movsb}
  STR "es movsw", SRC, DST, 0, 0, cld, {es movsw}
  STR "ss lodsd", SRC + 8, DST, 0, 0, cld, {ss lodsd}
  STR "fs lodsw", SRC - 0x100 + 6, DST, 0, 0, cld, {fs lodsw}
  STR "rep lodsb n=4", SRC, DST, 4, 0, cld, rep lodsb
  STR "rep stosb n=7", SRC, DST + 3, 7, 0x5A, cld, rep stosb
  STR "rep stosw back", SRC, DST + 16, 5, 0x1234, std, rep stosw
  STR "rep stosd", SRC, DST, 2, 0xDEADBEEF, cld, rep stosd
  STR "cmpsb eq", SRC, SRC, 0, 0, cld, cmpsb
  STR "cmpsd ne", SRC, SRC + 4, 0, 0, cld, cmpsd
  STR "repe cmpsb n=0", SRC, SRC + 1, 0, 0, cld, repe cmpsb
  STR "repe cmpsb all eq", SRC, SRC + 0x100, 10, 0, cld, repe cmpsb
  STR "repe cmpsb stop", SRC, SRC + 0x100, 300, 0, cld, repe cmpsb
  STR "repne cmpsw", SRC, DST, 8, 0, cld, repne cmpsw
  STR "repe cmpsd back", SRC + 16, SRC + 0x100 + 16, 3, 0, std, repe cmpsd
  STR "repne scasb found", SRC, SRC, 100, 0x2C, cld, repne scasb
  STR "repne scasb not", SRC, SRC, 10, 0x01, cld, repne scasb
  STR "repe scasb", SRC, DST, 40, 0, cld, repe scasb
  STR "repe scasw back", SRC, DST + 20, 6, 0, std, repe scasw
  STR "scasd", SRC, SRC + 4, 0, 0x2A231C15, cld, scasd
  STR "fs cmpsb", SRC - 0x100, SRC, 0, 0, cld, {fs cmpsb}
  ; address-size prefix: SI/DI/CX only; the upper halves are ignored and kept
  STR "a16 rep movsb", 0xABCD0000 | (SRC & 0xFFFF), 0x12340000 | (DST & 0xFFFF), 0x77770004, 0, cld, {a16 rep movsb}
  STR "a16 movsw wrap", 0xFFFF, DST, 0, 0, cld, {a16 movsw}
  STR "a16 rep stosb wrap", 0, 0xFFFE, 4, 0x66, cld, {a16 rep stosb}
  STR "a16 rep stosb back wrap", 0, 0x0001, 4, 0x77, std, {a16 rep stosb}
  STR "a16 repne scasb", 0, SRC & 0xFFFF, 0x10020, 0x2C, cld, {a16 repne scasb}
  ; the bytes the wrapped stores wrote at 0xFFFE/0xFFFF/0x0000/0x0001
  PRINT "wrap bytes="
  HEX32 [0xFFFC]
  PRINT " "
  HEX32 [0x0000]
  PRINT NL
  ; LOCK on a string instruction is #UD — in decode tests; REP on non-string ops is ignored:
  STR "rep add (ignored)", SRC, DST, 5, 1, cld, {db 0xF3 %+ , 0x83, 0xC0, 0x01}
  PRINT "done", NL
  EXIT 0
ROM_END
