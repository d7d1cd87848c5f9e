; Control transfer and stack instructions: Jcc (short and near) for all 16 conditions over a set
; of flag images, LOOP/LOOPE/LOOPNE/JECXZ with 32- and 16-bit counters (address-size prefix),
; CALL/JMP direct, register and memory indirect, far through a memory pointer, RET imm16, ENTER
; with nesting levels 0-3 and LEAVE, PUSHAD/POPAD, PUSH ESP / POP ESP / POP [ESP+d], PUSH imm8
; sign extension, PUSH/POP segment registers, LSS/LFS/LGS/LDS/LES, 16-bit PUSH/POP with 66.
; No flags are masked: only instructions that define or keep all flags are printed with them.
; oracle: bochs — QEMU does not set RF in the EFLAGS image pushed for a fault (SDM 17.3.1.1).
%include "harness.inc"
main:
  ENTER_PM32 pm
bits 32
MEM equ 0x20000
flagimgs: dd 0x002, 0x003, 0x006, 0x042, 0x082, 0x802, 0x883, 0x8C3, 0x0C7, 0x846
%macro JCC 1
  mov ebx, %1
  call jcc_line
%endmacro
; prints " <cc>=" taken(1)/not(0) for every flag image; ebx = index of the condition
jcc_line:
  pushad
  PRINT "j"
  mov esi, [cc_names + ebx * 4]
.n:
  mov al, [esi]
  inc esi
  test al, al
  jz .e
  out 0xE9, al
  jmp .n
.e:
  PRINT ":"
  xor ecx, ecx
.img:
  push dword [flagimgs + ecx * 4]
  popfd
  mov eax, [jcc_short + ebx * 4]
  call eax                      ; returns AL = 1 if taken
  push eax
  mov eax, [jcc_near + ebx * 4]
  push dword [flagimgs + ecx * 4]
  popfd
  call eax
  mov edx, eax
  pop eax
  PRINT " "
  HEX8 eax
  cmp al, dl
  je .same
  PRINT "!"                     ; short and near forms disagree
.same:
  inc ecx
  cmp ecx, 10
  jb .img
  PRINT NL
  popad
  ret
%assign c 0
%rep 16
jshort_%+c:
  mov al, 1
  db 0x70 + c, 3                ; Jcc rel8 over the next instruction
  mov al, 0
  nop
  ret
jnear_%+c:
  mov al, 1
  db 0x0F, 0x80 + c
  dd 2                          ; Jcc rel32 over the next instruction
  mov al, 0
  ret
%assign c c + 1
%endrep
jcc_short:
%assign c 0
%rep 16
  dd jshort_%+c
%assign c c + 1
%endrep
jcc_near:
%assign c 0
%rep 16
  dd jnear_%+c
%assign c c + 1
%endrep
cc_names:
%assign c 0
%rep 16
  dd ccn_%+c
%assign c c + 1
%endrep
ccn_0: db "o", 0
ccn_1: db "no", 0
ccn_2: db "b", 0
ccn_3: db "ae", 0
ccn_4: db "e", 0
ccn_5: db "ne", 0
ccn_6: db "be", 0
ccn_7: db "a", 0
ccn_8: db "s", 0
ccn_9: db "ns", 0
ccn_10: db "p", 0
ccn_11: db "np", 0
ccn_12: db "l", 0
ccn_13: db "ge", 0
ccn_14: db "le", 0
ccn_15: db "g", 0

far_ptr: dd far_target
         dw SEL_CODE0
far_target:
  PRINT "far call through memory: cs="
  push eax
  mov eax, cs
  HEX16 eax
  pop eax
  PRINT NL
  retf

ret_imm:
  ret 8

pm:
  PRINT "-- jcc over flag images 002 003 006 042 082 802 883 8C3 0C7 846", NL
%assign c 0
%rep 16
  JCC c
%assign c c + 1
%endrep

  PRINT "-- loops", NL
  mov ecx, 5
  xor eax, eax
.l1:
  inc eax
  loop .l1
  PRINT "loop 5: eax="
  HEX32 eax
  SHOW "ecx", ecx
  PRINT NL
  mov ecx, 0x10002          ; a16: only CX counts: 2 iterations, upper half kept
  xor eax, eax
.l2:
  inc eax
  a16 loop .l2
  PRINT "a16 loop cx=2: eax="
  HEX32 eax
  SHOW "ecx", ecx
  PRINT NL
  mov ecx, 10
  xor eax, eax
.l3:
  inc eax
  cmp eax, 4
  loopne .l3
  PRINT "loopne until eax=4: eax="
  HEX32 eax
  SHOW "ecx", ecx
  PRINT NL
  mov ecx, 10
  xor eax, eax
.l4:
  inc eax
  test eax, 0                 ; ZF=1
  loope .l4
  PRINT "loope: eax="
  HEX32 eax
  SHOW "ecx", ecx
  PRINT NL
  mov ecx, 0x10000
  xor eax, eax
  a16 jcxz .z1
  mov al, 1
.z1:
  jecxz .z2
  or al, 2
.z2:
  PRINT "jcxz/jecxz with ecx=10000: "
  HEX8 eax
  PRINT NL

  PRINT "-- calls", NL
  mov dword [MEM], .c1
  call [MEM]
.c1:
  mov eax, .c2
  call eax
.c2:
  call far [far_ptr]
  mov esi, esp
  push dword 0x11111111
  push dword 0x22222222
  call ret_imm
  sub esi, esp
  PRINT "ret 8: esp restored: "
  HEX32 esi
  PRINT NL

  PRINT "-- enter/leave", NL
%macro ENTERT 2
  mov ebp, 0x12345678
  mov esi, esp
  enter %1, %2
  mov edi, esp
  PRINT "enter ", %str(%1), ",", %str(%2), ": frame="
  mov eax, esi
  sub eax, edi
  HEX32 eax
  PRINT " ebp-esp0="
  mov eax, esi
  sub eax, ebp
  HEX32 eax
  PRINT " [ebp]="
  HEX32 [ebp]
  PRINT NL
  leave
  cmp esp, esi
  je %%ok
  PRINT "leave did not restore esp", NL
%%ok:
%endmacro
  ENTERT 0, 0
  ENTERT 16, 0
  ENTERT 8, 1
  ENTERT 4, 3
  ; nesting level 3 copies two frame pointers from the old frame: build a chain first
  mov ebp, esp
  sub esp, 64
  mov dword [ebp - 4], 0xAAAA0001
  mov dword [ebp - 8], 0xAAAA0002
  mov esi, esp
  enter 0, 3
  PRINT "enter 0,3 copied: "
  HEX32 [esp + 4]
  PRINT " "
  HEX32 [esp + 8]
  PRINT NL
  leave
  add esp, 64

  PRINT "-- stack", NL
  mov esi, esp
  push esp
  pop eax
  sub esi, eax
  PRINT "push esp pushes the old value: "
  HEX32 esi
  PRINT NL
  mov esi, esp
  push dword 0x5555AAAA
  pop esp                     ; esp = popped value
  mov edi, esp
  mov esp, esi
  PRINT "pop esp: "
  HEX32 edi
  PRINT NL
  push dword 0x77777777
  push dword 0x66666666
  pop dword [esp]             ; address computed after the increment
  pop eax
  PRINT "pop [esp]: "
  HEX32 eax
  PRINT NL
  push byte -2
  pop eax
  PRINT "push byte -2: "
  HEX32 eax
  push word 0x1234
  pop bx
  PRINT " push word: "
  HEX16 ebx
  mov esi, esp
  push ds
  sub esi, esp
  pop ds
  PRINT " push ds size: "
  HEX8 esi
  mov esi, esp
  o16 push ds
  sub esi, esp
  o16 pop ds
  PRINT " o16 push ds size: "
  HEX8 esi
  PRINT NL
  mov eax, 0xA
  mov ecx, 0xC
  mov edx, 0xD
  mov ebx, 0xB
  mov ebp, 0xBB
  mov esi, 0x51
  mov edi, 0xD1
  mov [MEM + 64], esp
  pushad
  mov eax, [esp + 12]         ; the ESP pushed by PUSHAD: its value before the push
  sub eax, [MEM + 64]
  PRINT "pushad esp slot - esp: "
  HEX32 eax
  mov dword [esp + 12], 0     ; POPAD ignores the ESP slot
  xor eax, eax
  xor ebx, ebx
  popad
  PRINT " popad: "
  HEX32 eax
  PRINT " "
  HEX32 ebx
  SHOW "esp-ok", esp
  PRINT NL

  PRINT "-- far pointers", NL
  mov dword [MEM], 0x8FF00
  mov word [MEM + 4], SEL_DATA0
  lss esp, [MEM]
  mov eax, ss
  PRINT "lss: ss="
  HEX16 eax
  SHOW "esp", esp
  mov esp, [MEM + 64]
  mov dword [MEM], 0x1234
  mov word [MEM + 4], SEL_DATA3
  lfs eax, [MEM]
  mov ebx, fs
  PRINT " lfs: fs="
  HEX16 ebx
  SHOW "eax", eax
  mov word [MEM + 4], SEL_DATA0
  lgs ax, [MEM]
  mov ebx, gs
  PRINT " lgs16: gs="
  HEX16 ebx
  PRINT NL
  mov word [MEM + 4], 0x400
  CASE "les with bad selector", {les eax, [MEM]}
  mov ax, SEL_DATA0
  mov es, ax
  mov fs, ax
  mov gs, ax
  PRINT "done", NL
  EXIT 0
ROM_END
