// The BusLogic BT-958 PCI Wide Ultra SCSI host adapter (MultiMaster firmware 5.07B), as
// Linux's BusLogic driver probes it: PCI 104Bh:1040h, class 010000h, BAR 0 the four I/O
// registers, BAR 1 the same registers in memory space, INTA#; 32-bit mailboxes and CCBs with
// scatter-gather, residuals and auto-sense (mailbox-adapter.ts does the work common with the
// AHA-154x). The ISA-compatible port is reported disabled (Linux disables it anyway).
//
// The host adapter commands, with the replies the driver reads (MultiMaster technical
// reference; BusLogic.h gives the structures):
//   00h test command complete interrupt   01h/81h initialize (extended) mailbox
//   02h start mailbox command             04h inquire board ID: 'A' 'A' '5' '0'
//   05h enable outgoing mailbox available interrupt      06h-09h timing settings (accepted)
//   0Ah/23h inquire installed devices 0-7/8-15           0Bh inquire configuration
//   0Dh inquire setup information         1Fh echo       20h host adapter diagnostic
//   24h inquire target devices            25h enable/disable host adapter interrupt
//   84h/85h firmware version third digit and letter: '7' 'B'   86h inquire PCI host adapter information
//   8Bh inquire model number "958"        8Ch inquire synchronous period
//   8Dh inquire extended setup information                8Fh strict round robin mode
//   91h fetch host adapter local RAM (the AutoSCSI area)  95h modify I/O address (no interrupt)
//   96h set CCB format (legacy or extended LUN)

import type { StateDesc } from '../../state/state.ts';
import { dmaFromMemory, dmaToMemory } from '../pci/dma.ts';
import { PciDevice } from '../pci/pci-device.ts';
import type { PciBus } from '../pci/pci-bus.ts';
import { MailboxAdapter, type CommandSpec } from './mailbox-adapter.ts';
import type { ScsiTarget } from './scsi.ts';

export const BUSLOGIC_VENDOR = 0x104b;
export const BUSLOGIC_MULTIMASTER = 0x1040;
/** Linux handles at most 192 queued commands on a BT-958; this is the scatter-gather limit. */
const SG_LIMIT = 8192;

/** The 64-byte AutoSCSI settings in local RAM at 64 (BusLogic.h struct blogic_autoscsi). */
function autoScsi(id: number): Uint8Array {
  const a = new Uint8Array(64);
  a[0] = 0x42; a[1] = 0x54;          // factory signature "BT"
  a[2] = 64;                          // information bytes
  a.set([...'958   '].map((c) => c.charCodeAt(0)), 3);
  a[10] = 0x04;                       // level-sensitive interrupt
  a[14] = id;                         // host adapter SCSI ID
  a[15] = 0x01 | 0x02 | 0x04 | 0x20;  // low and high termination, parity, SCSI reset at power-on
  a[18] = 0x04;                       // extended translation; no BIOS
  for (const o of [19, 21, 23, 25, 27, 34]) { a[o] = 0xff; a[o + 1] = 0xff; } // devices enabled, wide, fast, sync, disconnect, ultra permitted
  a[41] = 7;                          // maximum LUN
  return a;
}

class MultiMaster extends MailboxAdapter {
  readonly stateDesc: StateDesc;
  private readonly localRam = new Uint8Array(256);
  private isaPort = 6; // disabled

  constructor(targets: readonly (ScsiTarget | undefined)[], private readonly pci: BusLogic) {
    super(targets, {
      get usable() { return pci.busMasterEnabled; },
      limit: 0x100000000,
      read: (a, dst, start, len) => dmaFromMemory(pci.bus.mem, a, dst, start, len),
      write: (a, src, start, len) => dmaToMemory(pci.bus.mem, a, src, start, len),
    });
    this.localRam.set(autoScsi(this.scsiId), 64);
    this.stateDesc = this.adapterState('buslogic-firmware', 1, { isaPort: { type: 'u8', max: 7 } });
  }

  protected setIrq(level: boolean): void { this.pci.setIntx(level); }

  /** Extended translation on (255 heads, 63 sectors for disks of 2 GiB and more). */
  protected override geometry(): number { return 0x80; }

  private setupInfo(): Uint8Array {
    const s = new Uint8Array(34);
    s[0] = 0x02;              // parity on, synchronous negotiation off
    s[1] = 0x00;              // transfer rate
    s[4] = this.wide ? 0 : this.mbCount;
    if (!this.wide) { s[5] = this.mbBase >>> 16; s[6] = this.mbBase >>> 8; s[7] = this.mbBase; }
    s[16] = 0xff;             // disconnect permitted 0-7
    s[17] = 0x42;             // 'B': BusLogic signature
    s[18] = 0x44;             // 'D'
    s[19] = 0x45;             // 'E': bus type
    s[20] = 0xff;             // wide transfers permitted 0-7
    s[30] = 0xff;             // disconnect permitted 8-15
    s[32] = 0xff;             // wide transfers permitted 8-15
    return s;
  }

  private extendedSetup(): Uint8Array {
    const e = new Uint8Array(14);
    e[0] = 0x45;              // 'E' (EISA/PCI)
    e[1] = 0x00;              // BIOS disabled
    e[2] = SG_LIMIT & 0xff; e[3] = SG_LIMIT >>> 8;
    e[4] = this.mbCount;
    e[5] = this.mbBase; e[6] = this.mbBase >>> 8; e[7] = this.mbBase >>> 16; e[8] = this.mbBase >>> 24;
    e[9] = 0x40;              // level-sensitive interrupt
    e.set([0x30 + 7, 0x42, 0x20], 10); // firmware revision "7B "
    e[13] = 0x01 | 0x08;      // wide, ultra
    return e;
  }

  /** A reply of exactly `n` bytes cut from (or padded after) `data`. */
  private sized(data: ArrayLike<number>, n: number): Uint8Array {
    const r = new Uint8Array(n);
    r.set(Array.from(data).slice(0, n));
    return r;
  }

  protected commandSpec(op: number): CommandSpec | undefined {
    switch (op) {
      case 0x00: return { params: 0, run: () => [] };
      case 0x01: return { params: 4, run: (p) => this.initMailboxes(p[0], (p[1] << 16) | (p[2] << 8) | p[3], false) ? [] : null };
      case 0x02: return { params: 0, silent: true, run: () => (this.startMailboxes() ? [] : null) };
      case 0x04: return { params: 0, run: () => [0x41, 0x41, 0x35, 0x30] };
      case 0x05: return { params: 1, run: (p) => (p[0] > 1 ? null : ((this.mboInterrupt = p[0] === 1), [])) };
      case 0x06: return { params: 4, run: () => [] };
      case 0x07: case 0x08: case 0x09: return { params: 1, run: () => [] };
      case 0x0a: return { params: 0, run: () => this.installedDevices(0) };
      case 0x23: return { params: 0, run: () => this.installedDevices(8) };
      case 0x0b: return { params: 0, run: () => [0x00, this.irqBits(), this.scsiId] };
      case 0x0d: return { params: 1, run: (p) => this.sized(this.setupInfo(), p[0]) };
      case 0x1f: return { params: 1, run: (p) => [p[0]] };
      case 0x20: return { params: 0, run: () => [] };
      case 0x24: return {
        params: 0, run: () => {
          let bits = 0;
          this.targets.forEach((t, i) => { if (t && i < 16) bits |= 1 << i; });
          return [bits & 0xff, bits >>> 8];
        },
      };
      case 0x25: return { params: 1, run: (p) => (p[0] > 1 ? null : (this.enableInterrupts(p[0] === 1), [])) };
      case 0x81: return { params: 5, run: (p) => this.initMailboxes(p[0], p[1] | (p[2] << 8) | (p[3] << 16) | (p[4] << 24), true) ? [] : null };
      case 0x84: return { params: 0, run: () => [0x37] };
      case 0x85: return { params: 0, run: () => [0x42] };
      case 0x86: return { params: 0, run: () => [this.isaPort, this.pci.config[0x3c], 0x80 | 0x03, 0] };
      case 0x8b: return { params: 1, run: (p) => this.sized([0x39, 0x35, 0x38, 0, 0], p[0]) };
      case 0x8c: return { params: 1, run: (p) => new Uint8Array(p[0]) }; // asynchronous everywhere
      case 0x8d: return { params: 1, run: (p) => this.sized(this.extendedSetup(), p[0]) };
      case 0x8f: return { params: 1, run: (p) => (p[0] > 1 ? null : ((this.strictRoundRobin = p[0] === 1), [])) };
      case 0x91: return { params: 2, run: (p) => (p[0] + p[1] > 256 ? null : this.localRam.slice(p[0], p[0] + p[1])) };
      case 0x95: return { params: 1, silent: true, run: (p) => (p[0] > 7 ? null : ((this.isaPort = p[0]), [])) };
      case 0x96: return { params: 1, run: (p) => (p[0] > 1 ? null : ((this.extendedLun = p[0] === 1), [])) };
      default: return undefined;
    }
  }

  /** INQUIRE CONFIGURATION byte 1: the ISA IRQ, where one of 9-12, 14, 15 applies. */
  private irqBits(): number {
    const bit: Record<number, number> = { 9: 0x01, 10: 0x02, 11: 0x04, 12: 0x08, 14: 0x20, 15: 0x40 };
    return bit[this.pci.config[0x3c]] ?? 0;
  }
}

export class BusLogic extends PciDevice {
  readonly stateDesc: StateDesc;
  readonly firmware: MultiMaster;

  /** `targets[id]` is the device at SCSI ID `id` (0-15, not 7: the adapter's own). */
  constructor(bus: PciBus, slot: number, readonly targets: readonly (ScsiTarget | undefined)[]) {
    super(bus, slot << 3, {
      vendorId: BUSLOGIC_VENDOR, deviceId: BUSLOGIC_MULTIMASTER, classCode: 0x010000, revision: 0x08,
      subsystemVendorId: BUSLOGIC_VENDOR, subsystemId: BUSLOGIC_MULTIMASTER, interruptPin: 1,
    });
    if (targets.length > 16) throw new RangeError('a BT-958 has SCSI IDs 0-15');
    this.set16(0x06, 0x0200); // DEVSEL medium
    this.firmware = new MultiMaster(targets, this);
    const fw = this.firmware;
    this.defineBar(0, { kind: 'io', size: 4, handlers: { read8: (o) => fw.readPort(o), write8: (o, v) => fw.writePort(o, v) } });
    this.defineBar(1, { kind: 'mem', size: 32, handler: { read8: (o) => fw.readPort(o), write8: (o, v) => fw.writePort(o, v) } });
    this.stateDesc = this.pciState('buslogic', 1, { firmware: { struct: fw.stateDesc } });
  }

  override reset(): void {
    super.reset();
    this.firmware.resetAdapter(false);
    for (const t of this.targets) t?.busReset();
  }
}
