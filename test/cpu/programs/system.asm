; System instructions: LAR LSL VERR VERW ARPL on many descriptor kinds, SGDT/SIDT/SLDT/STR/SMSW,
; LMSW, CLTS, MOV to/from CR0/CR2/CR3/CR4 and DR0-DR7, RDMSR/WRMSR of the SYSENTER MSRs, SYSENTER
; and SYSEXIT (CPL0 → CPL3 → CPL0), CPUID (only that it runs and reports family 6: the other
; values differ between CPU models), RDTSC monotonic.
; Flags: LAR/LSL/VERR/VERW/ARPL define ZF only (the others are unchanged: all printed). LAR's
; result bits 16-19 are undefined (SDM) and masked in `probe`.
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1),
; and QEMU 7.2 hangs on a MOV to CR4 that sets a reserved bit (the SDM says #GP(0)).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
S_CONF  equ 0x40        ; conforming code DPL0
S_XO3   equ 0x48        ; execute-only code DPL3
S_RO3   equ 0x50        ; read-only data DPL3
S_NP    equ 0x58        ; data, not present
S_LDTD  equ 0x60        ; LDT descriptor
S_GATE  equ 0x68        ; call gate DPL3
S_INT   equ 0x70        ; interrupt gate in the GDT (not valid for LAR)
S_TSS16 equ 0x78        ; 16-bit TSS
S_SYSCS equ 0x80        ; SYSENTER CS; +8 SS, +16 user CS (DPL3), +24 user SS
%macro LOAD_PG_NO_PE 0
  mov ebx, cr0
  and ebx, ~1
  or ebx, eax
  mov cr0, ebx
%endmacro
pm:
  SETDESC S_CONF, 0, 0xFFFFF, 0x9F, 0xC
  SETDESC S_XO3, 0x1000, 0x1234, 0xF9, 0x4
  SETDESC S_RO3, 0x2000, 0xABCDE, 0xF1, 0x8
  SETDESC S_NP, 0, 0xFFF, 0x13, 0x0
  SETDESC S_LDTD, 0x5000, 0xF, 0x82, 0x0
  mov dword [GDT_BASE + S_GATE], SEL_CODE0 << 16
  mov dword [GDT_BASE + S_GATE + 4], 0xEC00
  mov dword [GDT_BASE + S_INT], SEL_CODE0 << 16
  mov dword [GDT_BASE + S_INT + 4], 0x8E00
  SETDESC S_TSS16, 0x4000, 0x2B, 0x81, 0x0
  SETDESC S_SYSCS, 0, 0xFFFFF, ACC_CODE0, 0xC
  SETDESC S_SYSCS + 8, 0, 0xFFFFF, ACC_DATA0, 0xC
  SETDESC S_SYSCS + 16, 0, 0xFFFFF, ACC_CODE3, 0xC
  SETDESC S_SYSCS + 24, 0, 0xFFFFF, ACC_DATA3, 0xC

  PRINT "-- lar/lsl/verr/verw", NL
%macro PROBE 1
  mov ebx, %1
  call probe
%endmacro
  PROBE 0
  PROBE SEL_CODE0
  PROBE SEL_DATA0
  PROBE SEL_CODE16
  PROBE SEL_CODE3
  PROBE SEL_DATA3
  PROBE SEL_TSS0
  PROBE S_CONF
  PROBE S_XO3 | 3
  PROBE S_RO3 | 3
  PROBE S_NP
  PROBE S_LDTD
  PROBE S_GATE
  PROBE S_INT
  PROBE S_TSS16
  PROBE 0x1F8
  PROBE 0x400            ; beyond the GDT limit
  PROBE 0x0C             ; LDT selector with no LDT
  PRINT "at cpl3:", NL
  TO_RING3
  PROBE SEL_CODE0
  PROBE SEL_DATA0
  PROBE SEL_DATA0 | 3
  PROBE SEL_DATA3
  PROBE S_CONF
  PROBE S_XO3 | 3
  PROBE S_RO3
  PROBE SEL_TSS0
  PROBE S_GATE
  TO_RING0

  PRINT "-- arpl", NL
%macro ARPLT 2
  mov ax, %1
  mov bx, %2
  push dword 0x8D7 & ~0x40 & ~0x400
  popfd
  arpl ax, bx
  pushfd
  PRINT "arpl "
  HEX16 %1
  PRINT ","
  HEX16 %2
  PRINT " -> "
  HEX16 eax
  pop eax
  and eax, 0x8D5
  PRINT " fl="
  HEX16 eax
  PRINT NL
%endmacro
  ARPLT 0x0010, 0x0003
  ARPLT 0x0013, 0x0001
  ARPLT 0x0012, 0x0002
  ARPLT 0xFFF8, 0x0003
  mov word [0x20000], 0x0008
  mov bx, 0x0002
  arpl [0x20000], bx
  PRINT "arpl mem -> "
  HEX16 [0x20000]
  PRINT NL

  PRINT "-- descriptor tables", NL
  sgdt [0x20000]
  sidt [0x20008]
  PRINT "sgdt "
  HEX16 [0x20000]
  PRINT ":"
  HEX32 [0x20002]
  PRINT " sidt "
  HEX16 [0x20008]
  PRINT ":"
  HEX32 [0x2000A]
  mov ax, S_LDTD
  lldt ax
  sldt eax
  PRINT " sldt "
  HEX16 eax
  str eax
  PRINT " str "
  HEX16 eax
  xor eax, eax
  lldt ax
  PRINT NL

  PRINT "-- control registers", NL
  mov eax, cr0
  and eax, ~0x60000000        ; CD/NW: their reset value is model-specific in emulators
  SHOW "cr0", eax
  smsw eax
  and eax, 0xFFFF
  SHOW "smsw", eax
  mov ebx, cr0
  or ebx, 8                   ; TS
  mov cr0, ebx
  smsw eax
  and eax, 0xF
  SHOW "ts set", eax
  clts
  smsw eax
  and eax, 0xF
  SHOW "after clts", eax
  mov ax, 0x000E              ; LMSW cannot clear PE; sets MP EM TS
  lmsw ax
  smsw eax
  and eax, 0xF
  SHOW "lmsw 0e", eax
  mov ax, 0x0000
  lmsw ax
  smsw eax
  and eax, 0xF
  SHOW "lmsw 0 (PE stays)", eax
  PRINT NL
  mov eax, 0x12345000
  mov cr2, eax
  mov eax, cr2
  SHOW "cr2", eax
  mov eax, 0x00ABC018
  mov cr3, eax
  mov eax, cr3
  SHOW "cr3", eax
  xor eax, eax
  mov cr3, eax
  mov eax, 0x10
  mov cr4, eax
  mov eax, cr4
  SHOW "cr4", eax
  xor eax, eax
  mov cr4, eax
  PRINT NL
  CASE "mov cr1", {db 0x0F, 0x20, 0xC8}
  CASE "mov cr5", {db 0x0F, 0x20, 0xE8}
  mov eax, 0x80000000
  CASE "cr4 reserved bit 31", {mov cr4, eax}
  mov eax, 0x80000000
  CASE "cr0 PG without PE", {LOAD_PG_NO_PE}
  mov eax, 0x12345678
  mov dr0, eax
  mov eax, 0x9ABCDEF0
  mov dr3, eax
  mov eax, dr0
  SHOW "dr0", eax
  mov eax, dr3
  SHOW "dr3", eax
  mov eax, dr7
  SHOW "dr7", eax
  mov eax, dr6
  and eax, 0xF
  SHOW "dr6 low", eax
  PRINT NL
  TO_RING3
  CASE "cpl3 mov eax, cr0", {mov eax, cr0}
  CASE "cpl3 mov dr7", {mov eax, dr7}
  CASE "cpl3 clts", {clts}
  CASE "cpl3 lmsw", {lmsw ax}
  CASE "cpl3 smsw", {smsw ax}
  CASE "cpl3 lgdt", {lgdt [0x20000]}
  CASE "cpl3 sgdt", {sgdt [0x20000]}
  CASE "cpl3 invlpg", {invlpg [0]}
  CASE "cpl3 rdmsr", {rdmsr}
  CASE "cpl3 hlt", {hlt}
  TO_RING0

  PRINT "-- msr and sysenter", NL
  mov ecx, 0x174
  xor edx, edx
  mov eax, S_SYSCS
  wrmsr
  mov ecx, 0x175
  mov eax, 0x8F000
  wrmsr
  mov ecx, 0x176
  mov eax, sysenter_entry
  wrmsr
  mov ecx, 0x174
  rdmsr
  SHOW "cs msr", eax
  mov ecx, 0x175
  rdmsr
  SHOW "esp msr", eax
  mov ecx, 0x176
  rdmsr
  cmp eax, sysenter_entry
  sete al
  movzx eax, al
  SHOW "eip msr ok", eax
  PRINT NL
  mov ecx, 0x1234567
  CASE "rdmsr unknown", {rdmsr}
  TO_RING3
  mov ecx, 0x70000            ; user stack for SYSEXIT
  mov edx, after_sysexit
  sysenter
after_sysexit:
  PRINT "back in ring 3 after sysexit: cs="
  mov eax, cs
  HEX16 eax
  PRINT " ss="
  mov eax, ss
  HEX16 eax
  SHOW "esp", esp
  PRINT NL
  TO_RING0
  xor eax, eax
  mov ecx, 0x174
  xor edx, edx
  wrmsr
  CASE "sysenter with cs msr 0", {sysenter}

  PRINT "-- cpuid, rdtsc", NL
  xor eax, eax
  cpuid
  mov esi, eax
  PRINT "max leaf >= 1: "
  cmp esi, 1
  setae al
  movzx eax, al
  HEX8 eax
  mov eax, 1
  cpuid
  shr eax, 8
  and eax, 0xF
  PRINT " family="
  HEX8 eax
  PRINT NL
  rdtsc
  mov esi, eax
  mov edi, edx
  rdtsc
  sub eax, esi
  sbb edx, edi
  PRINT "rdtsc monotonic: "
  setnc al
  movzx eax, al
  HEX8 eax
  PRINT NL
  PRINT "done", NL
  EXIT 0

sysenter_entry:
  PRINT "sysenter: cs="
  push eax
  mov eax, cs
  HEX16 eax
  PRINT " ss="
  mov eax, ss
  HEX16 eax
  pop eax
  SHOW "esp", esp
  pushfd
  pop eax
  and eax, 0x200
  SHOW "if", eax
  PRINT NL
  sysexit

; ebx = selector: "sel xxxx lar=… z lsl=… z verr z verw z"
probe:
  pushad
  PRINT "sel "
  HEX16 ebx
  mov eax, 0xDEADBEEF
  push dword 0x8D7 & ~0x40 & ~0x400
  popfd
  lar eax, ebx
  pushfd
  jnz .larfail
  and eax, 0xFFF0FFFF         ; LAR: bits 16-19 are undefined (SDM: mask 00FxFF00H)
.larfail:
  popfd
  call .result
  mov eax, 0xDEADBEEF
  lsl eax, ebx
  call .result
  verr bx
  call .zf
  verw bx
  call .zf
  PRINT NL
  popad
  ret
.result:
  pushfd
  PRINT " "
  HEX32 eax
  pop eax
  push eax
  and eax, 0x8D5
  PRINT "/"
  HEX16 eax
  popfd
  ret
.zf:
  pushfd
  pop eax
  push eax
  and eax, 0x8D5
  PRINT " "
  HEX16 eax
  popfd
  ret

ROM_END
