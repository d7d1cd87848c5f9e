// Character backends: the stdio backend over real streams, the memory backend for tests.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryBackend, StdioBackend } from '../../src/devices/char-backend.ts';

describe('character backends', () => {
  it('stdio: batches output into one write per turn and delivers input chunks', async () => {
    const input = new PassThrough(), output = new PassThrough();
    const writes: Buffer[] = [];
    output.on('data', (b: Buffer) => writes.push(b));
    const backend = new StdioBackend(input as any, output as any);
    const received: number[] = [];
    backend.onReceive(bytes => received.push(...bytes));
    for (const c of 'hello') backend.write(c.charCodeAt(0));
    await new Promise(r => setTimeout(r, 10));
    expect(writes.map(b => b.toString('latin1'))).toEqual(['hello']);
    input.write(Buffer.from([0x03, 0x61]));
    await new Promise(r => setTimeout(r, 10));
    expect(received).toEqual([0x03, 0x61]);
    backend.close();
    input.write(Buffer.from([0x62]));
    await new Promise(r => setTimeout(r, 10));
    expect(received).toEqual([0x03, 0x61]);                 // detached after close
  });

  it('memory: records output and injects input', () => {
    const b = new MemoryBackend();
    const got: number[] = [];
    b.onReceive(bytes => got.push(...bytes));
    b.inject('hi');
    b.write(0x41);
    expect(got).toEqual([0x68, 0x69]);
    expect(b.text()).toBe('A');
  });
});
