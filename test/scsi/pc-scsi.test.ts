// SCSI adapters in the PC: POST places and enables the BT-958 (I/O BAR, memory BAR, bus
// mastering, its interrupt line through the PIRQ routing), the machine flushes and closes
// SCSI disks with the rest, and `soulvm run --scsi` parses into adapters and devices.
import { describe, expect, it } from 'vitest';
import { PcMachine } from '../../src/machine/pc.ts';
import { scsiConfig } from '../../src/cli/run.ts';
import { MemoryDisk } from '../ide/helpers.ts';
import type { BusLogic } from '../../src/devices/scsi/buslogic.ts';

describe('SCSI in the PC', () => {
  it('POST assigns the BT-958 its BARs, enables I/O, memory and bus mastering, and routes its interrupt', async () => {
    const boot = new MemoryDisk(64);
    boot.bytes.set([0xfa, 0xf4], 0); // cli; hlt
    boot.bytes[510] = 0x55; boot.bytes[511] = 0xaa;
    const sd = new MemoryDisk(4096), cd = new MemoryDisk(10, 2048, true);
    const m = new PcMachine({ hardDisks: [boot], bootOrder: ['hd'], scsi: [{ devices: [{ id: 0, disk: sd }, { id: 4, cdrom: cd }] }] });
    expect((await m.run({ maxInstructions: 20e6 })).stop).toBe('halted');
    const bt = m.scsi.adapters[0].adapter as BusLogic;
    expect(bt.slot).toBe(8);
    const bar0 = bt.barAddress(0), bar1 = bt.barAddress(1);
    expect(bar0).toBeGreaterThanOrEqual(0xc000);
    expect(bar1 >>> 0).toBeGreaterThanOrEqual(0xe0000000);
    expect(bt.readConfig(0x04, 2) & 7).toBe(7);
    expect([10, 11]).toContain(bt.readConfig(0x3c, 1));
    expect(m.io.read8(bar0)).toBe(0x30);                     // status: mailbox initialization required, ready
    expect(m.scsi.statefuls.map((s) => s.stateDesc.name)).toEqual(['scsi0', 'scsi0-id0', 'scsi0-id4']);
    expect(m.blockDevices).toContain(sd);
    m.flush();
    expect(sd.flushes).toBe(1);
    expect(cd.flushes).toBe(0);
  });

  it('boots from a SCSI disk with no IDE disk attached; with scsiFirst a SCSI disk is 80h beside an IDE one', async () => {
    // mov dx,3F8h; mov al,[7DFDh] (the sector's own tag); out dx,al; cli; hlt
    const bootSector = (tag: number) => {
      const d = new MemoryDisk(2048);
      d.bytes.set([0xba, 0xf8, 0x03, 0xa0, 0xfd, 0x7d, 0xee, 0xfa, 0xf4], 0);
      d.bytes[509] = tag; d.bytes[510] = 0x55; d.bytes[511] = 0xaa;
      return d;
    };
    const only = new PcMachine({ bootOrder: ['hd'], scsi: [{ model: 'aha1542', devices: [{ id: 2, disk: bootSector(0x53) }] }] });
    expect((await only.run({ maxInstructions: 20e6 })).stop).toBe('halted');
    expect(only.serialOutput).toBe('S');
    const first = new PcMachine({ bootOrder: ['hd'], hardDisks: [bootSector(0x49)], scsiFirst: true, scsi: [{ devices: [{ id: 0, disk: bootSector(0x53) }] }] });
    expect((await first.run({ maxInstructions: 20e6 })).stop).toBe('halted');
    expect(first.serialOutput).toBe('S');
    const after = new PcMachine({ bootOrder: ['hd'], hardDisks: [bootSector(0x49)], scsi: [{ devices: [{ id: 0, disk: bootSector(0x53) }] }] });
    expect((await after.run({ maxInstructions: 20e6 })).stop).toBe('halted');
    expect(after.serialOutput).toBe('I');
  });

  it('two AHA-1542s at 330h and 334h by default; a clash of ports, IRQs or DMA channels is refused', () => {
    const m = new PcMachine({ scsi: [{ model: 'aha1542', devices: [] }, { model: 'aha1542', devices: [] }] });
    expect(m.io.read8(0x330)).toBe(0x30);
    expect(m.io.read8(0x334)).toBe(0x30);
    expect(() => new PcMachine({ scsi: [{ model: 'aha1542', devices: [] }, { model: 'aha1542', isa: { port: 0x230, irq: 10, dma: 6 }, devices: [] }] })).toThrow(/share/);
    expect(() => new PcMachine({ scsi: [0, 1, 2].map(() => ({ model: 'aha1542' as const, devices: [] })) })).toThrow(/needs its port/);
  });

  it('refuses SCSI ID 7 and IDs taken twice', () => {
    expect(() => new PcMachine({ scsi: [{ devices: [{ id: 7, disk: new MemoryDisk(8) }] }] })).toThrow(/7/);
    expect(() => new PcMachine({ scsi: [{ devices: [{ id: 1, disk: new MemoryDisk(8) }, { id: 1, disk: new MemoryDisk(8) }] }] })).toThrow(/twice/);
  });

  it('--scsi FILE[,id=N][,adapter=K] and --scsi-adapter', () => {
    expect(scsiConfig(['a.vhd', 'b.vhd', 'c.iso,id=5', 'd.vhd,adapter=1'], [])).toEqual([
      { model: 'buslogic', devices: [{ path: 'a.vhd', id: 0 }, { path: 'b.vhd', id: 1 }, { path: 'c.iso', id: 5 }] },
      { model: 'buslogic', devices: [{ path: 'd.vhd', id: 0 }] },
    ]);
    expect(scsiConfig(['a.vhd,id=6', 'b.vhd'], ['aha1542'])[0]).toEqual({ model: 'aha1542', devices: [{ path: 'a.vhd', id: 6 }, { path: 'b.vhd', id: 0 }] });
    expect(scsiConfig(['x,id=0', 'y,id=1', 'z,id=2', 'w,id=3', 'v,id=4', 'u,id=5', 't,id=6', 's'], [])[0].devices.at(-1)).toEqual({ path: 's', id: 8 });
    expect(() => scsiConfig(['a.vhd,id=7'], [])).toThrow(/not free/);
    expect(() => scsiConfig(['a.vhd,id=2', 'b.vhd,id=2'], [])).toThrow(/taken/);
    expect(() => scsiConfig(['a.vhd,adapter=4'], [])).toThrow(/0-3/);
    expect(() => scsiConfig(['a.vhd,lun=1'], [])).toThrow(/unknown option/);
    expect(() => scsiConfig([], ['adaptec'])).toThrow(/buslogic or aha1542/);
    expect(() => scsiConfig(['a.vhd,id=9'], ['aha1542'])).toThrow(/IDs 0-6/);
    expect(() => scsiConfig([], ['aha1542', 'aha1542', 'aha1542'])).toThrow(/at most two/);
  });
});

describe('soulvm run --scsi', () => {
  it('boots a raw disk image from a SCSI adapter with --boot s, on either model; --undo covers SCSI disks', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { soulvm, tempDir } = await import('../disk/helpers.ts');
    const { createVhd, VhdDisk } = await import('../../src/disk/index.ts');
    const dir = tempDir('scsi-cli');
    // mov dx,3F8h; mov al,'S'; out dx,al; cli; hlt
    const sector = new Uint8Array(512);
    sector.set([0xba, 0xf8, 0x03, 0xb0, 0x53, 0xee, 0xfa, 0xf4], 0);
    sector[510] = 0x55; sector[511] = 0xaa;
    const img = path.join(dir, 'boot.img');
    fs.writeFileSync(img, Buffer.concat([Buffer.from(sector), Buffer.alloc(512 * 63)]));
    for (const model of ['buslogic', 'aha1542']) {
      const r = soulvm(['run', '--scsi', `${img},id=2`, '--scsi-adapter', model, '--boot', 's', '--clock', 'deterministic', '--max-instructions', '50000000'], dir);
      expect(r.stdout, r.stderr).toBe('S');
      expect(r.status).toBe(0);
    }
    const vhd = path.join(dir, 'boot.vhd');
    createVhd(vhd, { type: 'dynamic', size: 1 << 20 });
    const d = VhdDisk.open(vhd);
    d.write(0, sector);
    d.close();
    const u = soulvm(['run', '--scsi', vhd, '--boot', 's', '--undo', '--clock', 'deterministic', '--max-instructions', '50000000'], dir);
    expect(u.stdout, u.stderr).toBe('S');
    expect(u.stderr).toMatch(/discarded the changes in .*boot\.vud/);
    const bad = soulvm(['run', '--scsi', `${img},id=7`], dir);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/SCSI ID 7 is not free/);
  });
});
