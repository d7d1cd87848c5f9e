; Privilege changes: call gates with parameter copy (CPL3 → CPL0 and back with RETF n), gate DPL
; checks, interrupt and trap gates entered from CPL3 (stack switch, IF handling, IRET back),
; INT n / INT3 / INTO through DPL0 gates from CPL3 (#GP(vector*8+2)), conforming code, the I/O
; permission bitmap and IOPL, RETF to CPL3 nulling a DPL0 ES, IRET to CPL3 with bad selectors.
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
G_CALL3  equ 0x40       ; call gate DPL3 → cg_target, 2 dword parameters
G_CALL0  equ 0x48       ; call gate DPL0
S_CONF   equ 0x50       ; conforming code, DPL0
%macro ADD_INTO 0
  add eax, 1
  into
%endmacro
%macro NL_ 0
  PRINT NL
%endmacro
pm:
  ; mask the PICs so that IF=1 below cannot let a timer interrupt in (QEMU/Bochs have PICs)
  mov al, 0xFF
  out 0x21, al
  out 0xA1, al
  IOMAP_ALLOW 0x21
  IOMAP_ALLOW 0xA1
  mov eax, cg_target
  mov word [GDT_BASE + G_CALL3], ax
  mov word [GDT_BASE + G_CALL3 + 2], SEL_CODE0
  mov word [GDT_BASE + G_CALL3 + 4], 0xEC02      ; present, DPL3, 32-bit call gate, 2 params
  shr eax, 16
  mov word [GDT_BASE + G_CALL3 + 6], ax
  mov eax, [GDT_BASE + G_CALL3]
  mov [GDT_BASE + G_CALL0], eax
  mov eax, [GDT_BASE + G_CALL3 + 4]
  and eax, ~0x6000                                ; DPL0
  mov [GDT_BASE + G_CALL0 + 4], eax
  SETDESC S_CONF, 0, 0xFFFFF, 0x9F, 0xC           ; conforming readable code DPL0
  SETGATE 0x40, int_handler, SEL_CODE0, GATE_INT + GATE_DPL3
  SETGATE 0x41, int_handler, SEL_CODE0, GATE_TRAP + GATE_DPL3
  SETGATE 0x42, int_handler, SEL_CODE0, GATE_INT
  SETGATE 3, int_handler, SEL_CODE0, GATE_INT
  SETGATE 4, int_handler, SEL_CODE0, GATE_TRAP + GATE_DPL3
  sti
  TO_RING3
  PRINT "ring 3: cs="
  mov eax, cs
  HEX16 eax
  NL_
  push dword 0x1111
  push dword 0x2222
  CASE "call gate dpl3", {call G_CALL3:0}
  PRINT "  back: esp="
  HEX32 esp
  PRINT " ds="
  mov eax, ds
  HEX16 eax
  PRINT " es="
  mov eax, es
  HEX16 eax
  NL_
  mov ax, SEL_DATA3
  mov es, ax
  CASE "call gate dpl0", {call G_CALL0:0}
  CASE "int 0x40 (interrupt gate dpl3)", {int 0x40}
  CASE "int 0x41 (trap gate dpl3)", {int 0x41}
  CASE "int 0x42 (gate dpl0)", {int 0x42}
  CASE "int3 (gate dpl0)", {int3}
  CASE "int 3 (cd 03, gate dpl0)", {int 3}
  mov eax, 0x7FFFFFFF
  CASE "into with OF (trap gate dpl3)", {ADD_INTO}
  CASE "into without OF", {ADD_INTO}
  CASE "conforming call", {call S_CONF:conf_target}
  CASE "cli at iopl0", {cli}
  CASE "out 0xE9 (allowed in bitmap)", {out 0xE9, al}
  CASE "out 0xE0 (denied)", {out 0xE0, al}
  CASE "in from 0x21 (allowed)", {in al, 0x21}
  mov dx, 0xE9
  CASE "out word 0xE9 (0xEA denied)", {out dx, ax}
  mov dx, 0x8900 - 1
  CASE "in dword 0x88FF (denied)", {in eax, dx}
  TO_RING0
  ; IRET to CPL3 with bad selectors on the stack
%macro IRET_TO 2          ; cs, ss
  push dword %2
  push dword STACK3
  push dword 2
  push dword %1
  push dword iret_target
  iretd
%endmacro
  mov [saved_esp], esp
  CASE "iret to cs rpl3, ss rpl0", {IRET_TO SEL_CODE3, SEL_DATA3 & ~3}
  mov esp, [saved_esp]
  CASE "iret to dpl3 code with rpl0", {IRET_TO SEL_CODE3 & ~3, SEL_DATA0}
  mov esp, [saved_esp]
  CASE "iret to data segment as cs", {IRET_TO SEL_DATA3, SEL_DATA3}
  mov esp, [saved_esp]
  CASE "iret to ss dpl0 rpl3", {IRET_TO SEL_CODE3, SEL_DATA0 | 3}
  mov esp, [saved_esp]
  ; IOPL 3: everything allowed at CPL3
  pushfd
  or dword [esp], 0x3000
  popfd
  TO_RING3
  CASE "iopl3: out 0xE0", {out 0xE0, al}
  CASE "iopl3: cli", {cli}
  CASE "iopl3: sti", {sti}
  TO_RING0
  PRINT "done", NL
  EXIT 0


; called through the call gates: prints the new stack (eip cs p2 p1 esp ss) and returns to CPL3
cg_target:
  PRINT "in gate: cs="
  push eax
  mov eax, cs
  HEX16 eax
  pop eax
  PRINT " stack="
  push ecx
  xor ecx, ecx
.s:
  HEX32 [esp + 8 + ecx * 4]     ; (+4: HEX32 pushes EAX first)
  PRINT " "
  inc ecx
  cmp ecx, 6
  jb .s
  pop ecx
  PRINT NL
  push eax
  mov ax, SEL_DATA0         ; a DPL0 segment in ES: RETF to CPL3 must null it
  mov es, ax
  pop eax
  retf 8

; INT handlers: print the frame and IF inside the handler, IRET back
int_handler:
  push eax
  PRINT "in handler: if="
  pushfd
  pop eax
  shr eax, 9
  and eax, 1
  HEX8 eax
  PRINT " frame="
  push ecx
  xor ecx, ecx
.s:
  HEX32 [esp + 12 + ecx * 4]    ; (+4: HEX32 pushes EAX first)
  PRINT " "
  inc ecx
  cmp ecx, 5
  jb .s
  pop ecx
  PRINT NL
  pop eax
  iretd

iret_target:
  PRINT "iret_target reached (unexpected)", NL
  EXIT 4
conf_target:
  PRINT "conforming: cs="
  push eax
  mov eax, cs
  HEX16 eax
  pop eax
  PRINT NL
  retf
ROM_END
