; BIOS services over the PC's real devices. Results at 0x8F00:
;  +0 INT 1Ah/02h CX, DX (RTC time, BCD)   +4 INT 16h/00h AX (a key typed on the 8042)
;  +6 ticks before INT 15h/86h (100 ms)   +8 ticks after   +10 INT 14h/03h AX (COM1 status)
; COM1 (INT 14h): 'S' once waiting for the key, 'E' at the end.
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        sti
        mov bx, [0x46c]         ; three timer ticks (IRQ 0 -> INT 08h)
        add bx, 3
.tick:  hlt
        cmp [0x46c], bx
        jb .tick
        mov ax, 0x00e3          ; COM1: 9600 baud, 8N1
        xor dx, dx
        int 0x14
        mov ax, 0x0153
        int 0x14
        mov ah, 0x02
        int 0x1a
        mov [0x8f00], cx
        mov [0x8f02], dx
        xor ah, ah
        int 0x16
        mov [0x8f04], ax
        mov ax, [0x46c]
        mov [0x8f06], ax
        mov ah, 0x86
        mov cx, 0x0001
        mov dx, 0x86a0
        int 0x15
        mov ax, [0x46c]
        mov [0x8f08], ax
        mov ah, 0x03
        xor dx, dx
        int 0x14
        mov [0x8f0a], ax
        mov ax, 0x0145
        int 0x14
        cli
        hlt
times 510-($-$$) db 0
dw 0xaa55
