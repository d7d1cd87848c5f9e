// The Adaptec AHA-1542C ISA SCSI host adapter: four I/O ports at a jumpered base (130h, 134h,
// 230h, 234h, 330h or 334h), an ISA interrupt (9-12, 14, 15) and an ISA DMA channel (0, 5, 6,
// 7) that the driver puts in cascade mode, after which the adapter masters the ISA bus itself
// with 24-bit addresses (the low 16 MiB). 24-bit mailboxes and CCBs with scatter-gather and
// auto-sense (mailbox-adapter.ts does the work).
//
// Host adapter commands (AHA-1540C/1542C technical reference; what Linux's aha1542.c sends):
//   00h no operation            01h mailbox initialization     02h start SCSI command
//   04h adapter inquiry: 'D' (1540C/1542C), 'A', firmware "01"  05h enable MBO available interrupt
//   06h selection timeout       07h-09h bus on/off time, transfer speed (accepted)
//   0Ah return installed devices   0Bh return configuration data   0Dh return setup data
//   1Fh echo   20h adapter diagnostic   28h return extended BIOS information (nothing locked)
//   29h enable mailbox interface (the lock code must match: 0)
// Anything else is an invalid command; BusLogic's extended commands (8xh) among them, which is
// how Linux's BusLogic driver tells an Adaptec from its own boards.

import type { IrqLine } from '../../bus/interrupts.ts';
import type { IoBus } from '../../bus/io.ts';
import type { MemoryBus } from '../../bus/memory.ts';
import type { StateDesc } from '../../state/state.ts';
import type { Dma8237 } from '../dma8237.ts';
import { dmaFromMemory, dmaToMemory } from '../pci/dma.ts';
import { MailboxAdapter, type CommandSpec } from './mailbox-adapter.ts';
import type { ScsiTarget } from './scsi.ts';

export const AHA_PORTS = [0x130, 0x134, 0x230, 0x234, 0x330, 0x334];
export const AHA_IRQS = [9, 10, 11, 12, 14, 15];
export const AHA_DMA_CHANNELS = [0, 5, 6, 7];

export interface Aha1542Options {
  /** I/O base (default 330h). */
  port?: number;
  /** ISA interrupt (default 11, the factory jumper). */
  irq?: number;
  /** ISA DMA channel (default 5). */
  dma?: number;
}

export class Aha1542 extends MailboxAdapter {
  readonly stateDesc: StateDesc;
  readonly port: number;
  readonly irq: number;
  readonly dmaChannel: number;

  constructor(io: IoBus, mem: MemoryBus, dma: Dma8237, irqLine: (irq: number) => IrqLine, targets: readonly (ScsiTarget | undefined)[], options: Aha1542Options = {}) {
    const port = options.port ?? 0x330, irq = options.irq ?? 11, channel = options.dma ?? 5;
    super(targets, {
      get usable() { return dma.cascaded(channel); },
      limit: 0x1000000,
      read: (a, dst, start, len) => dmaFromMemory(mem, a, dst, start, len),
      write: (a, src, start, len) => dmaToMemory(mem, a, src, start, len),
    });
    if (!AHA_PORTS.includes(port)) throw new RangeError(`an AHA-1542 sits at ${AHA_PORTS.map((p) => p.toString(16) + 'h').join(', ')}, not ${port.toString(16)}h`);
    if (!AHA_IRQS.includes(irq)) throw new RangeError(`an AHA-1542 uses IRQ ${AHA_IRQS.join(', ')}, not ${irq}`);
    if (!AHA_DMA_CHANNELS.includes(channel)) throw new RangeError(`an AHA-1542 uses DMA channel ${AHA_DMA_CHANNELS.join(', ')}, not ${channel}`);
    if (targets.length > 8) throw new RangeError('an AHA-1542 has SCSI IDs 0-7');
    this.port = port; this.irq = irq; this.dmaChannel = channel;
    const line = irqLine(irq);
    this.setIrqLine = (level) => (level ? line.raise() : line.lower());
    io.map(port, port + 3, { read8: (p) => this.readPort(p - port), write8: (p, v) => this.writePort(p - port, v) });
    this.stateDesc = this.adapterState('aha1542', 1);
  }

  private readonly setIrqLine: (level: boolean) => void;
  protected setIrq(level: boolean): void { this.setIrqLine(level); }

  /** An AHA-154x does not decode +3: the ISA bus floats. */
  protected override geometry(): number { return 0xff; }

  reset(): void {
    this.resetAdapter(false);
    for (const t of this.targets) t?.busReset();
  }

  protected commandSpec(op: number): CommandSpec | undefined {
    switch (op) {
      case 0x00: return { params: 0, run: () => [] };
      case 0x01: return { params: 4, run: (p) => (this.initMailboxes(p[0], (p[1] << 16) | (p[2] << 8) | p[3], false) ? [] : null) };
      case 0x02: return { params: 0, silent: true, run: () => (this.startMailboxes() ? [] : null) };
      case 0x04: return { params: 0, run: () => [0x44, 0x41, 0x30, 0x31] };
      case 0x05: return { params: 1, run: (p) => (p[0] > 1 ? null : ((this.mboInterrupt = p[0] === 1), [])) };
      case 0x06: return { params: 4, run: () => [] };
      case 0x07: return { params: 1, run: (p) => (p[0] < 2 || p[0] > 15 ? null : []) };
      case 0x08: return { params: 1, run: (p) => (p[0] < 1 || p[0] > 64 ? null : []) };
      case 0x09: return { params: 1, run: () => [] };
      case 0x0a: return { params: 0, run: () => this.installedDevices(0) };
      case 0x0b: return { params: 0, run: () => [this.dmaBits(), this.irqBits(), this.scsiId] };
      case 0x0d: return { params: 1, run: (p) => this.setupData(p[0]) };
      case 0x1f: return { params: 1, run: (p) => [p[0]] };
      case 0x20: return { params: 0, run: () => [] };
      case 0x28: return { params: 0, run: () => [0x00, 0x00] };
      case 0x29: return { params: 2, run: (p) => (p[1] !== 0 ? null : []) };
      default: return undefined;
    }
  }

  private dmaBits(): number { return this.dmaChannel === 0 ? 0x01 : 1 << this.dmaChannel; }

  private irqBits(): number { return { 9: 0x01, 10: 0x02, 11: 0x04, 12: 0x08, 14: 0x20, 15: 0x40 }[this.irq] ?? 0; }

  /** Return setup data (0Dh): synchronous negotiation off, parity on, the mailbox setup. */
  private setupData(n: number): Uint8Array {
    const s = new Uint8Array(Math.max(n, 17));
    s[0] = 0x02;
    s[1] = 0x00;   // transfer speed 5 MB/s
    s[2] = 11;     // bus on time
    s[3] = 4;      // bus off time
    s[4] = this.mbCount;
    s[5] = this.mbBase >>> 16; s[6] = this.mbBase >>> 8; s[7] = this.mbBase;
    return s.slice(0, n);
  }
}
