// Driving the default guest's busybox shell over COM1 in boot tests.
import { beforeEach, expect, vi } from 'vitest';
import type { PcMachine } from '../../src/machine/pc.ts';
import { GUEST_READY, guestVersions } from './guest.ts';

export const PROMPT = 'soulvm:/root# ';

/** Run a shell command in the guest and return what it printed before the next prompt. */
export async function sh(m: PcMachine, command: string, maxInstructions = 3e9): Promise<string> {
  const from = m.serialOutput.length;
  m.sendSerial(`${command}\n`);
  const r = await m.run({ until: `\n${PROMPT}`, maxInstructions });
  const out = m.serialOutput.slice(from);
  expect(r.stop, `${command}\n${out.slice(-2000)}`).toBe('found');
  return out;
}

export async function bootToShell(m: PcMachine, banner: RegExp): Promise<void> {
  const r0 = await m.run({ until: banner, maxInstructions: 2e9 });
  expect(r0.stop, m.serialOutput.slice(-1000)).toBe('found');
  const r1 = await m.run({ until: GUEST_READY, maxInstructions: 12e9 });
  expect(r1.stop, m.serialOutput.slice(-3000)).toBe('found');
  expect((await m.run({ until: PROMPT, maxInstructions: 1e9 })).stop).toBe('found');
  expect(m.serialOutput).not.toMatch(/Oops|BUG:|Call Trace|WARNING:|TSC unstable|Marking clocksource .* unstable/);
}

/** Count the bytes each IDE channel moved by bus-master DMA. */
export function dmaCounter(m: PcMachine): number[] {
  const moved = [0, 0];
  m.chipset.ide.busMasters.forEach((bm, ch) => {
    const transfer = bm.transfer.bind(bm);
    vi.spyOn(bm, 'transfer').mockImplementation((buf, start, len, toMemory) => {
      const n = transfer(buf, start, len, toMemory);
      moved[ch] += n;
      return n;
    });
  });
  return moved;
}

/**
 * Call at the top of a guest test file: a failing test then says which guest it booted, since
 * Debian replaces its kernel under us and a red run must name the packages it ran.
 */
export function reportGuestOnFailure(): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => { console.error(`guest images built from:\n${guestVersions()}`); });
  });
}
