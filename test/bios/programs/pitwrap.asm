; The PIT race (how Linux's `pit` clocksource lost a jiffy): with interrupts off, poll counter 0
; (mode 2, a 64-tick period) and the master PIC's IRR. Whenever a latched count is higher than
; the previous one, the counter has reloaded, and IRQ0 must already be pending a few
; instructions later: the PIT raises it at the instant of the reload, never a slice later.
; Each pending IRQ0 is then taken (STI; NOP; CLI) so that the next one can be seen.
; Results at 0x8F00: +0 wraps seen, +2 wraps seen with IRQ0 not yet pending, +4 IRQ0s taken
; (BIOS tick count).
bits 16
org 0x7c00
WRAPS equ 500
        cli
        xor ax, ax
        mov ds, ax
        mov word [0x8f00], 0
        mov word [0x8f02], 0
        mov dword [0x46c], 0
        mov al, 0x34            ; counter 0, LSB then MSB, mode 2
        out 0x43, al
        mov al, 64
        out 0x40, al
        xor al, al
        out 0x40, al
        sti                     ; the first IRQ0: from here on the counter runs its period
        hlt                     ; (loading the count is no reload: its value before is undefined)
        cli
        mov dword [0x46c], 0
        mov al, 0x0a            ; OCW3: reads of port 20h return the IRR
        out 0x20, al
        mov bx, 0xffff          ; previous count: nothing read yet
.poll:  xor al, al              ; latch counter 0
        out 0x43, al
        in al, 0x40
        mov ah, al
        in al, 0x40
        xchg al, ah             ; AX = count
        cmp ax, bx
        mov bx, ax
        jbe .poll               ; still counting down (or the first read)
        inc word [0x8f00]       ; reloaded since the last read
        in al, 0x20
        test al, 1
        jnz .take
        inc word [0x8f02]       ; the wrap is visible but IRQ0 is not pending
.take:  sti
        nop
        cli
        mov al, 0x0a
        out 0x20, al
        cmp word [0x8f00], WRAPS
        jb .poll
        mov ax, [0x46c]
        mov [0x8f04], ax
        hlt
times 510-($-$$) db 0
dw 0xaa55
