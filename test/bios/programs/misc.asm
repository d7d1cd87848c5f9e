; INT 16h buffer, INT 08h/1Ch tick chain, INT 1Ah ticks, INT 15h C0h and A20 status.
; Results at 0x8F00: +0 16h/01h AX, ZF  +4 16h/00h AX  +6 16h/01h ZF after the read
;  +8 1Ch hook count  +10 1Ah/00h ticks before (CX:DX), +14 after two INT 08h
;  +18 C0h ES, BX, CF  +24 2402h AL, CF  +26 2400h then 2402h AL  +28 2401h then 2402h AL
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov word [0x1c*4], hook
        mov word [0x1c*4+2], 0
        mov ah, 0x05
        mov cx, 0x1e61
        int 0x16
        mov ah, 0x01
        int 0x16
        mov [0x8f00], ax
        setz [0x8f02]
        mov ah, 0x00
        int 0x16
        mov [0x8f04], ax
        mov ah, 0x01
        int 0x16
        setz [0x8f06]
        xor ah, ah
        int 0x1a
        mov [0x8f0a], dx
        mov [0x8f0c], cx
        cli
        int 0x08
        int 0x08
        xor ah, ah
        int 0x1a
        mov [0x8f0e], dx
        mov [0x8f10], cx
        mov ah, 0xc0
        int 0x15
        mov [0x8f12], es
        mov [0x8f14], bx
        setc [0x8f16]
        mov ax, 0x2402
        int 0x15
        mov [0x8f18], al
        setc [0x8f19]
        mov ax, 0x2400
        int 0x15
        mov ax, 0x2402
        int 0x15
        mov [0x8f1a], al
        mov ax, 0x2401
        int 0x15
        mov ax, 0x2402
        int 0x15
        mov [0x8f1c], al
        mov al, 'D'
        out 0xe9, al
        cli
        hlt
hook:   inc word [cs:0x8f08]
        iret
times 510-($-$$) db 0
dw 0xaa55
