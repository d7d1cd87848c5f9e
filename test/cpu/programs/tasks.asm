; Hardware task switching: JMP and CALL to a TSS, IRET from a nested task (NT, back link, busy
; bits), INT through a task gate (from CPL0, and from CPL3 through a DPL3 gate), a double fault delivered through a task gate (the way Linux
; handles #DF), and the faults of bad task switches (busy TSS → #GP, TSS limit too small → #TS).
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
S_TSSB  equ 0x40
S_TSSC  equ 0x48
S_TSSD  equ 0x50
S_TSSX  equ 0x58        ; limit 0x60: too small
TSSB    equ 0x4000
TSSC    equ 0x4100
TSSD    equ 0x4200
TSSX    equ 0x4300

; MKTSS base, eip, esp: a flat ring-0 task with interrupts off
%macro MKTSS 3
  mov edi, %1
  xor eax, eax
  mov ecx, 0x68 / 4
  rep stosd
  mov dword [%1 + 0x20], %2          ; EIP
  mov dword [%1 + 0x24], 2           ; EFLAGS
  mov dword [%1 + 0x38], %3          ; ESP
  mov dword [%1 + 0x48], SEL_DATA0   ; ES
  mov dword [%1 + 0x4C], SEL_CODE0   ; CS
  mov dword [%1 + 0x50], SEL_DATA0   ; SS
  mov dword [%1 + 0x54], SEL_DATA0   ; DS
  mov dword [%1 + 0x58], SEL_DATA0   ; FS
  mov dword [%1 + 0x5C], SEL_DATA0   ; GS
  mov word [%1 + 0x66], 0x68         ; no I/O bitmap
%endmacro

; prints TR, NT, the back link of the current TSS, and the busy bits of the four TSS descriptors
show_task:
  pushad
  PRINT " tr="
  str eax
  HEX16 eax
  pushfd
  pop eax
  shr eax, 14
  and eax, 1
  PRINT " nt="
  HEX8 eax
  str ebx
  and ebx, 0xFFF8
  mov ecx, [GDT_BASE + ebx + 2]
  and ecx, 0xFFFFFF
  PRINT " link="
  HEX16 [ecx]
  PRINT " busy="
  mov eax, [GDT_BASE + SEL_TSS0 + 4]
  shr eax, 9
  and eax, 1
  HEX8 eax
  mov eax, [GDT_BASE + S_TSSB + 4]
  shr eax, 9
  and eax, 1
  HEX8 eax
  mov eax, [GDT_BASE + S_TSSC + 4]
  shr eax, 9
  and eax, 1
  HEX8 eax
  mov eax, [GDT_BASE + S_TSSD + 4]
  shr eax, 9
  and eax, 1
  HEX8 eax
  PRINT NL
  popad
  ret

pm:
  MKTSS TSSB, task_b, 0x70000
  MKTSS TSSC, task_c, 0x6F000
  MKTSS TSSD, task_d, 0x6E000
  MKTSS TSSX, task_b, 0x6D000
  SETDESC S_TSSB, TSSB, 0x67, ACC_TSS, 0
  SETDESC S_TSSC, TSSC, 0x67, ACC_TSS, 0
  SETDESC S_TSSD, TSSD, 0x67, ACC_TSS, 0
  SETDESC S_TSSX, TSSX, 0x60, ACC_TSS, 0
  SETGATE 0x50, 0, S_TSSC, GATE_TASK
  SETGATE 8, 0, S_TSSD, GATE_TASK
  PRINT "task A"
  call show_task

  ; JMP to a TSS: no nesting; task B jumps back
  mov eax, 0xA0A0A0A0
  mov ebx, 0xB0B0B0B0
  jmp S_TSSB:0
after_jmp:
  PRINT "A after jmp: eax="
  HEX32 eax
  call show_task

  ; CALL to a TSS: nested, B returns with IRET
  mov dword [TSSB + 0x20], task_b_nested
  mov dword [TSSB + 0x38], 0x70000
  call S_TSSB:0
  PRINT "A after call"
  call show_task

  ; INT through a task gate
  int 0x50
  PRINT "A after int 0x50"
  call show_task

  ; INT through a DPL3 task gate from CPL3: the task switch saves ring-3 state in TSS A; task C
  ; returns with IRET into ring 3
  SETGATE 0x51, 0, S_TSSC, GATE_TASK + GATE_DPL3
  TO_RING3
  mov eax, 0x33333333
  int 0x51
  PRINT "A (ring 3) after int 0x51: cs="
  push eax
  mov eax, cs
  HEX16 eax
  pop eax
  SHOW "eax", eax
  PRINT NL
  CASE "int 0x50 from ring 3 (gate DPL0)", {int 0x50}
  TO_RING0

  ; bad switches
  CASE "jmp to busy TSS (self)", {jmp SEL_TSS0:0}
  CASE "call TSS with limit 0x60", {call S_TSSX:0}
  or byte [GDT_BASE + S_TSSB + 5], 2     ; mark B busy
  CASE "call busy TSS", {call S_TSSB:0}
  and byte [GDT_BASE + S_TSSB + 5], ~2

  ; double fault through a task gate: the #GP gate is not present, so the #GP on the load
  ; below raises #NP while delivering it, which makes a #DF
  and byte [IDT_BASE + 13 * 8 + 5], 0x7F
  mov ax, 0x400
df_here:
  mov ds, ax
df_resume:
  PRINT "A after double fault"
  call show_task
  PRINT "done", NL
  EXIT 0

task_b:
  PRINT "task B: eax="
  HEX32 eax
  call show_task
  PRINT "  saved in A's TSS: eip="
  HEX32 [TSS0_BASE + 0x20]
  PRINT " eax="
  HEX32 [TSS0_BASE + 0x28]
  PRINT " ebx="
  HEX32 [TSS0_BASE + 0x34]
  PRINT NL
  mov eax, 0x12345678
  jmp SEL_TSS0:0

task_b_nested:
  PRINT "task B nested"
  call show_task
  iretd
  PRINT "unreachable", NL
  EXIT 2

task_c:
  PRINT "task C (task gate)"
  call show_task
  iretd
  jmp task_c

task_d:
  PRINT "task D (double fault): error code on stack="
  pop eax
  HEX32 eax
  PRINT " A's eip="
  mov eax, [TSS0_BASE + 0x20]
  cmp eax, df_here
  jne .other
  PRINT "df_here"
.other:
  call show_task
  or byte [IDT_BASE + 13 * 8 + 5], 0x80
  mov dword [TSS0_BASE + 0x20], df_resume
  iretd
  jmp task_d
ROM_END
