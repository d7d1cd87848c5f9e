// Character backends: where a serial port or the debug console sends its bytes and gets its input.

export interface CharBackend {
  write(byte: number): void;
  /** Register the receiver of host input. Called once, by the device that owns the backend. */
  onReceive(cb: (bytes: Uint8Array) => void): void;
}

/** For tests and embedding: output collects in memory, input is injected by hand. */
export class MemoryBackend implements CharBackend {
  readonly output: number[] = [];
  private receiver: ((bytes: Uint8Array) => void) | null = null;

  write(byte: number): void { this.output.push(byte); }
  onReceive(cb: (bytes: Uint8Array) => void): void { this.receiver = cb; }

  /** Feed bytes (or a string, as Latin-1) to the device as if typed on the other end. */
  inject(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Uint8Array.from(data, c => c.charCodeAt(0) & 0xff) : data;
    this.receiver?.(bytes);
  }

  /** Everything written so far, as Latin-1 text. */
  text(): string { return String.fromCharCode(...this.output); }
  clear(): void { this.output.length = 0; }
}

/** Nothing connected: output is dropped, no input ever arrives. */
export class NullBackend implements CharBackend {
  write(_byte: number): void {}
  onReceive(_cb: (bytes: Uint8Array) => void): void {}
}

/**
 * The process's stdin/stdout. In a terminal, stdin goes to raw mode so that every key reaches
 * the guest (Ctrl-C included); `close()` puts the terminal back. Output is buffered and
 * flushed on a microtask so that a guest printing byte by byte does not make one syscall each.
 */
export class StdioBackend implements CharBackend {
  private pending: number[] = [];
  private flushQueued = false;
  private receiver: ((bytes: Uint8Array) => void) | null = null;
  private readonly onData = (chunk: Buffer) => this.receiver?.(new Uint8Array(chunk));
  private wasRaw = false;

  constructor(private readonly input: NodeJS.ReadStream = process.stdin, private readonly output: NodeJS.WriteStream = process.stdout) {}

  write(byte: number): void {
    this.pending.push(byte);
    if (!this.flushQueued) { this.flushQueued = true; queueMicrotask(() => this.flush()); }
  }

  flush(): void {
    this.flushQueued = false;
    if (!this.pending.length) return;
    this.output.write(Buffer.from(this.pending));
    this.pending = [];
  }

  onReceive(cb: (bytes: Uint8Array) => void): void {
    this.receiver = cb;
    if (this.input.isTTY) { this.wasRaw = this.input.isRaw; this.input.setRawMode(true); }
    this.input.on('data', this.onData);
    this.input.resume();
  }

  close(): void {
    this.flush();
    this.input.off('data', this.onData);
    if (this.input.isTTY) this.input.setRawMode(this.wasRaw);
    this.input.pause();
  }
}
