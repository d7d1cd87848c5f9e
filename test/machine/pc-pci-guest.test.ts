// The guest's view of the chipset: a boot sector that scans bus 0 through configuration
// mechanism #1 (CF8h/CFCh) for the PIIX4 IDE function, reads what POST left in it, touches the
// bus-master registers through BAR4, and asks the PCI BIOS (INT 1Ah B102h) for the same device.
// It stores what it found at 0000:0600 for the test to check.
import { describe, expect, it } from 'vitest';
import { PcMachine } from '../../src/machine/pc.ts';
import { MemoryDisk } from '../ide/helpers.ts';

// Assembled with nasm (bits 16, org 7C00h); the listing is beside the bytes.
const findIde = [
  0x31, 0xc0,                               // xor ax,ax
  0x8e, 0xd8,                               // mov ds,ax
  0x66, 0xbb, 0x00, 0x00, 0x00, 0x80,       // mov ebx,80000000h      ; bus 0, devfn 0
  // scan:
  0x66, 0x89, 0xd8,                         // mov eax,ebx
  0xe8, 0x7b, 0x00,                         // call cfgread
  0x66, 0x3d, 0x86, 0x80, 0x11, 0x71,       // cmp eax,71118086h
  0x74, 0x14,                               // je found
  0x66, 0x81, 0xc3, 0x00, 0x01, 0x00, 0x00, // add ebx,100h
  0x66, 0x81, 0xfb, 0x00, 0x00, 0x01, 0x80, // cmp ebx,80010000h
  0x72, 0xe2,                               // jb scan
  0xb0, 0x4e,                               // mov al,'N'
  0xeb, 0x59,                               // jmp done
  // found:
  0x66, 0x89, 0x1e, 0x00, 0x06,             // mov [600h],ebx         ; its config address
  0x66, 0x89, 0xd8,                         // mov eax,ebx
  0xb0, 0x20,                               // mov al,20h             ; BAR4
  0xe8, 0x52, 0x00,                         // call cfgread
  0x66, 0xa3, 0x04, 0x06,                   // mov [604h],eax
  0x24, 0xfc,                               // and al,0FCh
  0x04, 0x02,                               // add al,2               ; BMISX, primary channel
  0x89, 0xc2,                               // mov dx,ax
  0xec,                                     // in al,dx
  0xa2, 0x0a, 0x06,                         // mov [60Ah],al
  0x66, 0x89, 0xd8,                         // mov eax,ebx
  0xb0, 0x04,                               // mov al,04h             ; command
  0xe8, 0x3c, 0x00,                         // call cfgread
  0xa3, 0x08, 0x06,                         // mov [608h],ax
  0x66, 0x89, 0xd8,                         // mov eax,ebx
  0x80, 0xe4, 0xf8,                         // and ah,0F8h            ; function 0: the ISA bridge
  0xb0, 0x60,                               // mov al,60h             ; PIRQRC A-D
  0xe8, 0x2e, 0x00,                         // call cfgread
  0x66, 0xa3, 0x0c, 0x06,                   // mov [60Ch],eax
  0x66, 0x89, 0xd8,                         // mov eax,ebx
  0x80, 0xcc, 0x03,                         // or ah,3                ; function 3: power management
  0xb0, 0x3c,                               // mov al,3Ch             ; interrupt line
  0xe8, 0x1f, 0x00,                         // call cfgread
  0xa2, 0x10, 0x06,                         // mov [610h],al
  0xb8, 0x02, 0xb1,                         // mov ax,0B102h          ; PCI BIOS: find device
  0xb9, 0x11, 0x71,                         // mov cx,7111h
  0xba, 0x86, 0x80,                         // mov dx,8086h
  0x31, 0xf6,                               // xor si,si              ; index 0
  0xcd, 0x1a,                               // int 1Ah
  0xa3, 0x12, 0x06,                         // mov [612h],ax
  0x89, 0x1e, 0x14, 0x06,                   // mov [614h],bx
  0xb0, 0x46,                               // mov al,'F'
  // done:
  0xba, 0xf8, 0x03,                         // mov dx,3F8h
  0xee,                                     // out dx,al
  0xfa,                                     // cli
  0xf4,                                     // hlt
  // cfgread:                                  EAX: config address -> EAX: the dword there
  0xba, 0xf8, 0x0c,                         // mov dx,0CF8h
  0x66, 0xef,                               // out dx,eax
  0xb2, 0xfc,                               // mov dl,0FCh
  0x66, 0xed,                               // in eax,dx
  0xc3,                                     // ret
];

describe('the guest finds the PIIX4 IDE controller on the PCI bus', () => {
  it('through CF8h/CFCh and the PCI BIOS, configured by POST', async () => {
    const disk = new MemoryDisk(2048);
    disk.bytes.set(findIde);
    disk.bytes[510] = 0x55; disk.bytes[511] = 0xaa;
    const m = new PcMachine({ hardDisks: [disk] });
    expect((await m.run({ maxInstructions: 10e6 })).stop).toBe('halted');
    expect(m.serialOutput).toBe('F');

    const at = (addr: number, bytes: number) => {
      let v = 0;
      for (let i = bytes - 1; i >= 0; i--) v = v * 256 + m.mem.readBytes(addr + i, 1)[0];
      return v;
    };
    const configAddress = at(0x600, 4);
    const devfn = (configAddress >> 8) & 0xff;
    expect(devfn & 7).toBe(1);                               // function 1 of the PIIX4
    const bar4 = at(0x604, 4);
    expect(bar4 & 1).toBe(1);                                // I/O space ...
    expect(bar4 & 0xfff0).toBeGreaterThanOrEqual(0x1000);    // ... assigned, clear of the ISA ports
    expect(at(0x60a, 1)).not.toBe(0xff);                     // the bus-master status register decodes
    expect(at(0x608, 2) & 0x5).toBe(0x5);                    // I/O decode and bus mastering on
    const pirqs = [0, 1, 2, 3].map((i) => at(0x60c + i, 1));
    for (const irq of pirqs) expect([3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15]).toContain(irq);
    const sci = at(0x610, 1);
    expect(sci).toBeGreaterThan(0);
    expect(sci).toBeLessThan(16);                            // the ACPI SCI has an ISA IRQ
    expect(at(0x612, 2) >> 8).toBe(0);                       // INT 1Ah: AH 00h, found ...
    expect(at(0x614, 2)).toBe(devfn);                        // ... at the same bus 0, devfn
  });

  it('flush() makes the guest\'s disk writes durable; close() closes every disk', async () => {
    const disk = new MemoryDisk(2048);
    let closed = 0;
    disk.close = () => { closed++; };
    const cd = new MemoryDisk(64, 2048, true);
    const m = new PcMachine({ hardDisks: [disk], cdrom: cd, bootOrder: ['hd'] });
    m.flush();
    expect(disk.flushes).toBe(1);
    expect(cd.flushes).toBe(0);                              // a read-only disc has nothing to flush
    m.close();
    expect(closed).toBe(1);
  });
});
