; INT 13h on the boot drive (DL from the BIOS). Results at 0x8F00:
;  +0 AH=08h: CX, DX   +4 AH=41h: BX, CX, AH, CF   +10 CHS read: AX, CF   +14 LBA read: AH, CF, DAP count
;  +20 LBA write: AH, CF   +24 read past the end: AH, CF   +28 drive number   +30..: AH=48h buffer (30 bytes)
; Data: CHS (cyl 0, head 1, sector 38) -> 1000:0000; LBA 2000, 2 sectors -> 2000:0000;
; LBA write of 1000:0000 to sector 3000.
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov [0x8f1c], dl
        mov ah, 0x08
        int 0x13
        mov [0x8f00], cx
        mov [0x8f02], dx
        mov dl, [0x8f1c]
        mov ah, 0x41
        mov bx, 0x55aa
        int 0x13
        mov [0x8f04], bx
        mov [0x8f06], cx
        mov [0x8f08], ah
        setc [0x8f09]
        mov ax, 0x1000
        mov es, ax
        xor bx, bx
        mov ax, 0x0201
        mov cx, 0x0026          ; cylinder 0, sector 38
        mov dh, 1
        mov dl, [0x8f1c]
        int 0x13
        mov [0x8f0a], ax
        setc [0x8f0c]
        mov si, dap
        mov ah, 0x42
        mov dl, [0x8f1c]
        int 0x13
        mov [0x8f0e], ah
        setc [0x8f0f]
        mov ax, [dap + 2]
        mov [0x8f10], ax
        mov si, dapw
        mov ah, 0x43
        mov dl, [0x8f1c]
        int 0x13
        mov [0x8f14], ah
        setc [0x8f15]
        mov si, dape
        mov ah, 0x42
        mov dl, [0x8f1c]
        int 0x13
        mov [0x8f18], ah
        setc [0x8f19]
        mov word [0x8f1e], 30
        mov si, 0x8f1e
        mov ah, 0x48
        mov dl, [0x8f1c]
        int 0x13
        mov al, 'D'
        out 0xe9, al
        cli
        hlt
dap:    db 16, 0
        dw 2, 0x0000, 0x2000
        dq 2000
dapw:   db 16, 0
        dw 1, 0x0000, 0x1000
        dq 3000
dape:   db 16, 0
        dw 1, 0x0000, 0x3000
        dq 0x7fffffff
times 510-($-$$) db 0
dw 0xaa55
