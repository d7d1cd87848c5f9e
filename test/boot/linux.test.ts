// The real thing: Debian's i386 kernel boots on soulvm's BIOS (direct kernel boot) to the
// busybox shell of the default guest, runs a command typed on the serial console, and halts.
import { describe, it, expect, beforeAll } from 'vitest';
import { PcMachine } from '../../src/machine/pc.ts';
import { defaultGuest, GUEST_READY } from './guest.ts';
import type { LinuxBootOptions } from '../../src/machine/linux.ts';

let guest: LinuxBootOptions;
beforeAll(() => { guest = defaultGuest(); });

describe('Debian guest', () => {
  it('boots to the shell, runs a command from the serial console and halts cleanly', async () => {
    const m = new PcMachine({ linux: guest, clock: 'deterministic', onReset: 'stop' });
    const boot = await m.run({ until: GUEST_READY, maxInstructions: 30e9, timeoutMs: 480_000 });
    const log = m.serialOutput;
    expect(boot.stop, log.slice(-2000)).toBe('found');
    expect((await m.run({ until: /# $/, maxInstructions: 1e9 })).stop).toBe('found');

    m.sendSerial('echo soulvm-$((6*7)) $(uname -m)\n');
    expect((await m.run({ until: /soulvm-42 i686/, maxInstructions: 2e9 })).stop).toBe('found');

    m.sendSerial('poweroff -f\n');
    const end = await m.run({ maxInstructions: 2e9 });
    expect(end.stop, m.serialOutput.slice(-1000)).toBe('halted');
    expect(m.serialOutput).toMatch(/reboot: (System halted|Power down)/);

    // The kernel found nothing wrong with the CPU, the timers or the firmware's tables.
    expect(log).toMatch(/Linux version 6\.\d+\.\d+/);
    expect(log).not.toMatch(/TSC unstable|tsc.*unstable|Marking clocksource .* unstable/i);
    expect(log).not.toMatch(/MP-BIOS bug/);
    expect(log).not.toMatch(/lost .*tick|Lost .*interrupt|timer doesn't work|IO-APIC \+ timer doesn't work/i);
    expect(log).not.toMatch(/Oops|BUG:|Call Trace|WARNING:/);
    const bogo = /([\d.]+) BogoMIPS/.exec(log);
    expect(bogo).not.toBeNull();
    expect(Number(bogo![1])).toBeGreaterThan(10);
    expect(Number(bogo![1])).toBeLessThan(100_000);
    // The BIOS's memory map reached the kernel.
    expect(log).toMatch(/BIOS-e820: \[mem 0x0000000000100000-0x0000000007ffffff\] usable/);
  });
});
