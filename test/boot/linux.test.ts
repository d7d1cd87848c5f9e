// The real thing: Debian's i386 kernel boots on soulvm's BIOS (direct kernel boot, the kernel's
// own real-mode setup calling the BIOS) to the busybox shell of the default guest, runs a command
// typed on the serial console, and halts. Deterministic clock and a fixed RTC: the same run each time.
import { describe, it, expect, beforeAll } from 'vitest';
import { PcMachine } from '../../src/machine/pc.ts';
import { defaultGuest, GUEST_READY } from './guest.ts';

let m: PcMachine;
beforeAll(() => {
  m = new PcMachine({ linux: defaultGuest(), clock: 'deterministic', onReset: 'stop', rtcStart: new Date('2026-01-01T00:00:00Z') });
});

describe('Debian guest', () => {
  // About 6.4e9 instructions (a third of them the kernel decompressing itself): minutes, not seconds.
  it('boots the kernel to init without CPU, timer or firmware complaints', { timeout: 1_500_000 }, async () => {
    const r = await m.run({ until: 'Run /init as init process', maxInstructions: 20e9, timeoutMs: 1_400_000 });
    const log = m.serialOutput;
    expect(r.stop, log.slice(-2000)).toBe('found');
    expect(log).toMatch(/Linux version 6\.\d+\.\d+/);
    // The BIOS's E820 map and the initrd placement reached the kernel.
    expect(log).toMatch(/BIOS-e820: \[mem 0x0000000000100000-0x0000000007ffffff\] usable/);
    expect(log).toMatch(/RAMDISK: \[mem 0x0[0-9a-f]+-0x0*7ffffff\]/);
    expect(log).toMatch(/serial8250: ttyS0 at I\/O 0x3f8 \(irq = 4.*is a 16550A/);
    expect(log).not.toMatch(/TSC unstable|tsc.*unstable|Marking clocksource .* unstable/i);
    expect(log).not.toMatch(/MP-BIOS bug/);
    expect(log).not.toMatch(/lost .*tick|Lost .*interrupt|timer doesn't work/i);
    expect(log).not.toMatch(/Oops|BUG:|Call Trace|WARNING:/);
    const bogo = /([\d.]+) BogoMIPS/.exec(log);
    expect(bogo).not.toBeNull();
    expect(Number(bogo![1])).toBeGreaterThan(10);
    expect(Number(bogo![1])).toBeLessThan(100_000);
  });

  it('reaches the busybox shell, runs a command from the serial console and halts cleanly', { timeout: 900_000 }, async () => {
    const ready = await m.run({ until: GUEST_READY, maxInstructions: 5e9, timeoutMs: 800_000 });
    expect(ready.stop, m.serialOutput.slice(-2000)).toBe('found');
    expect((await m.run({ until: 'soulvm:/root# ', maxInstructions: 1e9 })).stop).toBe('found');
    m.sendSerial('echo soulvm-$((6*7)) $(uname -m)\n');
    expect((await m.run({ until: /soulvm-42 i686/, maxInstructions: 2e9 })).stop, m.serialOutput.slice(-500)).toBe('found');
    m.sendSerial('poweroff -f\n');
    const end = await m.run({ maxInstructions: 2e9 });
    expect(end.stop, m.serialOutput.slice(-1000)).toBe('halted');
    expect(m.serialOutput).toMatch(/reboot: (System halted|Power down)/);
    expect(m.serialOutput).not.toMatch(/Oops|BUG:|Call Trace|segfault/);
  });
});
