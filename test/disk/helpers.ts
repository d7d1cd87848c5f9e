// Shared test helpers for src/disk: temporary directories, a seeded PRNG, an in-memory model disk.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll } from 'vitest';
import { VhdDisk, createVhd } from '../../src/disk/vhd.ts';
export { rng } from './rng.ts';

/** A fresh temporary directory, removed after the test file finishes. */
export function tempDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `soulvm-${tag}-`));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The reference: a disk is right when it reads what this byte array holds. */
export class ModelDisk {
  readonly bytes: Uint8Array;
  constructor(size: number, from?: Uint8Array) {
    this.bytes = new Uint8Array(size);
    if (from) this.bytes.set(from.subarray(0, Math.min(size, from.length)));
  }
  write(sector: number, data: Uint8Array): void { this.bytes.set(data, sector * 512); }
  read(sector: number, count: number): Uint8Array { return this.bytes.subarray(sector * 512, (sector + count) * 512); }
}

export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const SOULVM = path.resolve(import.meta.dirname, '../../bin/soulvm.mjs');

export function soulvm(args: string[], cwd?: string): { status: number; stdout: string; stderr: string } {
  return run(process.execPath, [SOULVM, ...args], { cwd });
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** `bytes` (a whole number of sectors) of a VHD from `sector` on, read with the disk opened read-only. */
export function readVhd(file: string, sector: number, bytes = 512): Uint8Array {
  const d = VhdDisk.open(file, { readOnly: true });
  try {
    const buf = new Uint8Array(bytes);
    d.read(sector, buf);
    return buf;
  } finally { d.close(); }
}

/**
 * A boot sector that writes itself to LBA 4 with INT 13h, prints 'W' on COM1 and spins:
 * xor ax,ax; mov ds,ax; mov es,ax; mov bx,7C00h; mov ax,0301h; mov cx,0005h; mov dh,0; int 13h;
 * mov dx,3F8h; mov al,'W'; out dx,al; jmp $
 */
export const WRITE_THEN_SPIN = [
  0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0xbb, 0x00, 0x7c, 0xb8, 0x01, 0x03, 0xb9, 0x05, 0x00, 0xb6, 0x00,
  0xcd, 0x13, 0xba, 0xf8, 0x03, 0xb0, 0x57, 0xee, 0xeb, 0xfe,
];

/** A new 4 MiB dynamic VHD whose boot sector is `code`; returns that sector. */
export function bootSectorVhd(file: string, code: number[]): Uint8Array {
  createVhd(file, { type: 'dynamic', size: 4 << 20 });
  const boot = new Uint8Array(512);
  boot.set(code);
  boot[510] = 0x55; boot[511] = 0xaa;
  const d = VhdDisk.open(file);
  d.write(0, boot);
  d.close();
  return boot;
}
