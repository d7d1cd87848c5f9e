// The real thing: Debian's i386 kernel boots on soulvm's BIOS (direct kernel boot, the kernel's
// own real-mode setup calling the BIOS) to the busybox shell of the default guest, runs a command
// typed on the serial console, and powers off through ACPI. Deterministic clock and a fixed RTC:
// the same run each time. The kernel finds the BIOS's ACPI tables: the PIIX4's PM timer is its
// clock watchdog (acpi_pm), the PCI interrupt links route IRQs, the legacy devices come from the
// DSDT, and poweroff -f enters S5.
import { describe, it, expect, beforeAll } from 'vitest';
import { PcMachine } from '../../src/machine/pc.ts';
import { defaultGuest, GUEST_READY } from './guest.ts';
import { PROMPT, reportGuestOnFailure, sh } from './shell.ts';

reportGuestOnFailure();
let m: PcMachine;
beforeAll(() => {
  const guest = defaultGuest();
  // The crypto self-tests are 3 G instructions of RSA that test nothing of ours.
  guest.cmdline = `${guest.cmdline} cryptomgr.notests`;
  m = new PcMachine({ linux: guest, clock: 'deterministic', onReset: 'stop', rtcStart: new Date('2026-01-01T00:00:00Z') });
});

describe('Debian guest', () => {
  // About 3e9 instructions (a third of them the kernel decompressing itself): minutes, not seconds.
  it('boots the kernel to init without CPU, timer or firmware complaints', { timeout: 1_500_000 }, async () => {
    const r = await m.run({ until: 'Run /init as init process', maxInstructions: 20e9, timeoutMs: 1_400_000 });
    const log = m.serialOutput;
    expect(r.stop, log.slice(-2000)).toBe('found');
    expect(log).toMatch(/Linux version 6\.\d+\.\d+/);
    // The BIOS's E820 map and the initrd placement reached the kernel.
    expect(log).toMatch(/BIOS-e820: \[mem 0x0000000000100000-0x0000000007feffff\] usable/);
    expect(log).toMatch(/BIOS-e820: \[mem 0x0000000007ff0000-0x0000000007ffefff\] ACPI data/);
    expect(log).toMatch(/BIOS-e820: \[mem 0x0000000007fff000-0x0000000007ffffff\] ACPI NVS/);
    expect(log).toMatch(/RAMDISK: \[mem 0x0[0-9a-f]+-0x0*7feffff\]/);
    // ACPI: the tables, the PM timer as a clocksource, the interrupt links, the devices it names.
    expect(log).toMatch(/DMI: Microsoft Corporation Virtual Machine\/Virtual Machine, BIOS soulvm/);
    expect(log).toMatch(/ACPI: RSDP 0x00000000000F[0-9A-F]{4} 000014 \(v00 SOULVM\)/);
    expect(log).toMatch(/ACPI: DSDT 0x[0-9A-F]+ [0-9A-F]+ \(v01 SOULVM SOULVMPC/);
    expect(log).toMatch(/ACPI: PM-Timer IO Port: 0xb008/);
    expect(log).toMatch(/ACPI: Interpreter enabled/);
    expect(log).toMatch(/ACPI: PM: \(supports S0 S5\)/);
    expect(log).toMatch(/ACPI: PCI: Interrupt link LNKA configured for IRQ 10/);
    expect(log).toMatch(/PCI: Using ACPI for IRQ routing/);
    expect(log).toMatch(/clocksource: acpi_pm: mask: 0xffffff/);
    expect(log).toMatch(/pnp: PnP ACPI: found \d+ devices/);
    expect(log).not.toMatch(/ACPI BIOS Error|ACPI Error|ACPI Warning|AE_NOT_FOUND|AE_AML/);
    expect(log).toMatch(/00:0\d: ttyS0 at I\/O 0x3f8 \(irq = 4.*is a 16550A/);
    expect(log).not.toMatch(/TSC unstable|tsc.*unstable|Marking clocksource .* unstable/i);
    expect(log).not.toMatch(/MP-BIOS bug/);
    expect(log).not.toMatch(/lost .*tick|Lost .*interrupt|timer doesn't work/i);
    expect(log).not.toMatch(/Oops|BUG:|Call Trace|WARNING:/);
    const bogo = /([\d.]+) BogoMIPS/.exec(log);
    expect(bogo).not.toBeNull();
    expect(Number(bogo![1])).toBeGreaterThan(10);
    expect(Number(bogo![1])).toBeLessThan(100_000);
  });

  it('reaches the busybox shell and runs a command from the serial console', { timeout: 900_000 }, async () => {
    const ready = await m.run({ until: GUEST_READY, maxInstructions: 5e9, timeoutMs: 800_000 });
    expect(ready.stop, m.serialOutput.slice(-2000)).toBe('found');
    expect((await m.run({ until: PROMPT, maxInstructions: 1e9 })).stop).toBe('found');
    expect((await sh(m, 'echo soulvm-$((6*7)) $(uname -m)'))).toMatch(/soulvm-42 i686/);
  });

  it('keeps the TSC through 30 s of the clocksource watchdog at the shell, busy and idle', { timeout: 900_000 }, async () => {
    const clocks = await sh(m, 'cat /sys/devices/system/clocksource/clocksource0/current_clocksource /sys/devices/system/clocksource/clocksource0/available_clocksource');
    expect(clocks).toMatch(/^tsc\r?$/m);
    expect(clocks).toMatch(/acpi_pm/);
    // The watchdog compares the TSC with acpi_pm every 0.5 s: seconds of a busy shell loop (a
    // second of virtual time is 2e8 instructions), then 30 s asleep (cheap in deterministic time).
    const t0 = m.clock.now();
    await sh(m, 'i=0; while [ $i -lt 40000 ]; do i=$((i+1)); done', 6e9);
    const busy = m.clock.now() - t0;
    expect(busy).toBeGreaterThan(1e9);
    await sh(m, 'sleep 30', 1e9);
    expect(m.clock.now() - t0).toBeGreaterThan(busy + 30e9);
    const log = await sh(m, 'dmesg | grep -i -E "clocksource|tsc" | tail -n 5; cat /sys/devices/system/clocksource/clocksource0/current_clocksource');
    expect(log).toMatch(/^tsc\r?$/m);
    expect(m.serialOutput).not.toMatch(/TSC unstable|tsc.*unstable|Marking clocksource .* unstable|skew is too large/i);
  });

  it('powers off through ACPI (S5) on poweroff -f', { timeout: 900_000 }, async () => {
    m.sendSerial('poweroff -f\n');
    const end = await m.run({ maxInstructions: 2e9 });
    expect(end.stop, m.serialOutput.slice(-1000)).toBe('poweroff');
    expect(m.serialOutput).toMatch(/ACPI: PM: Preparing to enter system sleep state S5/);
    expect(m.serialOutput).toMatch(/reboot: Power down/);
    expect(m.serialOutput).not.toMatch(/Oops|BUG:|Call Trace|segfault/);
  });
});
