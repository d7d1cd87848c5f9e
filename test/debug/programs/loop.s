# A bare-metal program for the GDB stub test, booted from a floppy by soulvm's BIOS: it enters
# 32-bit protected mode with paging (the first 4 MiB identity-mapped and mapped again at 4 MiB,
# nothing above), then calls tick() until the debugger sets go_home, prints DONE on COM1 and
# halts with interrupts off. Build: ./build.sh (GNU as and ld; the outputs are committed).
.code16
.globl _start
_start:
  cli
  xor %ax, %ax
  mov %ax, %ds
  mov %ax, %ss
  mov $0x7c00, %sp
  lgdtl gdt_desc
  mov %cr0, %eax
  or $1, %eax
  mov %eax, %cr0
  ljmpl $0x08, $pm32
.code32
pm32:
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov %ax, %fs
  mov %ax, %gs
  mov $0x90000, %esp
  # Page directory at 1000h, one page table at 2000h mapping 0-4 MiB, used for 4-8 MiB too.
  mov $0x1000, %edi
  xor %eax, %eax
  mov $2048, %ecx
  rep stosl
  movl $0x2003, 0x1000
  movl $0x2003, 0x1004
  mov $0x2000, %edi
  mov $3, %eax
  mov $1024, %ecx
1:stosl
  add $0x1000, %eax
  loop 1b
  mov $0x1000, %eax
  mov %eax, %cr3
  mov %cr0, %eax
  or $0x80000000, %eax
  mov %eax, %cr0
  jmp main
.globl main
main:
  call tick
  cmpl $0, go_home
  je main
  mov $msg, %esi
2:lodsb
  test %al, %al
  jz 3f
  mov $0x3f8, %dx
  out %al, %dx
  jmp 2b
3:cli
  hlt
  jmp 3b
.globl tick
tick:
  incl counter
  mov counter, %eax
  add %eax, total
  ret
.align 4
.globl counter, total, go_home
.type counter, @object
.type total, @object
.type go_home, @object
.size counter, 4
.size total, 4
.size go_home, 4
counter: .long 0
total: .long 0
go_home: .long 0
msg: .asciz "DONE\n"
.align 8
gdt: .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff
gdt_desc: .word 23
  .long gdt
.org 510
.word 0xaa55
