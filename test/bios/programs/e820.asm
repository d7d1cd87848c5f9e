; INT 15h memory services, INT 11h/12h: results stored for the test to read.
; 0x8FF0: E820 entry count; 0x9000...: 20-byte E820 entries
; 0x8FE0: E801 AX, BX, CX, DX; 0x8FE8: 88h AX; 0x8FEA: INT 12h AX; 0x8FEC: INT 11h AX
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov es, ax
        xor ebx, ebx
        mov di, 0x9000
        xor si, si
.next:  mov eax, 0xe820
        mov ecx, 24
        mov edx, 0x534d4150
        int 0x15
        jc .done
        cmp eax, 0x534d4150
        jne .done
        inc si
        add di, 20
        test ebx, ebx
        jnz .next
.done:  mov [0x8ff0], si
        mov ax, 0xe801
        int 0x15
        mov [0x8fe0], ax
        mov [0x8fe2], bx
        mov [0x8fe4], cx
        mov [0x8fe6], dx
        mov ah, 0x88
        int 0x15
        mov [0x8fe8], ax
        int 0x12
        mov [0x8fea], ax
        int 0x11
        mov [0x8fec], ax
        mov al, 'D'
        out 0xe9, al
        cli
        hlt
times 510-($-$$) db 0
dw 0xaa55
