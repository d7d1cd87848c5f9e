; Traps and the debug machinery: single-step (#DB after each instruction while TF=1, DR6.BS, the
; instruction after POPF that sets TF, MOV SS delaying the trap), an instruction breakpoint (a
; fault: the handler sets RF to go on), a data write breakpoint (a trap after the write), INT3
; (#BP, trap), INTO (#OF), BOUND (#BR, fault), alignment check (#AC(0) at CPL3 with CR0.AM and
; EFLAGS.AC) and no #AC at CPL0.
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1) and
; does not implement alignment checking (#AC).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
MEM equ 0x20000
; exception hook: prints DR6 for #DB, clears it, and sets RF for an instruction breakpoint
db_hook:
  cmp dword [ebp + 32], 1
  jne .done
  mov eax, dr6
  and eax, 0x400F            ; BS and B0..B3
  PRINT "   dr6="
  HEX16 eax
  PRINT NL
  test eax, 1                ; B0: the instruction breakpoint (a fault): resume with RF
  jz .clear
  or dword [ebp + 48], 0x10000
.clear:
  xor eax, eax
  mov dr6, eax
.done:
  ret
%macro TF_ON 0
  pushfd
  or dword [esp], 0x100
  popfd
%endmacro
%macro TF_OFF 0
  pushfd
  and dword [esp], ~0x100
  popfd
%endmacro
%macro PUSH_ODD 0
  dec esp
  push eax
%endmacro
pm:
  mov dword [exc_hook], db_hook
  xor eax, eax
  mov dr6, eax
  PRINT "-- single step", NL
  mov dword [resume], RETRY
  TF_ON
  nop
  mov eax, 1
  inc eax
  mov dx, SEL_DATA0
  mov ss, dx                 ; MOV SS: no trap until after the next instruction
  nop
  TF_OFF
  mov dword [resume], 0
  PRINT "after single step eax="
  HEX32 eax
  PRINT NL

  PRINT "-- instruction breakpoint", NL
  mov eax, bp_here
  mov dr0, eax
  mov eax, 0x00000001        ; L0, execute, length 1
  mov dr7, eax
  mov dword [resume], RETRY
  mov ebx, 5
bp_here:
  add ebx, 1                 ; #DB before this, once (RF set by the hook)
  add ebx, 1
  mov dword [resume], 0
  xor eax, eax
  mov dr7, eax
  PRINT "ebx="
  HEX32 ebx
  PRINT NL

  PRINT "-- data breakpoint", NL
  mov eax, MEM + 8
  mov dr1, eax
  mov eax, 0x00D00004        ; L1, RW1 = write, LEN1 = 4 bytes
  mov dr7, eax
  mov dword [resume], RETRY
  mov dword [MEM], 1         ; no hit
  mov dword [MEM + 8], 2     ; hit: trap after the write
  mov eax, [MEM + 8]         ; reads don't hit a write breakpoint
  mov byte [MEM + 10], 3     ; a byte inside the range hits
  mov dword [resume], 0
  xor eax, eax
  mov dr7, eax
  PRINT "mem="
  HEX32 [MEM + 8]
  PRINT NL

  PRINT "-- int3, into, bound", NL
  mov dword [resume], RETRY
  PRINT "int3: "
  int3
  PRINT "into, OF=1: "
  mov eax, 0x7FFFFFFF
  add eax, 1
  into
  PRINT "into, OF=0: no trap", NL
  into
  mov dword [resume], 0
  mov dword [MEM], 10
  mov dword [MEM + 4], 20
  mov eax, 15
  CASE "bound 15 in 10..20", {bound eax, [MEM]}
  mov eax, 21
  CASE "bound 21 in 10..20", {bound eax, [MEM]}
  mov eax, 9
  CASE "bound 9 in 10..20", {bound eax, [MEM]}
  mov ax, 0x8000
  mov word [MEM], 0x8000
  mov word [MEM + 2], 0x7FFF
  CASE "bound16 0x8000 in 0x8000..0x7FFF", {bound ax, [MEM]}

  PRINT "-- alignment check", NL
  mov eax, cr0
  or eax, 0x40000            ; AM
  mov cr0, eax
  pushfd
  or dword [esp], 0x40000    ; AC
  popfd
  CASE "cpl0 misaligned dword", {mov eax, [MEM + 1]}
  TO_RING3
  CASE "cpl3 aligned dword", {mov eax, [MEM + 4]}
  CASE "cpl3 misaligned dword", {mov eax, [MEM + 1]}
  CASE "cpl3 misaligned word", {mov ax, [MEM + 3]}
  CASE "cpl3 word at 2", {mov ax, [MEM + 2]}
  CASE "cpl3 misaligned push", {PUSH_ODD}
  TO_RING0
  PRINT "done", NL
  EXIT 0
ROM_END
