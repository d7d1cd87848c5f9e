; INT 10h text services. Results at 0x8F00: +0 AH=03h DX, CX  +4 AH=08h AX  +6 AH=0Fh AX, BX
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov si, hello
.print: lodsb
        test al, al
        jz .printed
        mov ah, 0x0e
        xor bx, bx
        int 0x10
        jmp .print
.printed:
        mov ax, 0x0958          ; 'X' x3, attribute 1Fh, at the cursor (row 1, col 5)
        mov bx, 0x001f
        mov cx, 3
        int 0x10
        mov ah, 0x03
        xor bh, bh
        int 0x10
        mov [0x8f00], dx
        mov [0x8f02], cx
        mov ah, 0x08
        int 0x10
        mov [0x8f04], ax
        mov ah, 0x02            ; cursor to the last row, then two line feeds scroll the screen up by 1
        mov dx, 0x1800
        int 0x10
        mov ax, 0x0e41
        int 0x10
        mov ax, 0x0e0a
        int 0x10
        mov ax, 0x1301          ; write string at row 10, col 2, attribute 4Eh, move the cursor
        mov bx, 0x004e
        mov cx, 6
        mov dx, 0x0a02
        push ds
        pop es
        mov bp, str
        int 0x10
        mov ah, 0x0f
        int 0x10
        mov [0x8f06], ax
        mov [0x8f08], bx
        mov al, 'D'
        out 0xe9, al
        cli
        hlt
hello:  db 'Hello', 13, 10, 'World', 0
str:    db 'String'
times 510-($-$$) db 0
dw 0xaa55
