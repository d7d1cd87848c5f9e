// An ATA hard disk on any BlockDevice with 512-byte sectors (ATA/ATAPI-6 command set):
// PIO single and multiple, DMA, LBA28, LBA48 and CHS addressing, IDENTIFY DEVICE, SET
// FEATURES, FLUSH CACHE, power management commands and READ NATIVE MAX ADDRESS.
//
// Transfers complete inside the port access that starts them (the host sees BSY never set):
// PIO reads interrupt for each DRQ block, PIO writes interrupt after each block but the first
// and at the end, DMA interrupts once at the end (ATA-6 9.5-9.7). Errors: ABRT for unknown
// commands and bad parameters, IDNF for sectors outside the disk, UNC when the host file
// cannot be read, DF+ERR when it cannot be written.

import type { BlockDevice } from '../../disk/block-device.ts';
import { defineState } from '../../state/state.ts';
import {
  DEV_LBA, ER_ABRT, ER_IDNF, ER_UNC, IdeDevice, Pio, ST_DF, ST_DRDY, ST_DRQ, ST_DSC,
} from './ide-device.ts';

export interface Chs { cylinders: number; heads: number; sectors: number }

/** Largest number of sectors per DRQ block READ/WRITE MULTIPLE accepts (IDENTIFY word 47). */
export const MAX_MULTIPLE = 16;
/** Sectors moved per step of a DMA transfer (bounds the buffer, not the transfer). */
const DMA_CHUNK = 128;
const LBA28_LIMIT = 0x0fffffff;

/** The default CHS geometry of a disk of `sectors` sectors: 16 heads, 63 sectors per track. */
export function defaultGeometry(sectors: number): Chs {
  const cylinders = Math.max(1, Math.min(16383, Math.floor(sectors / (16 * 63))));
  return { cylinders, heads: 16, sectors: 63 };
}

export interface AtaDiskOptions {
  model?: string;
  serial?: string;
  firmware?: string;
  /** The CHS geometry IDENTIFY reports (e.g. the VHD footer's); defaults to defaultGeometry(). */
  geometry?: Chs;
}

const enum Xfer { None, PioRead, PioWrite, DmaRead, DmaWrite, Identify }

export class AtaDisk extends IdeDevice {
  readonly isAtapi = false;
  readonly stateDesc = defineState('ata-disk', 1, {
    ...this.baseState(),
    multiple: { type: 'u8', max: MAX_MULTIPLE }, curHeads: { type: 'u8', max: 16 }, curSectors: { type: 'u8', max: 255 },
    writeCache: 'bool', transferMode: 'u8', standby: 'bool', xfer: { type: 'u8', max: Xfer.Identify },
    lba: 'f64', left: { type: 'u32', max: 65536 }, lba48: 'bool', block: { type: 'u8', max: MAX_MULTIPLE },
  });
  readonly geometry: Chs;
  private readonly model: string;
  private readonly serial: string;
  private readonly firmware: string;
  /** Sectors per DRQ block for READ/WRITE MULTIPLE; 0 = multiple mode off. */
  multiple = 0;
  /** Translation set by INITIALIZE DEVICE PARAMETERS (current CHS heads and sectors). */
  private curHeads: number;
  private curSectors: number;
  private writeCache = true;
  /** SET FEATURES transfer mode: 0x08|n PIO n, 0x20|n multiword DMA n, 0x40|n UDMA n. */
  transferMode = 0x44;
  private standby = false;

  // The command in progress.
  private xfer = Xfer.None;
  private lba = 0;
  private left = 0;
  private lba48 = false;
  /** Sectors in the current PIO DRQ block. */
  private block = 0;

  constructor(readonly disk: BlockDevice, options: AtaDiskOptions = {}) {
    super(Math.max(MAX_MULTIPLE, DMA_CHUNK) * 512);
    if (disk.sectorSize !== 512) throw new RangeError(`an ATA disk needs 512-byte sectors, got ${disk.sectorSize}`);
    this.geometry = options.geometry ?? defaultGeometry(disk.sectorCount);
    this.model = options.model ?? 'Virtual HD';
    this.serial = options.serial ?? 'SV00000000000001';
    this.firmware = options.firmware ?? '1.1.0';
    this.curHeads = this.geometry.heads;
    this.curSectors = this.geometry.sectors;
  }

  override reset(): void {
    super.reset();
    this.xfer = Xfer.None;
  }

  /** Power-on reset: also forgets the settings software reset keeps. */
  override powerOn(): void {
    this.multiple = 0;
    this.curHeads = this.geometry.heads;
    this.curSectors = this.geometry.sectors;
    this.writeCache = true;
    this.transferMode = 0x44;
    this.reset();
  }

  command(cmd: number): void {
    switch (cmd) {
      case 0x20: case 0x21: return this.startRw(Xfer.PioRead, false, 1);
      case 0x24: return this.startRw(Xfer.PioRead, true, 1);
      case 0xc4: return this.multiple ? this.startRw(Xfer.PioRead, false, this.multiple) : this.abort();
      case 0x29: return this.multiple ? this.startRw(Xfer.PioRead, true, this.multiple) : this.abort();
      case 0x30: case 0x31: return this.startRw(Xfer.PioWrite, false, 1);
      case 0x34: return this.startRw(Xfer.PioWrite, true, 1);
      case 0xc5: return this.multiple ? this.startRw(Xfer.PioWrite, false, this.multiple) : this.abort();
      case 0x39: return this.multiple ? this.startRw(Xfer.PioWrite, true, this.multiple) : this.abort();
      case 0xc8: case 0xc9: return this.startRw(Xfer.DmaRead, false, 0);
      case 0x25: return this.startRw(Xfer.DmaRead, true, 0);
      case 0xca: case 0xcb: return this.startRw(Xfer.DmaWrite, false, 0);
      case 0x35: return this.startRw(Xfer.DmaWrite, true, 0);
      case 0x40: case 0x41: return this.verify(false);
      case 0x42: return this.verify(true);
      case 0xec: return this.identify();
      case 0xc6: return this.setMultiple();
      case 0x91: return this.initializeParameters();
      case 0xef: return this.setFeatures();
      case 0xe7: case 0xea: return this.flushCache();
      case 0xf8: return this.readNativeMax(false);
      case 0x27: return this.readNativeMax(true);
      case 0xe0: case 0x94: case 0xe2: case 0x96: case 0xe6: case 0x99: // standby (immediate), sleep
        this.standby = true; return this.complete();
      case 0xe1: case 0x95: case 0xe3: case 0x97: // idle (immediate)
        this.standby = false; return this.complete();
      case 0xe5: case 0x98: // CHECK POWER MODE: FFh active or idle, 00h standby
        this.count = this.standby ? 0x00 : 0xff; return this.complete();
      case 0x70: return this.seek();
      case 0x90: return this.channel.executeDiagnostic();
      default:
        if (cmd >= 0x10 && cmd <= 0x1f) return this.complete(); // RECALIBRATE
        return this.abort(); // includes NOP, PACKET, IDENTIFY PACKET DEVICE, DEVICE RESET
    }
  }

  // ---- addressing ----

  /** The starting sector and count the registers hold, or -1 when the address is invalid. */
  private address(ext: boolean): { lba: number; count: number } | undefined {
    if (ext) {
      const lba = (this.lbaLow | (this.lbaMid << 8) | (this.lbaHigh << 16)) +
        (this.hobLbaLow + this.hobLbaMid * 256 + this.hobLbaHigh * 65536) * 0x1000000;
      const count = (this.count | (this.hobCount << 8)) || 65536;
      return { lba, count };
    }
    const count = this.count || 256;
    if (this.device & DEV_LBA) {
      return { lba: this.lbaLow | (this.lbaMid << 8) | (this.lbaHigh << 16) | ((this.device & 0x0f) << 24), count };
    }
    const cyl = this.lbaMid | (this.lbaHigh << 8), head = this.device & 0x0f, sector = this.lbaLow;
    if (sector === 0 || sector > this.curSectors || head >= this.curHeads) return undefined;
    return { lba: (cyl * this.curHeads + head) * this.curSectors + sector - 1, count };
  }

  /** Write sector `lba` back into the address registers, in the mode the command used. */
  private setAddress(lba: number, ext: boolean): void {
    if (ext) {
      this.lbaLow = lba & 0xff; this.lbaMid = (lba >>> 8) & 0xff; this.lbaHigh = (lba >>> 16) & 0xff;
      const hi = Math.floor(lba / 0x1000000);
      this.hobLbaLow = hi & 0xff; this.hobLbaMid = (hi >>> 8) & 0xff; this.hobLbaHigh = (hi >>> 16) & 0xff;
    } else if (this.device & DEV_LBA) {
      this.lbaLow = lba & 0xff; this.lbaMid = (lba >>> 8) & 0xff; this.lbaHigh = (lba >>> 16) & 0xff;
      this.device = (this.device & 0xf0) | ((lba >>> 24) & 0x0f);
    } else {
      const cyl = Math.floor(lba / (this.curHeads * this.curSectors));
      const rest = lba % (this.curHeads * this.curSectors);
      this.lbaMid = cyl & 0xff; this.lbaHigh = (cyl >>> 8) & 0xff;
      this.device = (this.device & 0xf0) | Math.floor(rest / this.curSectors);
      this.lbaLow = (rest % this.curSectors) + 1;
    }
  }

  /** Sectors addressable by LBA28 commands and by LBA48 ones. */
  private get capacity(): number { return this.disk.sectorCount; }

  // ---- reads and writes ----

  private startRw(kind: Xfer, ext: boolean, block: number): void {
    const a = this.address(ext);
    if (!a) return this.fail(ER_IDNF);
    if (a.lba + a.count > this.capacity) {
      this.setAddress(Math.min(a.lba, this.capacity), ext);
      return this.fail(ER_IDNF);
    }
    if ((kind === Xfer.PioWrite || kind === Xfer.DmaWrite) && this.disk.readOnly) return this.abort();
    this.xfer = kind; this.lba = a.lba; this.left = a.count; this.lba48 = ext; this.block = block;
    this.standby = false;
    if (kind === Xfer.PioRead) this.nextReadBlock();
    else if (kind === Xfer.PioWrite) this.nextWriteBlock(false);
    else {
      this.status = ST_DRDY | ST_DSC | ST_DRQ;
      this.channel.dmaRequest(this);
    }
  }

  /** Read the next DRQ block from the disk and offer it to the host, with an interrupt. */
  private nextReadBlock(): void {
    const n = Math.min(this.block, this.left);
    if (!this.readSectors(this.lba, n, 0)) return;
    this.startPio(Pio.In, n * 512, true);
  }

  /** Ask the host for the next DRQ block; every block but the first comes with an interrupt. */
  private nextWriteBlock(interrupt: boolean): void {
    this.startPio(Pio.Out, Math.min(this.block, this.left) * 512, interrupt);
  }

  protected pioDone(): void {
    const n = this.end >>> 9;
    if (this.xfer === Xfer.Identify) { this.xfer = Xfer.None; this.status = ST_DRDY | ST_DSC; return; }
    if (this.xfer === Xfer.PioRead) {
      this.advance(n);
      if (this.left > 0) this.nextReadBlock();
      else { this.xfer = Xfer.None; this.status = ST_DRDY | ST_DSC; } // no interrupt after the last read block
    } else if (this.xfer === Xfer.PioWrite) {
      if (!this.writeSectors(this.lba, n, 0)) return;
      this.advance(n);
      if (this.left > 0) this.nextWriteBlock(true);
      else { this.xfer = Xfer.None; this.complete(); }
    }
  }

  /** Sectors done: registers point at the last one transferred, the count at what is left. */
  private advance(n: number): void {
    this.setAddress(this.lba + n - 1, this.lba48);
    this.lba += n;
    this.left -= n;
    this.count = this.left & 0xff;
    if (this.lba48) this.hobCount = (this.left >>> 8) & 0xff;
  }

  private readSectors(lba: number, n: number, at: number): boolean {
    try {
      this.disk.read(lba, this.buf.subarray(at, at + n * 512));
      return true;
    } catch {
      this.xfer = Xfer.None;
      this.setAddress(lba, this.lba48);
      this.fail(ER_UNC);
      return false;
    }
  }

  private writeSectors(lba: number, n: number, at: number): boolean {
    try {
      this.disk.write(lba, this.buf.subarray(at, at + n * 512));
      return true;
    } catch {
      this.xfer = Xfer.None;
      this.setAddress(lba, this.lba48);
      this.fail(ER_ABRT, ST_DF);
      return false;
    }
  }

  runDma(): void {
    const bm = this.channel.busMaster;
    if (!bm || !this.dmaPending || (this.xfer !== Xfer.DmaRead && this.xfer !== Xfer.DmaWrite)) return;
    const toMemory = this.xfer === Xfer.DmaRead;
    while (this.left > 0) {
      const n = Math.min(DMA_CHUNK, this.left);
      if (toMemory && !this.readSectors(this.lba, n, 0)) return;
      const moved = bm.transfer(this.buf, 0, n * 512, toMemory);
      if (moved < n * 512) return; // the PRD table ran out: wait, DRQ set, until reset
      if (!toMemory && !this.writeSectors(this.lba, n, 0)) return;
      this.advance(n);
    }
    this.xfer = Xfer.None;
    bm.deviceDone();
    this.complete();
  }

  private verify(ext: boolean): void {
    const a = this.address(ext);
    if (!a || a.lba + a.count > this.capacity) return this.fail(ER_IDNF);
    this.lba48 = ext;
    this.setAddress(a.lba + a.count - 1, ext);
    this.count = 0;
    if (ext) this.hobCount = 0;
    this.complete();
  }

  private seek(): void {
    const a = this.address(false);
    if (!a || a.lba >= this.capacity) return this.fail(ER_IDNF);
    this.complete();
  }

  // ---- configuration commands ----

  private setMultiple(): void {
    const n = this.count;
    if (n > MAX_MULTIPLE || (n & (n - 1))) return this.abort(); // 0 turns multiple mode off
    this.multiple = n;
    this.complete();
  }

  private initializeParameters(): void {
    const sectors = this.count, heads = (this.device & 0x0f) + 1;
    if (sectors === 0) return this.abort();
    this.curSectors = sectors;
    this.curHeads = heads;
    this.complete();
  }

  private setFeatures(): void {
    switch (this.feature) {
      case 0x03: { // set transfer mode from the count register
        const mode = this.count, kind = mode >>> 3, n = mode & 7;
        const ok = mode <= 1 || (kind === 1 && n <= 4) || (kind === 4 && n <= 2) || (kind === 8 && n <= 5);
        if (!ok) return this.abort();
        this.transferMode = mode;
        return this.complete();
      }
      case 0x02: this.writeCache = true; return this.complete();
      case 0x82: this.writeCache = false; this.flush(); return this.complete();
      case 0xaa: case 0x55: case 0x66: case 0xcc: return this.complete(); // look-ahead, defaults
      default: return this.abort();
    }
  }

  private flush(): boolean {
    try { this.disk.flush(); return true; } catch { return false; }
  }

  private flushCache(): void {
    if (this.flush()) this.complete();
    else this.fail(ER_ABRT, ST_DF);
  }

  private readNativeMax(ext: boolean): void {
    const max = ext ? this.capacity - 1 : Math.min(this.capacity, LBA28_LIMIT) - 1;
    if (!ext && !(this.device & DEV_LBA)) return this.abort();
    this.lba48 = ext;
    this.setAddress(max, ext);
    this.complete();
  }

  // ---- IDENTIFY DEVICE (ATA-6 8.15) ----

  identifyWords(): Uint16Array {
    const w = new Uint16Array(256), g = this.geometry, total = this.capacity;
    w[0] = 0x0040;                  // fixed disk
    w[1] = g.cylinders; w[3] = g.heads; w[6] = g.sectors;
    IdeDevice.putString(w, 10, 10, this.serial);
    w[20] = 3; w[21] = 512; w[22] = 4;
    IdeDevice.putString(w, 23, 4, this.firmware);
    IdeDevice.putString(w, 27, 20, this.model);
    w[47] = 0x8000 | MAX_MULTIPLE;
    w[48] = 1;                      // 32-bit PIO (obsolete word, still read by some drivers)
    w[49] = 0x0b00;                 // IORDY, LBA, DMA
    w[50] = 0x4000;
    w[51] = 0x0200; w[52] = 0x0200;
    w[53] = 0x0007;                 // words 54-58, 64-70 and 88 are valid
    const curCyl = Math.min(65535, Math.floor(Math.min(total, 16514064) / (this.curHeads * this.curSectors)));
    w[54] = curCyl; w[55] = this.curHeads; w[56] = this.curSectors;
    const curCap = curCyl * this.curHeads * this.curSectors;
    w[57] = curCap & 0xffff; w[58] = curCap >>> 16;
    w[59] = this.multiple ? 0x0100 | this.multiple : 0;
    const lba28 = Math.min(total, LBA28_LIMIT);
    w[60] = lba28 & 0xffff; w[61] = lba28 >>> 16;
    const mode = this.transferMode;
    w[63] = 0x0007 | ((mode >>> 3) === 4 ? 0x100 << (mode & 7) : 0);
    w[64] = 0x0003;                 // PIO modes 3 and 4
    w[65] = 120; w[66] = 120; w[67] = 120; w[68] = 120;
    w[80] = 0x007e;                 // ATA-1 to ATA-6
    w[82] = 0x4068;                 // NOP, look-ahead, write cache, power management
    w[83] = 0x7400;                 // FLUSH CACHE EXT, FLUSH CACHE, 48-bit addresses
    w[84] = 0x4000;
    w[85] = 0x4048 | (this.writeCache ? 0x20 : 0);
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[88] = 0x003f | ((mode >>> 3) === 8 ? 0x100 << (mode & 7) : 0);
    w[93] = this.unit === 0 ? 0x600b : 0x6b00; // reset results; bit 13: 80-conductor cable
    w[100] = total & 0xffff;
    w[101] = Math.floor(total / 0x10000) & 0xffff;
    w[102] = Math.floor(total / 0x100000000) & 0xffff;
    w[103] = 0;
    return w;
  }

  private identify(): void {
    this.putIdentify(this.identifyWords());
    this.xfer = Xfer.Identify;
    this.startPio(Pio.In, 512, true);
  }
}
