; Virtual-8086 mode: entered with IRETD (VM=1), 16-bit code in the ROM at F000, IOPL 0 then 3.
; IOPL 0: PUSHF/POPF/CLI/STI/INT n/IRET fault (#GP(0)) to the 32-bit monitor with a v86 frame
; (ES DS FS GS pushed); I/O goes through the TSS bitmap; HLT and privileged instructions #GP.
; IOPL 3: the same instructions run; INT n goes through a DPL3 interrupt gate to the monitor.
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
V86_SS equ 0x6000
pm:
  SETGATE 0x40, v86_int, SEL_CODE0, GATE_INT + GATE_DPL3
  SETGATE 0x41, v86_int, SEL_CODE0, GATE_INT
  mov dword [exc_hook], leave_on_hlt
  mov ebx, 0                  ; IOPL 0
  mov dword [v86_cont], after1
  jmp enter_v86
after1:
  PRINT "monitor: back from v86 (iopl 0)", NL
  mov ebx, 0x3000             ; IOPL 3
  mov dword [v86_cont], after2
  jmp enter_v86
after2:
  PRINT "monitor: back from v86 (iopl 3)", NL
  PRINT "done", NL
  EXIT 0

v86_cont equ VARS + 32        ; (RAM)
; ebx = IOPL bits; enters v86_code at F000 with DS=ES=0, FS=0x1234, GS=0x5678, SS:SP=6000:FFF0
enter_v86:
  mov [saved_esp], esp
  push dword 0x5678           ; GS
  push dword 0x1234           ; FS
  push dword 0                ; DS
  push dword 0                ; ES
  push dword V86_SS           ; SS
  push dword 0xFFF0           ; ESP
  lea eax, [ebx + 0x20002]    ; EFLAGS: VM, IOPL
  push eax
  push dword 0xF000           ; CS
  push dword R(v86_code)      ; EIP
  iretd

; exception hook: a HLT in v86 returns to the monitor
leave_on_hlt:
  test dword [ebp + 48], 0x20000
  jz .no
  movzx eax, word [ebp + 44]
  shl eax, 4
  add eax, [ebp + 40]
  cmp byte [eax], 0xF4
  jne .no
  mov dword [resume], 0
  mov esp, [saved_esp]
  mov ax, SEL_DATA0
  mov ds, ax
  mov es, ax
  mov fs, ax
  mov gs, ax
  jmp [v86_cont]
.no:
  ret

; INT 0x40 from v86 at IOPL 3: the frame has EIP CS EFLAGS ESP SS ES DS FS GS
v86_int:
  push eax
  push ecx
  PRINT "monitor int: frame="
  xor ecx, ecx
.s:
  HEX32 [esp + 12 + ecx * 4]    ; (+4: HEX32 pushes EAX first)
  PRINT " "
  inc ecx
  cmp ecx, 9
  jb .s
  PRINT "ds="
  mov eax, ds
  HEX16 eax
  PRINT NL
  pop ecx
  pop eax
  iretd

bits 16
%macro CASE16 2
  PRINT %1, ": "
  mov dword [resume], %%done
  %2
  PRINT "ok", NL
  mov dword [resume], 0
%%done:
%endmacro
%macro PUSHF_POP 0
  pushf
  pop bx
%endmacro
%macro PUSHFD_POP 0
  pushfd
  pop ebx
%endmacro
%macro PUSH_POPF 0
  push word 0x0ED7
  popf
%endmacro
%macro IRET_TEST 0
  push word 0x0002
  push cs
  push word R(%%next)
  iret
%%next:
%endmacro
v86_code:
  PRINT "v86: cs="
  mov ax, cs
  HEX16 eax
  PRINT " ss="
  mov ax, ss
  HEX16 eax
  PRINT " sp="
  HEX16 esp
  PRINT " fs="
  mov ax, fs
  HEX16 eax
  PRINT " gs="
  mov ax, gs
  HEX16 eax
  PRINT NL
  mov ax, 0x1234
  CASE16 "pushf; pop", {PUSHF_POP}
  CASE16 "pushfd; pop", {PUSHFD_POP}
  CASE16 "push; popf", {PUSH_POPF}
  CASE16 "cli", {cli}
  CASE16 "sti", {sti}
  CASE16 "int 0x40", {int 0x40}
  CASE16 "int 0x41 (dpl0 gate)", {int 0x41}
  CASE16 "int3", {int3}
  CASE16 "out 0xE9 (bitmap allows)", {out 0xE9, al}
  CASE16 "out 0xE0 (bitmap denies)", {out 0xE0, al}
  CASE16 "mov cr0", {mov eax, cr0}
  CASE16 "lgdt", {lgdt [0]}
  mov bx, 0x0600
  mov ds, bx
  mov eax, [ds:0]             ; linear 0x6000: [resume]
  xor bx, bx
  mov ds, bx
  PRINT "read via ds=0600: "
  HEX32 eax
  PRINT NL
  CASE16 "32-bit address 0x10000 (beyond limit)", {mov al, [dword 0x10000]}
  CASE16 "iret", {IRET_TEST}
  PRINT "v86: leaving", NL
  hlt
ROM_END
