// The Linux boot protocol loader and the `soulvm run` command's handling of bad input. The
// kernels here are synthetic: a setup header as Documentation/arch/x86/boot.rst lays it out.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '../../src/bus/memory.ts';
import { LinuxLoader, parseBzImage, KernelLoadError } from '../../src/machine/linux.ts';
import { main } from '../../src/cli/main.ts';

/** A bzImage with `setupSects` setup sectors and a protected-mode part of `kernelBytes`. */
function fakeBzImage({ setupSects = 4, kernelBytes = 64 * 1024, protocol = 0x020f, initSize = 1 << 20 } = {}): Uint8Array {
  const img = new Uint8Array((setupSects + 1) * 512 + kernelBytes);
  const dv = new DataView(img.buffer);
  img[0x1f1] = setupSects;
  dv.setUint32(0x1f4, kernelBytes / 16, true);          // syssize
  dv.setUint16(0x1fe, 0xaa55, true);
  dv.setUint32(0x202, 0x53726448, true);                // "HdrS"
  dv.setUint16(0x206, protocol, true);
  img[0x211] = 0x01;                                    // LOADED_HIGH
  dv.setUint32(0x214, 0x100000, true);                  // code32_start
  dv.setUint32(0x22c, 0x7fffffff, true);                // initrd_addr_max
  dv.setUint32(0x238, 2047, true);                      // cmdline_size
  dv.setUint32(0x260, initSize, true);                  // init_size
  for (let i = (setupSects + 1) * 512; i < img.length; i++) img[i] = i & 0xff;
  return img;
}

describe('Linux boot protocol loader', () => {
  it('places setup, kernel, command line and initrd and fills the setup header', () => {
    const mem = new MemoryBus(32 << 20);
    const kernel = fakeBzImage();
    const initrd = new Uint8Array(300_000).fill(0x5a);
    const loader = new LinuxLoader(mem, { kernel, initrd, cmdline: 'console=ttyS0 quiet' });
    loader.load();
    expect(mem.readBytes(0x10000, 0x1f0)).toEqual(kernel.subarray(0, 0x1f0));
    expect(mem.readBytes(0x100000, 16)).toEqual(kernel.subarray(5 * 512, 5 * 512 + 16));
    expect(mem.read8(0x10000 + 0x210)).toBe(0xff);            // type_of_loader
    expect(mem.read8(0x10000 + 0x211)).toBe(0x81);            // LOADED_HIGH | CAN_USE_HEAP
    expect(mem.read16(0x10000 + 0x224)).toBe(0xfe00);          // heap_end_ptr
    expect(mem.read32(0x10000 + 0x228)).toBe(0x20000);         // cmd_line_ptr
    expect(new TextDecoder().decode(mem.readBytes(0x20000, 20))).toBe('console=ttyS0 quiet\0');
    const addr = mem.read32(0x10000 + 0x218), size = mem.read32(0x10000 + 0x21c);
    expect(size).toBe(initrd.length);
    expect(addr % 4096).toBe(0);
    const top = (32 << 20) - 0x10000;                          // the ACPI tables take the top 64 KiB
    expect(addr + size).toBeLessThanOrEqual(top);              // below the tables,
    expect(addr + size).toBeGreaterThan(top - 8192);           // as high as it goes
    expect(mem.read8(addr)).toBe(0x5a);
    expect(mem.read8(addr + size - 1)).toBe(0x5a);
  });

  it('rejects what is not a usable bzImage with a clear message', () => {
    expect(() => parseBzImage(new Uint8Array(100), 'k')).toThrow(/k: too short to be a Linux kernel/);
    expect(() => parseBzImage(new Uint8Array(4096), 'k')).toThrow(/not a Linux bzImage/);
    expect(() => parseBzImage(fakeBzImage({ protocol: 0x0201 }), 'k')).toThrow(/boot protocol 2.01 is too old/);
    const truncated = fakeBzImage().subarray(0, 5 * 512 + 1000);
    expect(() => parseBzImage(truncated, 'k')).toThrow(/k: truncated/);
    expect(() => parseBzImage(truncated)).toThrow(KernelLoadError);
    // syssize is in paragraphs, rounded up: a file ending mid-paragraph is whole (memtest86+ 6.10).
    const whole = fakeBzImage();
    expect(parseBzImage(whole.subarray(0, whole.length - 8)).kernel.length).toBe(64 * 1024 - 8);
    expect(() => parseBzImage(whole.subarray(0, whole.length - 16), 'k')).toThrow(/k: truncated: \d+ bytes, the header describes \d+/);
  });

  it('refuses an initrd or kernel that does not fit in RAM', () => {
    const mem = new MemoryBus(8 << 20);
    expect(() => new LinuxLoader(mem, { kernel: fakeBzImage(), initrd: new Uint8Array(7 << 20), initrdName: 'big.img' }))
      .toThrow(/big.img \(7 MiB\) does not fit in RAM/);
    expect(() => new LinuxLoader(mem, { kernel: fakeBzImage({ initSize: 16 << 20 }) })).toThrow(/needs 17 MiB of RAM/);
    expect(() => new LinuxLoader(mem, { kernel: fakeBzImage(), cmdline: 'x'.repeat(3000) })).toThrow(/command line is 3000 bytes/);
  });
});

describe('soulvm run: bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'soulvm-run-'));
  afterEach(() => { vi.restoreAllMocks(); });

  async function run(args: string[]): Promise<{ code: number; err: string }> {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
    const code = await main(['run', ...args]);
    return { code, err };
  }

  it('reports a missing kernel, a truncated kernel and an oversized initrd in one line', async () => {
    let r = await run(['--kernel', join(dir, 'nope')]);
    expect(r).toEqual({ code: 1, err: `soulvm: kernel ${join(dir, 'nope')}: no such file\n` });
    const k = join(dir, 'short.bz');
    writeFileSync(k, fakeBzImage().subarray(0, 4000));
    r = await run(['--kernel', k]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^soulvm: .*short\.bz: truncated: 4000 bytes, the header describes \d+\n$/);
    const good = join(dir, 'good.bz'), initrd = join(dir, 'initrd');
    writeFileSync(good, fakeBzImage());
    writeFileSync(initrd, new Uint8Array(3 << 20));
    r = await run(['--kernel', good, '--initrd', initrd, '--memory', '4']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^soulvm: .*initrd \(3 MiB\) does not fit in RAM.*\n$/);
  });

  it('reports an unbootable disk image and ends the run', async () => {
    const img = join(dir, 'blank.img');
    writeFileSync(img, new Uint8Array(1 << 20));
    const r = await run(['--hda', img, '--clock', 'deterministic']);
    expect(r).toEqual({ code: 1, err: 'soulvm: no bootable device (hard disk 0: no boot signature (55AA) in sector 0)\n' });
  });

  it('treats unknown flags and bad values as usage errors (exit 2)', async () => {
    expect(await run(['--frobnicate'])).toMatchObject({ code: 2, err: expect.stringMatching(/^soulvm: Unknown option '--frobnicate'.*\n$/) });
    expect(await run(['--kernel', 'k', '--memory', 'lots'])).toMatchObject({ code: 2, err: expect.stringMatching(/--memory needs a positive whole number/) });
    expect(await run(['--kernel', 'k', '--clock', 'sundial'])).toMatchObject({ code: 2 });
    expect(await run([])).toMatchObject({ code: 2, err: expect.stringMatching(/nothing to boot/) });
  });
});
