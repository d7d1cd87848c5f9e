// Placing SCSI host adapters and their targets in a PC: up to four adapters, each with disks
// (any 512-byte BlockDevice) and CD-ROM drives (an ISO, or empty) at SCSI IDs 0-6 (and 8-15
// on the wide BT-958); the adapter itself is ID 7. BusLogic BT-958s go into PCI slots 8-11;
// AHA-1542s are ISA cards: the first at 330h, IRQ 10, DMA 5 (IRQ 11, the factory setting, is
// where this PC's BIOS routes PCI interrupts), the second at 334h, IRQ 12, DMA 6, unless the
// configuration says otherwise.

import type { BlockDevice } from '../../disk/block-device.ts';
import type { IoBus } from '../../bus/io.ts';
import type { MemoryBus } from '../../bus/memory.ts';
import { irqLine, type IrqSink } from '../../bus/interrupts.ts';
import type { Dma8237 } from '../dma8237.ts';
import { Aha1542, type Aha1542Options } from './aha1542.ts';
import { named, type Stateful } from '../../state/state.ts';
import type { PciBus } from '../pci/pci-bus.ts';
import { BusLogic } from './buslogic.ts';
import { ScsiCdrom } from './cdrom.ts';
import { ScsiDisk } from './disk.ts';
import type { ScsiTarget } from './scsi.ts';
import { ScsiBiosDisk } from './bios-disk.ts';

export type ScsiAdapterModel = 'buslogic' | 'aha1542';
export const SCSI_ADAPTER_MODELS: readonly ScsiAdapterModel[] = ['buslogic', 'aha1542'];
export const MAX_SCSI_ADAPTERS = 4;
const FIRST_SLOT = 8;

export interface ScsiDeviceConfig {
  /** SCSI ID (0-6, or 8-15 on a BT-958). */
  id: number;
  /** A hard disk on this block device. */
  disk?: BlockDevice;
  /** A CD-ROM drive with this disc (null: empty). */
  cdrom?: BlockDevice | null;
}

export interface ScsiAdapterConfig {
  /** Default: the BusLogic BT-958. */
  model?: ScsiAdapterModel;
  devices: ScsiDeviceConfig[];
  /** AHA-1542: port, IRQ and DMA channel. */
  isa?: Aha1542Options;
}

export interface ScsiAdapterInfo {
  model: ScsiAdapterModel;
  adapter: BusLogic | Aha1542;
  targets: (ScsiTarget | undefined)[];
}

/** What the adapters are attached to. */
export interface ScsiBuses { pci: PciBus; io: IoBus; mem: MemoryBus; dma: Dma8237; irqs: IrqSink }

const AHA_DEFAULTS: Aha1542Options[] = [{ port: 0x330, irq: 10, dma: 5 }, { port: 0x334, irq: 12, dma: 6 }];

/** Give a device's saved-state section a name of its own (several instances of one model). */
function rename<T extends Stateful>(obj: T, name: string): T {
  (obj as { stateDesc: Stateful['stateDesc'] }).stateDesc = named(obj.stateDesc, name);
  return obj;
}

/** Build each adapter's targets and the adapter; returns them and their saved-state sections. */
export function attachScsi(buses: ScsiBuses, configs: readonly ScsiAdapterConfig[]): { adapters: ScsiAdapterInfo[]; statefuls: Stateful[]; reset(): void } {
  if (configs.length > MAX_SCSI_ADAPTERS) throw new RangeError(`at most ${MAX_SCSI_ADAPTERS} SCSI adapters`);
  const adapters: ScsiAdapterInfo[] = [];
  const statefuls: Stateful[] = [];
  configs.forEach((cfg, k) => {
    const model = cfg.model ?? 'buslogic';
    const maxId = model === 'buslogic' ? 15 : 7;
    const targets: (ScsiTarget | undefined)[] = new Array(maxId + 1).fill(undefined);
    for (const d of cfg.devices) {
      if (!Number.isInteger(d.id) || d.id < 0 || d.id > maxId || d.id === 7) throw new RangeError(`SCSI ID ${d.id} is not free on a ${model} (0-${maxId}, 7 is the adapter)`);
      if (targets[d.id]) throw new RangeError(`SCSI ID ${d.id} on adapter ${k} is taken twice`);
      if ((d.disk !== undefined) === (d.cdrom !== undefined)) throw new RangeError('a SCSI device is either a disk or a CD-ROM drive');
      targets[d.id] = d.disk ? new ScsiDisk(d.disk, { serial: `SV${k}${String(d.id).padStart(2, '0')}0000000001` }) : new ScsiCdrom(d.cdrom ?? undefined);
    }
    let adapter: BusLogic | Aha1542;
    if (model === 'buslogic') {
      adapter = new BusLogic(buses.pci, FIRST_SLOT + k, targets);
    } else {
      const nth = adapters.filter((a) => a.model === 'aha1542').length;
      if (nth >= AHA_DEFAULTS.length && !cfg.isa) throw new RangeError(`AHA-1542 number ${nth + 1} needs its port, IRQ and DMA channel`);
      const isa = { ...(AHA_DEFAULTS[nth] ?? {}), ...cfg.isa };
      for (const other of adapters) {
        if (!(other.adapter instanceof Aha1542)) continue;
        const o = other.adapter;
        if (o.port === isa.port || o.irq === isa.irq || o.dmaChannel === isa.dma) {
          throw new RangeError(`two AHA-1542s share a port, an IRQ or a DMA channel (${o.port.toString(16)}h/${o.irq}/${o.dmaChannel})`);
        }
      }
      adapter = new Aha1542(buses.io, buses.mem, buses.dma, (irq) => irqLine(buses.irqs, irq), targets.slice(0, 8), isa);
    }
    adapters.push({ model, adapter, targets });
    statefuls.push(rename(adapter, `scsi${k}`));
    targets.forEach((t, id) => { if (t) statefuls.push(rename(t, `scsi${k}-id${id}`)); });
  });
  // PCI adapters are reset with the PCI bus; the ISA cards by the machine.
  const reset = () => { for (const a of adapters) if (a.adapter instanceof Aha1542) a.adapter.reset(); };
  return { adapters, statefuls, reset };
}

/** The SCSI disks as the BIOS numbers them: adapter by adapter, by SCSI ID. */
export function scsiBiosDisks(adapters: readonly ScsiAdapterInfo[]): BlockDevice[] {
  const out: BlockDevice[] = [];
  adapters.forEach((a, k) => a.targets.forEach((t, id) => { if (t instanceof ScsiDisk) out.push(new ScsiBiosDisk(t, `SCSI disk ${k}:${id}`)); }));
  return out;
}
