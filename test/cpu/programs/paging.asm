; Paging: 4 KiB pages and a 4 MiB PSE page, accessed/dirty bits, #PF error codes and CR2 for
; not-present / protection / user / write faults from CPL0 and CPL3, CR0.WP, INVLPG after a PTE
; change, CR4.PGE and the G bit, a page-crossing access, a REP MOVSB that faults in the middle and
; restarts where it stopped once the page is mapped.
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
PD   equ 0x100000
PT0  equ 0x101000           ; maps 0..4 MiB
PTE  equ PT0                ; PTE of linear page n: [PT0 + n*4]
%define PTE_OF(lin) (PT0 + ((lin) >> 12) * 4)
T_NP   equ 0x200000         ; not present
T_RO   equ 0x201000         ; read-only, user
T_SUP  equ 0x202000         ; supervisor, writable
T_USR  equ 0x203000         ; user, writable
T_MOVE equ 0x204000         ; remapped with INVLPG
T_GLB  equ 0x205000         ; global
BIG    equ 0x400000         ; 4 MiB page → physical 0x800000

; prints the low 12 bits of a PTE/PDE as "name=xxx"
%macro SHOWPTE 2
  PRINT " ", %1, "="
  mov eax, [%2]
  and eax, 0xFFF
  HEX16 eax
%endmacro

; #PF hook: shows the string registers at the fault, maps T_NP to T_MOVE's frame, flushes it
map_on_pf:
  cmp dword [ebp + 32], 14
  jne .done
  PRINT "  at fault: ecx="
  HEX32 [ebp + 24]
  PRINT " esi="
  HEX32 [ebp + 4]
  PRINT " edi="
  HEX32 [ebp + 0]
  PRINT NL
  mov dword [PTE_OF(T_NP)], (T_MOVE + 0x1000) | 7
  invlpg [T_NP]
.done:
  ret

pm:
  ; page directory: entry 0 → PT0 (user, writable), entry 1 → 4 MiB page at 8 MiB (user, writable)
  mov edi, PD
  xor eax, eax
  mov ecx, 1024
  rep stosd
  mov dword [PD + 0], PT0 | 7
  mov dword [PD + 4], 0x800000 | 0x87
  ; identity-map 0..4 MiB, user and writable (accessed/dirty clear)
  mov edi, PT0
  mov eax, 7
  mov ecx, 1024
.map:
  stosd
  add eax, 0x1000
  loop .map
  mov dword [PTE_OF(T_NP)], 0
  and dword [PTE_OF(T_RO)], ~2
  and dword [PTE_OF(T_SUP)], ~4
  mov dword [T_RO], 0x11111111
  mov dword [T_SUP], 0x22222222
  mov dword [T_USR], 0x33333333
  mov dword [T_MOVE], 0x44444444
  mov dword [T_MOVE + 0x1000], 0x55555555    ; the frame T_MOVE is remapped to
  mov dword [0x800000 + 0x1234], 0x66666666
  mov eax, cr4
  or eax, 0x10 | 0x80         ; PSE, PGE
  mov cr4, eax
  mov eax, PD
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  PRINT "paging on", NL
  mov eax, cr0
  SHOW "cr0", eax
  mov eax, cr3
  SHOW "cr3", eax
  mov eax, cr4
  SHOW "cr4", eax
  PRINT NL

  PRINT "-- accessed/dirty", NL
  PRINT "before:"
  SHOWPTE "usr", PTE_OF(T_USR)
  SHOWPTE "pde0", PD
  PRINT NL
  mov eax, [T_USR]
  PRINT "after read:"
  SHOWPTE "usr", PTE_OF(T_USR)
  SHOWPTE "pde0", PD
  PRINT NL
  mov [T_USR], eax
  PRINT "after write:"
  SHOWPTE "usr", PTE_OF(T_USR)
  PRINT NL
  mov eax, [BIG + 0x1234]
  PRINT "4M page read "
  HEX32 eax
  SHOWPTE "pde1", PD + 4
  PRINT NL
  mov [BIG + 0x1238], eax
  PRINT "4M page write"
  SHOWPTE "pde1", PD + 4
  PRINT " phys="
  HEX32 [BIG + 0x1238]
  PRINT NL

  PRINT "-- faults at cpl0", NL
  CASE "read not present", {mov eax, [T_NP + 0x10]}
  CASE "write not present", {mov [T_NP + 0x20], eax}
  CASE "write read-only, wp=0", {mov [T_RO], eax}
  mov eax, cr0
  or eax, 0x10000
  mov cr0, eax
  CASE "write read-only, wp=1", {mov dword [T_RO + 4], 0}
  CASE "read supervisor", {mov eax, [T_SUP]}
  CASE "dword across into not-present", {mov eax, [T_NP - 2]}
  CASE "jump to not-present", {call T_NP + 0x30}
  CASE "4M page beyond (pde 2 not present)", {mov eax, [0x800000]}

  PRINT "-- faults at cpl3", NL
  TO_RING3
  CASE "user read user", {mov eax, [T_USR]}
  CASE "user write user", {mov [T_USR], eax}
  CASE "user read read-only", {mov eax, [T_RO]}
  CASE "user write read-only", {mov [T_RO + 8], eax}
  CASE "user read supervisor", {mov eax, [T_SUP]}
  CASE "user write supervisor", {mov [T_SUP], eax}
  CASE "user read not present", {mov eax, [T_NP]}
  CASE "user write not present", {mov [T_NP], eax}
  TO_RING0

  PRINT "-- invlpg", NL
  mov eax, [T_MOVE]
  PRINT "before "
  HEX32 eax
  PRINT NL
  add dword [PTE_OF(T_MOVE)], 0x1000
  invlpg [T_MOVE]
  mov eax, [T_MOVE]
  PRINT "after remap + invlpg "
  HEX32 eax
  PRINT NL
  mov dword [PTE_OF(T_NP)], T_USR | 7
  invlpg [T_NP]
  CASE "not-present page mapped + invlpg", {mov eax, [T_NP]}
  PRINT "  read "
  HEX32 eax
  PRINT NL

  PRINT "-- rep movsb into a not-present page: #PF mid-instruction, restart after the fix", NL
  mov dword [PTE_OF(T_NP)], 0
  invlpg [T_NP]
  mov dword [exc_hook], map_on_pf
  mov dword [resume], RETRY
  mov dword [T_USR + 0x108], 0xA1B2C3D4
  mov esi, T_USR + 0x100
  mov edi, T_NP - 8
  mov ecx, 20
  cld
  rep movsb
  mov dword [resume], 0
  mov dword [exc_hook], 0
  PRINT "done: ecx="
  HEX32 ecx
  SHOW "esi", esi
  SHOW "edi", edi
  SHOW "[T_NP]", [T_NP]
  PRINT NL

  PRINT "-- global page", NL
  or dword [PTE_OF(T_GLB)], 0x100
  mov dword [T_GLB], 0x77777777
  mov eax, [T_GLB]
  mov eax, cr4
  PRINT "pge="
  shr eax, 7
  and eax, 1
  HEX8 eax
  SHOWPTE "glb", PTE_OF(T_GLB)
  PRINT NL
  ; turning paging off and on again, and clearing CR4.PGE, flush everything
  mov eax, cr4
  and eax, ~0x80
  mov cr4, eax
  PRINT "pge off: cr4="
  mov eax, cr4
  HEX32 eax
  PRINT NL
  mov eax, cr0
  and eax, 0x7FFFFFFF
  mov cr0, eax
  PRINT "paging off: read 0x200000 phys="
  HEX32 [T_NP]
  PRINT NL
  PRINT "done", NL
  EXIT 0
ROM_END
