; ide-probe: a 64 KiB BIOS image that drives the PIIX IDE controller directly and writes what
; it observes to the 0xE9 debug console as raw bytes, then exits through port 0xF4.
; Run under QEMU (PIIX3 IDE) it gives the golden output; run under soulvm it must give the same.
; Only behaviour the two should share is written out: register values, status sequences,
; bus-master status, data checksums. Each test starts with a marker byte A1h, A2h, ...
; Disk: primary master, 1 MiB. CD-ROM: secondary master, 64 sectors. See regen.ts.
bits 16
cpu 686
org 0

%define BM      0xc000          ; bus master registers (BAR 4)
%define PRD     0x8000          ; PRD table (physical)
%define DMABUF  0x10000         ; DMA buffer (physical)
%define BUF     0x1000          ; PIO buffer (0000:1000)
%define LIMIT   0x0500          ; word: ATAPI byte count limit for `packet`
%define FEATURE 0x0502          ; byte: ATAPI feature (DMA bit) for `packet`
; IN_EMIT port: read a byte register and report it.
%macro IN_EMIT 1
    mov dx, %1
    in al, dx
    call emit
%endmacro
; OUTB port, value
%macro OUTB 2
    mov dx, %1
    mov al, %2
    out dx, al
%endmacro
; INSW_BUF port, words: read data words into BUF.
%macro INSW_BUF 2
    mov di, BUF
    mov cx, %2
    mov dx, %1
    rep insw
%endmacro
%define NOSUM   0x0503          ; byte: nonzero: `packet_data` leaves out the checksum

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    mov es, ax
    mov word [LIMIT], 0x0800
    mov byte [FEATURE], 0
    mov byte [NOSUM], 0

    ; Find the IDE function (class 0101h, prog-if 80h) on bus 0 and set it up as a BIOS would.
    xor bx, bx
.find:
    mov cl, 0x08
    call pci_read32
    shr eax, 8
    cmp eax, 0x010180
    je .found
    inc bx
    cmp bx, 256
    jb .find
    mov al, 0xff
    call emit
    jmp done
.found:
    mov cl, 0x20
    mov esi, BM | 1
    call pci_write32
    mov cl, 0x40
    mov esi, 0x80008000         ; IDE decode enable, both channels (PIIX4 needs it)
    call pci_write32
    mov cl, 0x04
    mov esi, 0x00000005         ; I/O space, bus master
    call pci_write32

; ---- A1: power-on registers of the primary master ----
    mov al, 0xa1
    call emit
    mov dx, 0x3f6
    call wait_ready
    mov dx, 0x1f1
.regs1:
    in al, dx
    call emit
    inc dx
    cmp dx, 0x1f6
    jb .regs1
    IN_EMIT 0x1f7

; ---- A2: software reset: signatures of the ATA disk and the ATAPI CD-ROM ----
    mov al, 0xa2
    call emit
    OUTB 0x3f6, 0x04
    call delay
    xor al, al
    out dx, al
    call wait_ready
    IN_EMIT 0x1f7
    IN_EMIT 0x1f1
    IN_EMIT 0x1f2
    IN_EMIT 0x1f3
    IN_EMIT 0x1f4
    IN_EMIT 0x1f5
    OUTB 0x376, 0x04
    call delay
    xor al, al
    out dx, al
    call wait_ready
    OUTB 0x176, 0xa0
    IN_EMIT 0x171
    IN_EMIT 0x174
    IN_EMIT 0x175

; ---- A3: the absent slave: status 0, registers still latch ----
    mov al, 0xa3
    call emit
    OUTB 0x1f6, 0xb0
    IN_EMIT 0x1f7
    OUTB 0x1f2, 0x55
    in al, dx
    call emit
    OUTB 0x1f6, 0xa0

; ---- A4: IDENTIFY DEVICE: status, capacity and geometry words ----
    mov al, 0xa4
    call emit
    OUTB 0x1f7, 0xec
    mov dx, 0x3f6
    call wait_ready
    IN_EMIT 0x1f7
    INSW_BUF 0x1f0, 256
    mov dx, 0x3f6
    call wait_ready
    in al, dx
    call emit
    mov ax, [BUF + 60*2]
    call emitw
    mov ax, [BUF + 61*2]
    call emitw
    mov ax, [BUF + 100*2]
    call emitw
    mov ax, [BUF + 49*2]
    and ax, 0x0300              ; LBA and DMA supported
    call emitw

; ---- A5: READ SECTORS, LBA 1, two sectors ----
    mov al, 0xa5
    call emit
    mov ax, 0x0201              ; count 2, LBA 1
    call lba28
    OUTB 0x1f7, 0x20
    call read_blocks_2          ; emits status around each block and the checksum

; ---- A6: an unknown command is aborted ----
    mov al, 0xa6
    call emit
    OUTB 0x1f7, 0xff
    mov dx, 0x3f6
    call wait_ready
    IN_EMIT 0x1f7
    IN_EMIT 0x1f1

; ---- A7: WRITE SECTORS then read back ----
    mov al, 0xa7
    call emit
    mov ax, 0x010a              ; count 1, LBA 10
    call lba28
    OUTB 0x1f7, 0x30
    mov dx, 0x3f6
    call wait_ready
    in al, dx
    call emit                   ; DRQ: send the data
    push ds
    mov ax, 0xf000
    mov ds, ax
    xor si, si
    mov cx, 256
    mov dx, 0x1f0
    rep outsw                   ; our own first 512 bytes
    pop ds
    mov dx, 0x3f6
    call wait_ready
    IN_EMIT 0x1f7
    mov ax, 0x010a
    call lba28
    OUTB 0x1f7, 0x20
    mov dx, 0x3f6
    call wait_ready
    INSW_BUF 0x1f0, 256
    mov si, BUF
    mov cx, 512
    call checksum

; ---- A8: SET MULTIPLE MODE 4, READ MULTIPLE 6 sectors from LBA 0 ----
    mov al, 0xa8
    call emit
    OUTB 0x1f2, 4
    OUTB 0x1f7, 0xc6
    mov dx, 0x3f6
    call wait_ready
    in al, dx
    call emit
    mov ax, 0x0600
    call lba28
    OUTB 0x1f7, 0xc4
    mov dx, 0x3f6
    call wait_ready
    IN_EMIT 0x1f7
    INSW_BUF 0x1f0, 1024
    mov dx, 0x3f6
    call wait_ready
    IN_EMIT 0x1f7
    mov cx, 512
    mov dx, 0x1f0
    rep insw
    mov dx, 0x3f6
    call wait_ready
    IN_EMIT 0x1f7
    mov si, BUF
    mov cx, 3072
    call checksum

; ---- A9: READ DMA, PRD table used up exactly (512 + 512 bytes) ----
    mov al, 0xa9
    call emit
    mov dword [PRD], DMABUF
    mov dword [PRD + 4], 512
    mov dword [PRD + 8], DMABUF + 0x1000
    mov dword [PRD + 12], 0x80000000 | 512
    mov ax, 0x0204              ; count 2, LBA 4
    call dma_read
    push ds
    mov ax, 0x1000
    mov ds, ax
    xor si, si
    mov cx, 512
    call checksum
    mov si, 0x1000
    mov cx, 512
    call checksum
    pop ds

; ---- AA: READ DMA with a PRD larger than the transfer ----
    mov al, 0xaa
    call emit
    mov dword [PRD], DMABUF
    mov dword [PRD + 4], 0x80000000 | 4096
    mov ax, 0x0204
    call dma_read

; ---- AB: READ DMA with a PRD table too short for the transfer ----
    mov al, 0xab
    call emit
    mov dword [PRD], DMABUF
    mov dword [PRD + 4], 0x80000000 | 512
    mov ax, 0x0404
    call dma_read
    mov dx, 0x3f6               ; recover with a software reset
    mov al, 0x04
    out dx, al
    call delay
    xor al, al
    out dx, al
    call wait_ready
    in al, dx
    call emit

; ---- AC: ATAPI: IDENTIFY PACKET DEVICE and packet commands on the secondary master ----
    mov al, 0xac
    call emit
    OUTB 0x176, 0xa0
    OUTB 0x177, 0xa1
    mov dx, 0x376
    call wait_ready
    IN_EMIT 0x177
    INSW_BUF 0x170, 256
    mov ax, [BUF]
    call emitw
    mov si, cdb_tur
    call packet                 ; the first TEST UNIT READY (power-on unit attention?)
    call packet_end
    mov si, cdb_tur
    call packet
    call packet_end
    mov si, cdb_readcap
    call packet
    call packet_data
    call packet_end
    mov si, cdb_read10
    call packet
    call packet_data
    call packet_end
    mov si, cdb_toc
    call packet
    call packet_data
    call packet_end
    mov si, cdb_bad
    call packet
    call packet_end
    mov si, cdb_sense
    call packet
    call packet_data
    call packet_end


; ---- AD: when INTRQ rises and falls (IRQ 14 programmed level-triggered, seen in the PIC's IRR) ----
    mov al, 0xad
    call emit
    OUTB 0x3f6, 0x04
    call delay
    xor al, al
    out dx, al
    call wait_ready
    mov dx, 0x1f7
    in al, dx
    call pic_init
    call emit_irr               ; nothing pending
    OUTB 0x1f7, 0xec
    mov dx, 0x3f6
    call wait_ready
    call emit_irr               ; IDENTIFY data ready
    mov dx, 0x3f6
    in al, dx
    call emit_irr               ; the alternate status leaves it
    mov dx, 0x1f7
    in al, dx
    call emit_irr               ; the status clears it
    INSW_BUF 0x1f0, 256
    mov dx, 0x3f6
    call wait_ready
    call emit_irr
    mov ax, 0x0201              ; READ SECTORS: one interrupt per block, none at the end
    call lba28
    OUTB 0x1f7, 0x20
    mov dx, 0x3f6
    call wait_ready
    call emit_irr
    mov dx, 0x1f7
    in al, dx
    call emit_irr
    INSW_BUF 0x1f0, 256
    mov dx, 0x3f6
    call wait_ready
    call emit_irr
    mov dx, 0x1f7
    in al, dx
    mov cx, 256
    mov dx, 0x1f0
    rep insw
    mov dx, 0x3f6
    call wait_ready
    call emit_irr
    mov ax, 0x0214              ; WRITE SECTORS: none for the first block, then one per block
    call lba28
    OUTB 0x1f7, 0x30
    mov dx, 0x3f6
    call wait_ready
    call emit_irr
    call write_rom_sector
    call emit_irr
    mov dx, 0x1f7
    in al, dx
    call write_rom_sector
    call emit_irr
    IN_EMIT 0x1f7
    call emit_irr
    mov dx, 0x3f6               ; nIEN masks INTRQ
    mov al, 0x02
    out dx, al
    mov ax, 0x0101
    call lba28
    OUTB 0x1f7, 0x20
    mov dx, 0x3f6
    call wait_ready
    call emit_irr
    INSW_BUF 0x1f0, 256
    mov dx, 0x3f6
    call wait_ready
    xor al, al
    out dx, al
    call emit_irr               ; nIEN off again with the interrupt still pending
    mov dx, 0x1f7
    in al, dx
    call emit_irr
    mov dword [PRD], DMABUF     ; DMA: one interrupt at the end
    mov dword [PRD + 4], 0x80000000 | 1024
    mov ax, 0x0204
    call lba28
    mov dx, BM + 4
    mov eax, PRD
    out dx, eax
    mov dx, BM + 2
    mov al, 0x06
    out dx, al
    OUTB 0x1f7, 0xc8
    call emit_irr
    OUTB BM, 0x09
    call wait_bm_int
    call emit_irr
    OUTB BM, 0x08
    mov dx, 0x1f7
    in al, dx
    call emit_irr

; ---- AE: ATAPI interrupts (IRQ 15): none for the packet request, one per data block and at the end ----
    mov al, 0xae
    call emit
    OUTB 0x176, 0xa0
    mov dx, 0x177
    in al, dx
    mov si, cdb_tur
    call packet
    call emit_irr
    call packet_end
    call emit_irr
    mov si, cdb_inquiry
    call packet
    call emit_irr
    call packet_data
    call emit_irr
    call packet_end
    call emit_irr

; ---- AF: READ(10) of one 2048-byte block with a byte count limit of 512 ----
    mov al, 0xaf
    call emit
    mov word [LIMIT], 0x0200
    mov si, cdb_read10
    call packet
.chunk:
    mov dx, 0x376
    in al, dx
    test al, 0x08
    jz .chunks_done
    IN_EMIT 0x177
    IN_EMIT 0x172
    mov dx, 0x174
    in al, dx
    mov cl, al
    mov dx, 0x175
    in al, dx
    mov ch, al
    mov ax, cx
    call emitw
    shr cx, 1
    mov di, BUF
    mov dx, 0x170
    rep insw
    mov dx, 0x376
    call wait_ready
    jmp .chunk
.chunks_done:
    call packet_end
    mov word [LIMIT], 0x0800

; ---- B0: READ(10) by DMA ----
    mov al, 0xb0
    call emit
    mov dword [PRD], DMABUF
    mov dword [PRD + 4], 0x80000000 | 2048
    mov dx, BM + 8 + 4
    mov eax, PRD
    out dx, eax
    mov dx, BM + 8 + 2
    mov al, 0x06
    out dx, al
    mov byte [FEATURE], 1
    mov si, cdb_read10
    call packet
    mov byte [FEATURE], 0
    mov dx, 0x376
    in al, dx
    call emit                   ; status while the drive waits for the bus master
    mov dx, BM + 8
    mov al, 0x09
    out dx, al
    mov dx, BM + 8 + 2
    mov ecx, 0x400000
.dma_wait:
    in al, dx
    test al, 0x04
    jnz .dma_int
    dec ecx
    jnz .dma_wait
.dma_int:
    call emit
    mov dx, BM + 8
    mov al, 0x08
    out dx, al
    call packet_end
    push ds
    mov ax, 0x1000
    mov ds, ax
    xor si, si
    mov cx, 2048
    call checksum
    pop ds

; ---- B1: what the drive says about itself and the disc ----
    mov al, 0xb1
    call emit
    mov byte [NOSUM], 1         ; contents differ by design (identity strings, feature lists)
    mov si, cdb_toc_msf
    call packet
    call packet_data
    call packet_end
    mov si, cdb_capacity_page
    call packet
    call packet_data
    call packet_end
    mov si, cdb_config
    call packet
    call packet_data
    call packet_end
    mov si, cdb_event
    call packet
    call packet_data
    call packet_end
    mov si, cdb_mechanism
    call packet
    call packet_data
    call packet_end
    mov si, cdb_disc_info
    call packet
    call packet_data
    call packet_end

done:
    mov al, 0xfe
    call emit
    xor al, al
    out 0xf4, al
    hlt
    jmp done

; ---- helpers ----

; Emit AL to the debug console.
emit:
    out 0xe9, al
    ret
emitw:
    call emit
    mov al, ah
    jmp emit

; Wait until BSY clears in the status/alternate status register at DX (emit EEh on timeout).
wait_ready:
    push ecx
    push ax
    mov ecx, 0x200000
.l: in al, dx
    test al, 0x80
    jz .ok
    dec ecx
    jnz .l
    mov al, 0xee
    call emit
.ok:
    pop ax
    pop ecx
    ret

delay:
    push ecx
    mov ecx, 0x1000
.l: dec ecx
    jnz .l
    pop ecx
    ret

; Set up an LBA28 address on the primary channel: AL = LBA (low byte), AH = count (as in 0x0201: 2 sectors at LBA 1).
lba28:
    push dx
    push ax
    OUTB 0x1f2, ah
    pop ax
    push ax
    inc dx
    out dx, al
    xor al, al
    inc dx
    out dx, al
    inc dx
    out dx, al
    inc dx
    mov al, 0xe0
    out dx, al
    pop ax
    pop dx
    ret

; Two PIO data-in blocks of one sector: status before and after each, then the checksum.
read_blocks_2:
    mov dx, 0x3f6
    call wait_ready
    IN_EMIT 0x1f7
    INSW_BUF 0x1f0, 256
    mov dx, 0x3f6
    call wait_ready
    IN_EMIT 0x1f7
    mov cx, 256
    mov dx, 0x1f0
    rep insw
    mov dx, 0x3f6
    call wait_ready
    IN_EMIT 0x1f7
    mov si, BUF
    mov cx, 1024
    jmp checksum

; Emit the 16-bit sum of CX bytes at DS:SI.
checksum:
    push bx
    xor bx, bx
    xor ah, ah
.l: lodsb
    add bx, ax
    loop .l
    mov ax, bx
    pop bx
    jmp emitw

; READ DMA on the primary master: AL = LBA, AH = count; PRDs already at PRD.
; Emits the bus master status when the interrupt bit rises (or after a time-out), the device
; status, and the bus master status after the driver stops the engine.
dma_read:
    call lba28
    mov dx, BM
    xor al, al
    out dx, al
    mov dx, BM + 2
    mov al, 0x06
    out dx, al                  ; clear interrupt and error
    mov dx, BM + 4
    mov eax, PRD
    out dx, eax
    OUTB 0x1f7, 0xc8
    OUTB BM, 0x09
    mov dx, BM + 2
    mov ecx, 0x400000
.l: in al, dx
    test al, 0x04
    jnz .int
    dec ecx
    jnz .l
.int:
    call emit
    IN_EMIT 0x3f6
    OUTB BM, 0x08
    mov dx, BM + 2
    in al, dx
    call emit
    mov dx, 0x1f7
    in al, dx                   ; acknowledge the device
    ret

; Send the 12-byte packet at CS:SI to the secondary master (byte count limit [LIMIT], feature
; [FEATURE]: 0 for PIO, 1 for DMA). Emits status and interrupt reason when the drive asks for it.
packet:
    OUTB 0x171, [FEATURE]
    OUTB 0x174, [LIMIT]
    mov dx, 0x175
    mov al, [LIMIT + 1]
    out dx, al
    OUTB 0x177, 0xa0
    mov dx, 0x376
    call wait_ready
    in al, dx
    call emit
    IN_EMIT 0x172
    mov cx, 6
    mov dx, 0x170
.w: cs lodsw
    out dx, ax
    loop .w
    cmp byte [FEATURE], 0
    jne .dma                    ; a DMA command waits for the bus master
    mov dx, 0x376
    jmp wait_ready
.dma:
    ret

; One data-in block: emits status, interrupt reason, byte count, the first 8 bytes and the checksum.
packet_data:
    IN_EMIT 0x177
    IN_EMIT 0x172
    mov dx, 0x174
    in al, dx
    mov bl, al
    mov dx, 0x175
    in al, dx
    mov bh, al
    mov ax, bx
    call emitw
    mov cx, bx
    shr cx, 1
    mov di, BUF
    mov dx, 0x170
    rep insw
    mov si, BUF
    mov cx, 8
.e: lodsb
    call emit
    loop .e
    cmp byte [NOSUM], 0
    jne .nosum
    mov si, BUF
    mov cx, bx
    call checksum
.nosum:
    mov dx, 0x376
    jmp wait_ready

; The end of a packet command: status, interrupt reason, error.
packet_end:
    IN_EMIT 0x177
    IN_EMIT 0x172
    mov dx, 0x171
    in al, dx
    jmp emit


; Program the 8259 pair (vectors 08h/70h), mask everything, make IRQ 14 and 15 level-triggered.
pic_init:
    mov al, 0x11
    out 0x20, al
    out 0xa0, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x70
    out 0xa1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xa1, al
    mov al, 0x01
    out 0x21, al
    out 0xa1, al
    mov al, 0xff
    out 0x21, al
    out 0xa1, al
    OUTB 0x4d1, 0xc0
    ret

; Emit the slave PIC's request register bits for IRQ 14 (40h) and 15 (80h).
emit_irr:
    push ax
    mov al, 0x0a
    out 0xa0, al
    in al, 0xa0
    and al, 0xc0
    call emit
    pop ax
    ret

; Write our first 512 ROM bytes to the primary data port, then wait for BSY to clear.
write_rom_sector:
    push ds
    mov ax, 0xf000
    mov ds, ax
    xor si, si
    mov cx, 256
    mov dx, 0x1f0
    rep outsw
    pop ds
    mov dx, 0x3f6
    jmp wait_ready

; Wait for the primary bus master's interrupt bit (with a time-out).
wait_bm_int:
    mov dx, BM + 2
    mov ecx, 0x400000
.l: in al, dx
    test al, 0x04
    jnz .ok
    dec ecx
    jnz .l
.ok:
    ret

pci_addr:
    movzx eax, bx
    shl eax, 8
    or al, cl
    or eax, 0x80000000
    mov dx, 0xcf8
    out dx, eax
    ret
pci_read32:
    call pci_addr
    mov dx, 0xcfc
    in eax, dx
    ret
pci_write32:
    call pci_addr
    mov dx, 0xcfc
    mov eax, esi
    out dx, eax
    ret

cdb_tur:     db 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
cdb_readcap: db 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
cdb_read10:  db 0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0, 0, 0
cdb_toc:     db 0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0
cdb_bad:     db 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
cdb_sense:   db 0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0
cdb_inquiry: db 0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0
cdb_toc_msf: db 0x43, 2, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0
cdb_capacity_page: db 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 28, 0, 0, 0
cdb_config:  db 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0
cdb_event:   db 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0, 0, 0
cdb_mechanism: db 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0
cdb_disc_info: db 0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0, 0, 0

    times 0xfff0 - ($ - $$) db 0
reset:
    jmp 0xf000:start
    times 0x10000 - ($ - $$) db 0
