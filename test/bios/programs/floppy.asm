; INT 13h on floppy A:. 0x8F00: AH=08h CX, DX, BL, ES:DI; 0x8F0A: CHS read AX, CF
; Reads cylinder 1, head 1, sector 5 to 1000:0000. Then a read crossing a 64 KiB DMA boundary: 0x8F0E AH, CF.
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov [0x8f1c], dl
        mov ah, 0x08
        int 0x13
        mov [0x8f00], cx
        mov [0x8f02], dx
        mov [0x8f04], bl
        mov [0x8f06], di
        mov [0x8f08], es
        mov ax, 0x1000
        mov es, ax
        xor bx, bx
        mov ax, 0x0201
        mov cx, 0x0105
        mov dx, 0x0100
        int 0x13
        mov [0x8f0a], ax
        setc [0x8f0c]
        mov bx, 0xff00
        mov ax, 0x0202
        mov cx, 0x0001
        mov dx, 0x0000
        int 0x13
        mov [0x8f0e], ah
        setc [0x8f0f]
        mov al, 'D'
        out 0xe9, al
        cli
        hlt
times 510-($-$$) db 0
dw 0xaa55
