; CPU-bound benchmark ROM: switches to 32-bit protected mode and runs a mix of integer work
; (a sieve of Eratosthenes, a byte checksum, calls and returns, a multiply/divide loop),
; then prints a result line on port 0xE9 and exits through port 0xF4.
; Build: nasm -f bin cpubench.asm -o cpubench.bin
bits 16
org 0xf0000
start:
  cli
  lgdt [cs:gdtr - 0xf0000]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp dword 0x08:pm
bits 32
pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x90000
  mov ebp, 40              ; rounds
round:
  ; sieve over 64 KiB at 0x100000
  mov edi, 0x100000
  mov ecx, 65536 / 4
  mov eax, 0x01010101
  rep stosd
  mov ebx, 2
.outer:
  cmp byte [0x100000 + ebx], 0
  je .next
  mov eax, ebx
  imul eax, ebx
  cmp eax, 65536
  jae .sieved
.inner:
  mov byte [0x100000 + eax], 0
  add eax, ebx
  cmp eax, 65536
  jb .inner
.next:
  inc ebx
  jmp .outer
.sieved:
  ; count primes with a checksum loop
  xor esi, esi
  xor edx, edx
.count:
  movzx eax, byte [0x100000 + esi]
  add edx, eax
  call mix
  inc esi
  cmp esi, 65536
  jb .count
  ; multiply/divide loop
  mov ecx, 20000
  mov eax, 12345
.md:
  imul eax, eax, 1103515245
  add eax, 12345
  push eax
  xor edx, edx
  mov ebx, 1000
  div ebx
  pop eax
  loop .md
  dec ebp
  jnz round
  mov al, 'o'
  out 0xe9, al
  mov al, 'k'
  out 0xe9, al
  mov al, 10
  out 0xe9, al
  mov al, 0
  out 0xf4, al
  cli
  hlt
mix:
  mov eax, edx
  shl eax, 3
  xor eax, esi
  ret
align 8
gdt: dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
gdtr: dw 23
  dd gdt
times 0xfff0 - ($ - $$) db 0
  db 0xea
  dw start - 0xf0000
  dw 0xf000
times 0x10000 - ($ - $$) db 0
