; Protected-mode segmentation: selector loads that fault (#GP/#SS/#NP with their error codes),
; segment limits (normal and expand-down, data and stack), read-only/execute-only rights, null
; selectors, LDT selectors, far transfers to bad targets.
; oracle: bochs — QEMU 7.2 TCG does not check segment limits on data accesses, and does not set RF
; in the EFLAGS image pushed for a fault (SDM 17.3.1.1); Bochs does both as the SDM says.
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
S_RO    equ 0x40   ; read-only data, limit 0xFFF
S_LIM   equ 0x48   ; writable data, base 0x20000, limit 0xFFF (byte granular)
S_NP    equ 0x50   ; not present data
S_XO    equ 0x58   ; execute-only code
S_RX    equ 0x60   ; readable code, base 0x20000
S_DN    equ 0x68   ; expand-down writable data, limit 0xFFF, base 0x30000 (valid offsets 0x1000..0xFFFF)
S_D3    equ 0x70   ; DPL3 data
S_SSNP  equ 0x78   ; writable data, not present (for SS)
S_LDT   equ 0x80   ; LDT descriptor (base 0x5000, 4 entries)
S_CNP   equ 0x88   ; code, not present
S_BIGDN equ 0x90   ; flat data with the accessed bit clear
S_DN16  equ 0x98   ; expand-down stack, limit 0x7FFF, B=0, base 0x40000
LDT_BASE equ 0x5000
pm:
  SETDESC S_RO, 0x20000, 0xFFF, 0x91, 0x4
  SETDESC S_LIM, 0x20000, 0xFFF, 0x93, 0x4
  SETDESC S_NP, 0x20000, 0xFFF, 0x13, 0x4
  SETDESC S_XO, 0x20000, 0xFFF, 0x99, 0x4
  SETDESC S_RX, 0x20000, 0xFFF, 0x9B, 0x4
  SETDESC S_DN, 0x30000, 0xFFF, 0x97, 0x0
  SETDESC S_D3, 0, 0xFFFFF, 0xF3, 0xC
  SETDESC S_SSNP, 0x20000, 0xFFF, 0x13, 0x4
  SETDESC S_LDT, LDT_BASE, 31, 0x82, 0x0
  SETDESC S_CNP, 0, 0xFFFFF, 0x1B, 0xC
  SETDESC S_DN16, 0x40000, 0x7FFF, 0x97, 0x0
  ; the LDT: entry 1 = flat data, entry 2 = not present
  mov dword [LDT_BASE + 8], DESC_LO(0, 0xFFFFF)
  mov dword [LDT_BASE + 12], DESC_HI(0, 0xFFFFF, 0x93, 0xC)
  mov dword [LDT_BASE + 16], DESC_LO(0, 0xFFFFF)
  mov dword [LDT_BASE + 20], DESC_HI(0, 0xFFFFF, 0x13, 0xC)
  mov dword [0x20000], 0x11223344
  mov dword [0x20FFC], 0x55667788
  mov dword [0x30FFC], 0x99AABBCC
  mov dword [0x31000], 0xDDEEFF00

  PRINT "-- loads", NL
  xor ax, ax
  CASE "es=null load", {mov es, ax}
  CASE "es=null read", {mov eax, [es:0]}
  mov bx, 3
  CASE "es=3 (null, rpl 3) load", {mov es, bx}
  CASE "es=3 read", {mov eax, [es:0]}
  mov ax, 0x400
  CASE "ds=beyond gdt", {mov ds, ax}
  mov ax, S_NP
  CASE "ds=not present", {mov ds, ax}
  mov ax, S_XO
  CASE "ds=execute-only", {mov ds, ax}
  mov ax, S_RX
  CASE "ds=readable code", {mov fs, ax}
  CASE "fs read code seg", {mov eax, [fs:0]}
  CASE "fs write code seg", {mov [fs:0], eax}
  mov ax, SEL_TSS0
  CASE "ds=tss", {mov gs, ax}
  mov ax, S_D3 | 3
  CASE "gs=dpl3 data rpl3", {mov gs, ax}
  mov ax, S_RO
  CASE "ss=read-only", {mov ss, ax}
  xor ax, ax
  CASE "ss=null", {mov ss, ax}
  mov ax, S_D3 | 3
  CASE "ss=dpl3 rpl3 at cpl0", {mov ss, ax}
  mov ax, S_SSNP
  CASE "ss=not present", {mov ss, ax}
  mov ax, S_LDT
  lldt ax
  mov ax, 0x0C            ; LDT entry 1
  CASE "ds=ldt flat", {mov gs, ax}
  CASE "gs read", {mov eax, [gs:0x20000]}
  mov ax, 0x14            ; LDT entry 2, not present
  CASE "ds=ldt not present", {mov gs, ax}
  mov ax, 0x24            ; beyond LDT limit
  CASE "ds=beyond ldt", {mov gs, ax}
  mov ax, SEL_DATA0
  mov gs, ax

  ; loading a descriptor sets its accessed bit in the GDT
  SETDESC S_BIGDN, 0, 0xFFFFF, 0x92, 0xC      ; data, accessed bit clear
  PRINT "access byte before load="
  HEX8 [GDT_BASE + S_BIGDN + 5]
  mov ax, S_BIGDN
  mov gs, ax
  PRINT " after="
  HEX8 [GDT_BASE + S_BIGDN + 5]
  PRINT NL
  mov ax, SEL_DATA0
  mov gs, ax

  PRINT "-- limits", NL
  mov ax, S_LIM
  mov es, ax
  CASE "read 0xFFC dword", {mov eax, [es:0xFFC]}
  CASE "read 0xFFD dword", {mov eax, [es:0xFFD]}
  CASE "read 0xFFF byte", {mov al, [es:0xFFF]}
  CASE "read 0x1000 byte", {mov al, [es:0x1000]}
  CASE "write 0xFFE word", {mov [es:0xFFE], ax}
  CASE "write 0xFFF word", {mov [es:0xFFF], ax}
  CASE "read 0xFFFFFFFF", {mov al, [es:0xFFFFFFFF]}
  mov ax, S_RO
  mov es, ax
  CASE "write read-only", {mov [es:0], al}
  CASE "read read-only", {mov eax, [es:0]}
  mov ax, S_DN
  mov es, ax
  CASE "expand-down read 0x1000", {mov eax, [es:0x1000]}
  CASE "expand-down read 0xFFF", {mov al, [es:0xFFF]}
  CASE "expand-down read 0xFFFE dword", {mov eax, [es:0xFFFE]}
  CASE "expand-down read 0xFFFC dword", {mov eax, [es:0xFFFC]}
  CASE "expand-down read 0x10000", {mov al, [es:0x10000]}
  CASE "expand-down read 0", {mov al, [es:0]}
  ; a stack segment with a limit (expand-down, valid 0x8000..0xFFFF): the handler runs on this
  ; same stack, so the stack pointer stays well inside it
  mov [saved_esp], esp
  mov ax, S_DN16
  mov ss, ax
  mov esp, 0xFF00
  CASE "ss read 0x8000", {mov eax, [ss:0x8000]}
  CASE "ss read 0x7FFF", {mov al, [ss:0x7FFF]}
  CASE "ss read 0xFFFE dword", {mov eax, [ss:0xFFFE]}
  mov ebp, 0x7FF0
  CASE "[ebp] below limit", {mov eax, [ebp]}
  CASE "push inside", {push eax}
  pop eax
  mov ax, SEL_DATA0
  mov ss, ax
  mov esp, [saved_esp]
  mov ax, S_LIM
  mov es, ax
  mov ax, SEL_DATA0
  mov ds, ax

  PRINT "-- transfers", NL
  CASE "jmp far to data", {jmp SEL_DATA0:0}
  CASE "call far not present", {call S_CNP:0}
  CASE "jmp far null", {jmp 0:0}
  CASE "jmp far beyond limit", {jmp S_RX:0x1000}
  CASE "jmp far ok, back", {call SEL_CODE0:back}
  mov ax, SEL_DATA0
  mov es, ax
  PRINT "done", NL
  EXIT 0
back:
  retf
ROM_END
