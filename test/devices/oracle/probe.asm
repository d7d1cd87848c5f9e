; Device probe ROM: programs the legacy PC devices in ways whose results do not depend on
; timing, and prints every value it reads as hex on the 0xE9 debug console.
; Run on QEMU by regen.sh to make probe.qemu.txt; test/devices/oracle.test.ts runs the same
; ROM on soulvm's devices and the real soulvm CPU and compares.
; Build: nasm -f bin -o probe.bin probe.asm   (a 64 KiB BIOS image)
bits 16
org 0

%macro OUTB 2
    mov dx, %1
    mov al, %2
    out dx, al
%endmacro
%macro INB 1            ; read a port and print it
    mov dx, %1
    in al, dx
    call hex
%endmacro
%macro INBM 2           ; read a port, keep the bits of mask %2, print
    mov dx, %1
    in al, dx
    and al, %2
    call hex
%endmacro
%macro CMOS 1           ; print CMOS register %1
    OUTB 0x70, %1
    INB 0x71
%endmacro
%macro CMOSW 2
    OUTB 0x70, %1
    OUTB 0x71, %2
%endmacro
%macro TITLE 1
    mov al, %1
    out 0xe9, al
    mov al, ':'
    out 0xe9, al
%endmacro
%macro NL 0
    mov al, 10
    out 0xe9, al
%endmacro

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000

; ---- PIC ----
    TITLE 'P'
    OUTB 0x20, 0x11
    OUTB 0x21, 0x08
    OUTB 0x21, 0x04
    OUTB 0x21, 0x01
    OUTB 0xa0, 0x11
    OUTB 0xa1, 0x70
    OUTB 0xa1, 0x02
    OUTB 0xa1, 0x01
    OUTB 0x21, 0xfd             ; only IRQ1 unmasked on the master
    OUTB 0xa1, 0xff
    INB 0x21
    INB 0xa1
    OUTB 0x20, 0x0b             ; read ISR
    INB 0x20
    NL

; ---- keyboard controller; IRQ1 seen through the PIC ----
    TITLE 'K'
    OUTB 0x64, 0xaa             ; self test
    call wait_obf
    INB 0x60
    INBM 0x64, 0xfd             ; status after reading (IBF masked)
    OUTB 0x64, 0x60             ; command byte: translate, keyboard interrupt
    OUTB 0x60, 0x41
    OUTB 0x64, 0x20
    call wait_obf
    OUTB 0x20, 0x0a             ; IRR: IRQ1 up while the output buffer is full
    INBM 0x20, 0xfe
    OUTB 0x20, 0x0c             ; poll
    INB 0x20
    OUTB 0x20, 0x0b
    INB 0x20                    ; ISR
    OUTB 0x20, 0x61             ; specific EOI 1
    INB 0x20
    INB 0x60                    ; the command byte
    OUTB 0x20, 0x0a
    INBM 0x20, 0xfe             ; IRQ1 gone
    OUTB 0x64, 0xab             ; keyboard interface test
    call wait_obf
    INB 0x60
    OUTB 0x60, 0xf2             ; identify (translated)
    call wait_obf
    INB 0x60
    call wait_obf
    INB 0x60
    call wait_obf
    INB 0x60
    OUTB 0x60, 0xed             ; LEDs
    call wait_obf
    INB 0x60
    OUTB 0x60, 0x02
    call wait_obf
    INB 0x60
    OUTB 0x64, 0xd2             ; write keyboard output buffer
    OUTB 0x60, 0x9c
    call wait_obf
    INB 0x60
    OUTB 0x64, 0xd1             ; output port: A20 off
    OUTB 0x60, 0x01
    OUTB 0x64, 0xd0
    call wait_obf
    INBM 0x60, 0x03
    OUTB 0x64, 0xdf             ; A20 on (0xDF)
    OUTB 0x64, 0xd0
    call wait_obf
    INBM 0x60, 0x03
    NL

; ---- PIT read-back status (access, mode, BCD; QEMU models neither null count nor OUT there) ----
    TITLE 'T'
    OUTB 0x43, 0x30             ; counter 0, LSB/MSB, mode 0
    OUTB 0x43, 0xe2
    INBM 0x40, 0x3f
    OUTB 0x43, 0x74             ; counter 1, mode 2
    OUTB 0x43, 0xe4
    INBM 0x41, 0x3f
    OUTB 0x43, 0xb7             ; counter 2, mode 3, BCD
    OUTB 0x43, 0xe8
    INBM 0x42, 0x3f
    OUTB 0x43, 0x5a             ; counter 1, LSB only, mode 5
    OUTB 0x43, 0xe4
    INBM 0x41, 0x3f
    OUTB 0x43, 0x7c             ; counter 1, mode 6 (= 2)
    OUTB 0x43, 0xe4
    INBM 0x41, 0x3f
    OUTB 0x43, 0x20             ; counter 0, MSB only, mode 0
    OUTB 0x43, 0xe2
    INBM 0x40, 0x3f
    NL

; ---- CMOS / RTC ----
    TITLE 'C'
    CMOS 0x0b
    OUTB 0x70, 0x0a
    INBM 0x71, 0x7f
    CMOS 0x0d
    CMOSW 0x40, 0x5a
    CMOS 0x40
    CMOSW 0x0b, 0x82            ; SET, BCD, 24 h
    CMOSW 0x00, 0x45
    CMOSW 0x02, 0x30
    CMOSW 0x04, 0x13
    CMOSW 0x07, 0x15
    CMOSW 0x08, 0x06
    CMOSW 0x09, 0x24
    CMOS 0x00
    CMOS 0x02
    CMOS 0x04
    CMOS 0x07
    CMOS 0x08
    CMOS 0x09
    CMOSW 0x0b, 0x86            ; binary
    CMOS 0x04
    CMOS 0x09
    CMOSW 0x0b, 0x84            ; binary, 12 hours
    CMOS 0x04
    CMOSW 0x0b, 0x80            ; BCD, 12 hours
    CMOS 0x04
    CMOSW 0x04, 0x81            ; 1 AM... written as 1 PM (bit 7)
    CMOSW 0x0b, 0x82
    CMOS 0x04
    CMOSW 0x0b, 0x02
    CMOS 0x0b
    NL

; ---- UART (COM1) ----
    TITLE 'U'
    OUTB 0x3fb, 0x80
    OUTB 0x3f8, 0x01
    OUTB 0x3f9, 0x00
    OUTB 0x3fb, 0x03
    INB 0x3fb
    OUTB 0x3fb, 0x80
    INB 0x3f8
    INB 0x3f9
    OUTB 0x3fb, 0x03
    OUTB 0x3ff, 0x5a
    INB 0x3ff
    INB 0x3fa                   ; IIR: nothing
    INB 0x3fd                   ; LSR
    INBM 0x3fe, 0xf0            ; MSR lines
    OUTB 0x3fc, 0x10            ; loopback
    INBM 0x3fe, 0xf0
    OUTB 0x3fc, 0x1a            ; loopback, RTS, OUT2
    INBM 0x3fe, 0xf0
    OUTB 0x3fa, 0x07            ; FIFO on, cleared, trigger 1
    INB 0x3fa
    OUTB 0x3f9, 0x02            ; THRE interrupt on: at once
    INB 0x3fa
    INB 0x3fa                   ; cleared by the read
    OUTB 0x3f8, 0x41            ; loops back
    INB 0x3fd
    INB 0x3fa
    INB 0x3f8
    INB 0x3fd
    OUTB 0x3f9, 0x05            ; RX data + line status
    mov cx, 17                  ; 17 bytes into a 16-byte FIFO
.fill:
    mov al, cl
    mov dx, 0x3f8
    out dx, al
    loop .fill
    INB 0x3fa                   ; line status first
    INB 0x3fd                   ; overrun, data ready
    INB 0x3fa                   ; then data
    INB 0x3f8
    INB 0x3f8
    OUTB 0x3fa, 0x03            ; clear the receive FIFO
    INB 0x3fd
    INB 0x3fa
    OUTB 0x3fa, 0xc1            ; trigger level 14
    OUTB 0x3f8, 0x33
    INB 0x3fa                   ; 1 byte: below trigger (no timeout yet)
    OUTB 0x3fa, 0x00            ; FIFO off
    INB 0x3fa
    INB 0x3f8
    OUTB 0x3fc, 0x00
    OUTB 0x3f9, 0x00
    NL

; ---- PIC priorities, rotation, special mask, cascade, ELCR; IRQ sources: COM1 (IRQ4) and
; COM2 (IRQ3) THRE interrupts, the 8042's aux output buffer (IRQ12) ----
    TITLE 'Q'
    OUTB 0x4d0, 0xff            ; ELCR: IRQ0-2, 8 and 13 stay edge
    INB 0x4d0
    OUTB 0x4d1, 0xff
    INB 0x4d1
    OUTB 0x4d0, 0x00
    OUTB 0x4d1, 0x00
    OUTB 0x21, 0x00
    OUTB 0xa1, 0x00
    OUTB 0x3fc, 0x08            ; OUT2
    OUTB 0x3f9, 0x02            ; THRE: IRQ4 up
    OUTB 0x2fc, 0x08
    OUTB 0x2f9, 0x02            ; IRQ3 up
    OUTB 0x20, 0x0a
    INBM 0x20, 0xfe             ; IRR (IRQ0 masked out: QEMU's PIT runs from reset)
    OUTB 0x20, 0x0c
    INB 0x20                    ; poll: IR3
    OUTB 0x20, 0x0c
    INB 0x20                    ; poll: IR4 is below IR3 in service
    OUTB 0x20, 0x0b
    INB 0x20
    OUTB 0x20, 0x20             ; non-specific EOI
    OUTB 0x20, 0x0c
    INB 0x20                    ; IR4
    OUTB 0x20, 0x20
    OUTB 0x3f9, 0x00            ; new edges on both lines
    OUTB 0x3f9, 0x02
    OUTB 0x2f9, 0x00
    OUTB 0x2f9, 0x02
    OUTB 0x20, 0xc3             ; set priority: IR3 lowest, IR4 highest
    OUTB 0x20, 0x0c
    INB 0x20
    OUTB 0x20, 0x0c
    INB 0x20
    OUTB 0x20, 0x0b
    INB 0x20
    OUTB 0x20, 0xe4             ; rotate on specific EOI 4
    OUTB 0x20, 0x0c
    INB 0x20
    OUTB 0x20, 0x20
    OUTB 0x20, 0xc7             ; back to IR0 highest
    OUTB 0x3f9, 0x00
    OUTB 0x3f9, 0x02
    OUTB 0x2f9, 0x00
    OUTB 0x2f9, 0x02
    OUTB 0x20, 0x0c
    INB 0x20                    ; IR3
    OUTB 0x21, 0x08             ; mask IR3
    OUTB 0x20, 0x68             ; special mask mode
    OUTB 0x20, 0x0c
    INB 0x20                    ; IR4 gets through
    OUTB 0x20, 0x0b
    INB 0x20
    OUTB 0x20, 0x48             ; special mask mode off
    OUTB 0x20, 0x63
    OUTB 0x20, 0x64
    INB 0x20
    OUTB 0x21, 0x00
    OUTB 0x64, 0x60             ; command byte: aux interrupt only
    OUTB 0x60, 0x02
    OUTB 0x64, 0xa8
    OUTB 0x64, 0xd3             ; aux output buffer: IRQ12
    OUTB 0x60, 0x77
    call wait_obf
    OUTB 0xa0, 0x0a
    INB 0xa0
    OUTB 0x20, 0x0a
    INBM 0x20, 0xfe
    OUTB 0x20, 0x0c
    INB 0x20                    ; master: IR2
    OUTB 0xa0, 0x0c
    INB 0xa0                    ; slave: IR4
    INBM 0x64, 0x21
    INB 0x60
    OUTB 0xa0, 0x20
    OUTB 0x20, 0x20
    OUTB 0xa0, 0x0b
    INB 0xa0
    OUTB 0x3f9, 0x00            ; COM1 line low
    OUTB 0x4d0, 0x10            ; IRQ4 level-triggered
    OUTB 0x3f9, 0x02            ; and up again
    OUTB 0x20, 0x0a
    INBM 0x20, 0xfe
    OUTB 0x20, 0x0c
    INB 0x20
    OUTB 0x20, 0x20
    OUTB 0x20, 0x0c
    INB 0x20                    ; again: the level is still there
    OUTB 0x20, 0x20
    INB 0x3fa                   ; COM1 IIR read drops THRE and the line
    OUTB 0x20, 0x0a
    INBM 0x20, 0xfe
    OUTB 0x4d0, 0x00
    INB 0x2fa
    OUTB 0x3f9, 0x00
    OUTB 0x2f9, 0x00
    NL

; ---- done ----
    mov al, '.'
    out 0xe9, al
    NL
    mov dx, 0x604               ; QEMU: ACPI power off is not there without a BIOS; use isa-debug-exit
    mov dx, 0xf4
    mov al, 0
    out dx, al
.halt:
    hlt
    jmp .halt

; Wait for the 8042 output buffer, printing 'T' on a timeout.
wait_obf:
    push cx
    push dx
    mov cx, 0xffff
.w: in al, 0x64
    test al, 1
    jnz .ok
    loop .w
    mov al, 'T'
    out 0xe9, al
.ok:
    pop dx
    pop cx
    ret

; Print AL as two hex digits and a space.
hex:
    push ax
    push ax
    shr al, 4
    call nibble
    pop ax
    and al, 0x0f
    call nibble
    mov al, ' '
    out 0xe9, al
    pop ax
    ret
nibble:
    add al, '0'
    cmp al, '9'
    jbe .p
    add al, 'a' - '9' - 1
.p: out 0xe9, al
    ret

    times 0xfff0 - ($ - $$) db 0
reset:
    jmp 0xf000:start
    times 0x10000 - ($ - $$) db 0
