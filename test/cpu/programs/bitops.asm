; Bit instructions and the rest of the integer group: BT BTS BTR BTC (register, immediate and
; memory bit strings with register offsets beyond the operand), BSF BSR, SETcc and CMOVcc for all
; 16 conditions, XADD, CMPXCHG (equal and not), CMPXCHG8B, BSWAP, CBW/CWDE/CWD/CDQ, MOVZX/MOVSX.
; Same line format as alu.asm (test/cpu/programs/kernels.inc). Flag masks (SDM):
;   BT*: CF only (OF SF AF PF undefined, ZF unchanged but undefined on input here: BT sets CF in
;   the driver, leaving the others undefined);  BSF/BSR: ZF only, and the destination is
;   undefined when the source is 0 (the kernel then shows UUUUUUUU);  SETcc/CMOVcc: flags come from
;   B (masked to the six arithmetic flags by flags_from_b) and are printed unchanged;
;   XADD/CMPXCHG: all six;  CMPXCHG8B: ZF (and CF, the only other flag defined on input);
;   BSWAP/CBW…/MOVZX/MOVSX: no flags (mask 0).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
%include "kernels.inc"
ARITH equ 0x8D5
undefined_result: dd 0x55555555  ; printed as UUUUUUUU below
flags_from_b:                    ; EFLAGS = B's six arithmetic-flag bits
  push ebx
  and dword [esp], 0x8D5
  or dword [esp], 2
  popfd
  ret
pm:
  K "bt r,r 32", 1, 64, bt eax, ebx
  K "bts r,r 32", 1, 64, bts eax, ebx
  K "btr r,r 16", 1, 64, btr ax, bx
  K "btc r,r 16", 1, 64, btc ax, bx
  K "bt r,i 32", 1, 8, bt eax, 31
  K "bts r,i 16", 1, 8, bts ax, 0x17
  KD "btr m,i 32", 1, 8, btr dword [MEMOP], 7
  KD "btc m,i 16", 1, 8, btc word [MEMOP], 15
  ; memory bit strings: the register offset selects a dword anywhere (here MEMOP-8..MEMOP+0x1000)
  KG "bts m,r (offset b & 0x7FFF - 64)", 1, 64, {call bitstring_setup}, {bts [MEMOP], ecx}, {call bitstring_result}
  KG "btr m,r16 (offset b & 0x7FFF - 64)", 1, 64, {call bitstring_setup}, {btr [MEMOP], cx}, {call bitstring_result}
  KG "bsf 32", 0x40, 64, {}, {bsf eax, ebx}, {cmovz eax, [undefined_result]}
  KG "bsr 32", 0x40, 64, {}, {bsr eax, ebx}, {cmovz eax, [undefined_result]}
  KG "bsf 16", 0x40, 64, {}, {bsf ax, bx}, {cmovz eax, [undefined_result]}
  KG "bsr 16 m", 0x40, 64, {mov [MEMOP], ebx}, {bsr ax, [MEMOP]}, {cmovz eax, [undefined_result]}
%macro CC 1
  KG {"set", %str(%1)}, ARITH, 8, {call flags_from_b}, {set%1 al}, {}
  KG {"cmov", %str(%1)}, ARITH, 8, {call flags_from_b}, {cmov%1 eax, ebx}, {}
%endmacro
  CC o
  CC no
  CC b
  CC ae
  CC e
  CC ne
  CC be
  CC a
  CC s
  CC ns
  CC p
  CC np
  CC l
  CC ge
  CC le
  CC g
  KG "setz m", ARITH, 8, {call flags_from_b}, {setz byte [MEMOP]}, {mov al, [MEMOP]}
  KG "cmovs 16 m", ARITH, 8, {call flags_from_b}, {cmovs ax, [vals + 4]}, {}
  KD "xadd m,r 32", ARITH, 64, xadd [MEMOP], ebx
  K "xadd r,r 8", ARITH, 8, xadd al, bl
  K "xadd r,r 16", ARITH, 8, xadd bx, ax
  KG "cmpxchg m,r 32 (eq)", ARITH, 8, {mov [MEMOP], eax}, {cmpxchg [MEMOP], ebx}, {mov ebx, [MEMOP]}
  KG "cmpxchg m,r 32 (ne)", ARITH, 8, {mov [MEMOP], ebx}, {cmpxchg [MEMOP], ecx}, {mov ebx, [MEMOP]}
  K "cmpxchg r,r 8", ARITH, 64, cmpxchg bl, cl
  K "cmpxchg r,r 16", ARITH, 8, cmpxchg bx, cx
  KG "cmpxchg8b eq", 0x41, 8, {call cx8_setup_eq}, {cmpxchg8b [MEMOP]}, {call cx8_result}
  KG "cmpxchg8b ne", 0x41, 8, {call cx8_setup_ne}, {cmpxchg8b [MEMOP]}, {call cx8_result}
  K "bswap eax", 0, 8, bswap eax
  K "bswap ebx", 0, 8, bswap ebx
  K "cbw", 0, 8, cbw
  K "cwde", 0, 8, cwde
  K "cwd", 0, 8, cwd
  KG "cdq", 0, 8, {}, {cdq}, {mov ebx, edx}
  K "movzx r32,r8", 0, 8, movzx eax, bl
  K "movsx r32,r8", 0, 8, movsx eax, bl
  K "movsx r32,r16", 0, 8, movsx eax, bx
  K "movzx r16,r8", 0, 8, movzx ax, bh
  KM "movsx r16,m8", 0, 8, movsx ax, byte [MEMOP]
  PRINT "done", NL
  EXIT 0

; ecx = (B & 0x7FFF) - 64 as a signed bit offset; the 4 KiB at MEMOP-8 are cleared first
bitstring_setup:
  push edi
  push eax
  push ecx
  mov edi, MEMOP - 8
  xor eax, eax
  mov ecx, 0x1008 / 4
  rep stosd
  pop ecx
  pop eax
  pop edi
  mov ecx, ebx
  and ecx, 0x7FFF
  sub ecx, 64
  bt ebp, 0                 ; carry in again (REP STOSD kept it, but be explicit)
  ret
; rb = the dword the bit landed in (its offset from MEMOP in the top half of EAX's print)
bitstring_result:
  pushfd
  push ecx
  movsx ecx, cx
  test dword [esp + 4 + 4 + 4], 0 ; (no-op, keeps the layout obvious)
  sar ecx, 3
  and ecx, ~3
  mov ebx, [MEMOP + ecx]
  pop ecx
  popfd
  ret
cx8_setup_eq:               ; memory = EDX:EAX = B:A, ECX:EBX = A:B
  mov edx, ebx
  mov [MEMOP], eax
  mov [MEMOP + 4], edx
  mov ecx, eax
  bt ebp, 0
  ret
cx8_setup_ne:
  mov edx, ebx
  mov [MEMOP], eax
  mov [MEMOP + 4], edx
  not dword [MEMOP + 4]
  mov ecx, eax
  bt ebp, 0
  ret
cx8_result:                 ; EBX = low dword of memory, EAX = EAX ^ EDX
  pushfd
  xor eax, edx
  mov ebx, [MEMOP]
  popfd
  ret
ROM_END
