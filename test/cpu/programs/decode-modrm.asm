; Every ModRM form of 16-bit addressing (mod 0-2 × r/m 0-7) and every ModRM/SIB form of 32-bit
; addressing (mod 0-2 × r/m 0-7, and for r/m 4 every SIB byte: 8 bases × 8 indexes × 4 scales),
; computed with LEA from an instruction built in RAM and called: registers hold distinct powers
; so the printed effective address shows which ones were used, displacements are negative
; (sign extension) and 16-bit sums wrap at 64 KiB. Also loads through a few forms, the
; address-size prefix in both directions, and a segment-override on each form's default segment.
%include "harness.inc"
STUB16 equ 0x7800          ; real-mode stub at 0000:7800
STUB32 equ 0x20000
main:
  ; ---- 16-bit forms in real mode: "m16 <modrm> ea=<LEA result>" for mod 0-2, r/m 0-7 (reg 0)
  xor bp, bp
.modrm16:
  ; build: 8D modrm [disp8 0x80 | disp16 0x8765] CB (retf)
  mov di, STUB16
  mov byte [di], 0x8D
  mov ax, bp
  mov [di + 1], al
  add di, 2
  mov cl, al
  shr cl, 6                 ; mod
  and al, 7
  cmp cl, 1
  je .d8
  cmp cl, 2
  je .d16
  cmp al, 6                 ; mod 0, r/m 6: disp16 alone
  jne .nod
.d16:
  mov word [di], 0x8765
  add di, 2
  jmp .nod
.d8:
  mov byte [di], 0x80
  inc di
.nod:
  mov byte [di], 0xCB
  PRINT "m16 "
  HEX8 ebp
  push bp
  mov eax, 0xAAAA0000       ; upper halves must not take part
  mov ebx, 0x1111F000
  mov ecx, 0x22220000
  mov edx, 0x33330000
  mov esi, 0x44442345
  mov edi, 0x55550101
  mov ebp, 0x66668000
  call 0:STUB16
  pop bp
  PRINT " ea="
  HEX32 eax
  PRINT NL
  inc bp
  test bp, 0x08             ; r/m wrapped: next mod
  jz .modrm16
  add bp, 0x40 - 0x08
  cmp bp, 0xC0
  jb .modrm16

  ; loads through 16-bit forms, with wrap-around of the sum and segment defaults (BP → SS)
  mov ax, 0x1000
  mov ds, ax
  mov ax, 0x2000
  mov ss, ax
  mov sp, 0xFFF0
  mov word [0x0005], 0x1234          ; DS:0005
  mov word [ss:0x0005], 0x5678       ; SS:0005
  mov bx, 0xFFFF
  mov si, 6
  mov ax, [bx + si]                  ; (FFFF + 6) mod 64K = 5, DS
  PRINT "load [bx+si] wrap ds: "
  HEX16 eax
  mov bp, 0xFFFE
  mov ax, [bp + 7]                   ; SS
  PRINT " [bp+7] ss: "
  HEX16 eax
  mov ax, [ds:bp + 7]                ; DS override
  PRINT " ds:[bp+7]: "
  HEX16 eax
  mov di, 0x10
  mov ax, [ss:di - 0x0B]             ; SS override
  PRINT " ss:[di-0B]: "
  HEX16 eax
  mov ebx, 0x00000004
  mov ax, [ebx + 1]                  ; 32-bit addressing in real mode (67 prefix)
  PRINT " [ebx+1]: "
  HEX16 eax
  mov ebp, 0x00000003
  mov ax, [ebp + 2]                  ; 32-bit: EBP base → SS
  PRINT " [ebp+2] ss: "
  HEX16 eax
  PRINT NL
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, STACK_RM
  ENTER_PM32 pm

bits 32
; builds "8D modrm [sib] [disp] ; mov esp, [saved] ; ret" at STUB32 and runs it with distinct
; register values (ESP too); prints "m32 <modrm> [<sib>] ea=<result>"
; eax = modrm, ebx = sib (used when r/m = 4)
lea32:
  pushad
  mov edi, STUB32
  mov dword [edi], 0x89 | (0x25 << 8) | ((VARS + 40) << 16)     ; mov [VARS+40], esp
  mov byte [edi + 4], 0x00
  mov byte [edi + 5], 0x00
  mov byte [edi + 6], 0xBC                                      ; mov esp, imm32
  mov dword [edi + 7], 0x00800000
  add edi, 11
  mov byte [edi], 0x8D
  mov [edi + 1], al
  add edi, 2
  mov ecx, eax
  shr ecx, 6                  ; mod
  and eax, 7
  cmp eax, 4
  jne .nosib
  mov [edi], bl
  inc edi
  mov edx, ebx
  and edx, 7
  cmp edx, 5                  ; SIB base 5 with mod 0: disp32, no base
  jne .nosib
  test ecx, ecx
  jnz .nosib
  jmp .d32
.nosib:
  cmp ecx, 1
  je .d8
  cmp ecx, 2
  je .d32
  cmp eax, 5                  ; mod 0, r/m 5: disp32 alone
  jne .tail
.d32:
  mov dword [edi], 0x87654321
  add edi, 4
  jmp .tail
.d8:
  mov byte [edi], 0x80
  inc edi
.tail:
  mov word [edi], 0x258B                                        ; mov esp, [VARS+40]
  mov dword [edi + 2], VARS + 40
  mov byte [edi + 6], 0xC3                                      ; ret
  mov eax, 0x00000001
  mov ecx, 0x00000010
  mov edx, 0x00000100
  mov ebx, 0x00001000
  mov ebp, 0x00100000
  mov esi, 0x01000000
  mov edi, 0x10000000
  call STUB32
  mov [VARS + 44], eax
  popad
  PRINT "m32 "
  HEX8 eax
  and eax, 7
  cmp eax, 4
  jne .p
  PRINT " "
  HEX8 ebx
.p:
  PRINT " ea="
  HEX32 [VARS + 44]
  PRINT NL
  ret

pm:
  xor esi, esi                ; modrm with reg 0: mod 0..2, r/m 0..7
.m:
  mov eax, esi
  and eax, 7
  cmp eax, 4
  je .sib
  mov eax, esi
  call lea32
  jmp .next
.sib:
  xor ebx, ebx
.s:
  mov eax, esi
  call lea32
  inc ebx
  cmp ebx, 256
  jb .s
.next:
  inc esi
  test esi, 0x38
  jz .m
  add esi, 0x38               ; skip reg field values 1..7
  cmp esi, 0xC0
  jb .m

  ; 16-bit addressing in protected mode (67 prefix) and loads through SIB forms
  mov dword [0x30000], 0xCAFEBABE
  mov dword [0x3FFFC], 0x0BADF00D
  mov ebx, 0x30000
  mov ecx, 0x4000
  mov eax, [ebx + ecx * 4 - 0x10004 + 0x4000 - 0x4000 + 0xFFF8 + 0x4008]
  PRINT "load sib: "
  HEX32 eax
  mov ebx, 0xFFFF0000
  mov esi, 0x0000FFF0
  mov ax, [bx + si + 0x10]     ; a16: (0000 + FFF0 + 10) mod 64K = 0 → DS:0
  PRINT " a16 [bx+si+10]: "
  HEX16 eax
  mov esp, esp
  mov eax, [esp * 1 + 0]      ; ESP-based SIB uses SS
  mov ebp, esp
  mov eax, [ebp]
  PRINT NL
  PRINT "done", NL
  EXIT 0
ROM_END
