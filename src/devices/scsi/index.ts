// Placing SCSI host adapters and their targets in a PC: up to four adapters, each with disks
// (any 512-byte BlockDevice) and CD-ROM drives (an ISO, or empty) at SCSI IDs 0-6 (and 8-15
// on the wide BT-958); the adapter itself is ID 7. BusLogic BT-958s go into PCI slots 8-11.

import type { BlockDevice } from '../../disk/block-device.ts';
import { named, type Stateful } from '../../state/state.ts';
import type { PciBus } from '../pci/pci-bus.ts';
import { BusLogic } from './buslogic.ts';
import { ScsiCdrom } from './cdrom.ts';
import { ScsiDisk } from './disk.ts';
import type { ScsiTarget } from './scsi.ts';

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
}

export interface ScsiAdapterInfo {
  model: ScsiAdapterModel;
  adapter: BusLogic;
  targets: (ScsiTarget | undefined)[];
}

/** Give a device's saved-state section a name of its own (several instances of one model). */
function rename<T extends Stateful>(obj: T, name: string): T {
  (obj as { stateDesc: Stateful['stateDesc'] }).stateDesc = named(obj.stateDesc, name);
  return obj;
}

/** Build each adapter's targets and the adapter; returns them and their saved-state sections. */
export function attachScsi(pci: PciBus, configs: readonly ScsiAdapterConfig[]): { adapters: ScsiAdapterInfo[]; statefuls: Stateful[] } {
  if (configs.length > MAX_SCSI_ADAPTERS) throw new RangeError(`at most ${MAX_SCSI_ADAPTERS} SCSI adapters`);
  const adapters: ScsiAdapterInfo[] = [];
  const statefuls: Stateful[] = [];
  configs.forEach((cfg, k) => {
    const model = cfg.model ?? 'buslogic';
    if (model !== 'buslogic') throw new RangeError(`SCSI adapter model ${model} is not available yet`);
    const maxId = 15;
    const targets: (ScsiTarget | undefined)[] = new Array(maxId + 1).fill(undefined);
    for (const d of cfg.devices) {
      if (!Number.isInteger(d.id) || d.id < 0 || d.id > maxId || d.id === 7) throw new RangeError(`SCSI ID ${d.id} is not free on a ${model} (0-${maxId}, 7 is the adapter)`);
      if (targets[d.id]) throw new RangeError(`SCSI ID ${d.id} on adapter ${k} is taken twice`);
      if ((d.disk !== undefined) === (d.cdrom !== undefined)) throw new RangeError('a SCSI device is either a disk or a CD-ROM drive');
      targets[d.id] = d.disk ? new ScsiDisk(d.disk, { serial: `SV${k}${String(d.id).padStart(2, '0')}0000000001` }) : new ScsiCdrom(d.cdrom ?? undefined);
    }
    const adapter = new BusLogic(pci, FIRST_SLOT + k, targets);
    adapters.push({ model, adapter, targets });
    statefuls.push(rename(adapter, `scsi${k}`));
    targets.forEach((t, id) => { if (t) statefuls.push(rename(t, `scsi${k}-id${id}`)); });
  });
  return { adapters, statefuls };
}
