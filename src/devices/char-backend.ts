// Character backends: where a serial port or the debug console sends its bytes and gets its input.
//
// The required part is two calls: `write` a byte, `onReceive` for host input. A backend on a
// host stream that can be slow or absent (a socket, a pipe) adds the optional flow and carrier
// calls so that the device applies back-pressure instead of dropping, and shows its peer's
// presence as carrier (DCD/DSR/CTS):
//  - `writable()` false: the host cannot take more output now; the UART keeps the byte in its
//    transmitter (THRE/TEMT stay clear) until the backend calls its status listener;
//  - `pauseInput()`/`resumeInput()`: the device's input queue is full / has room again;
//  - `connected()`: a peer is attached.

export interface CharBackend {
  write(byte: number): void;
  /** Register the receiver of host input. Called by the device that owns the backend. */
  onReceive(cb: (bytes: Uint8Array) => void): void;
  /** False while the host side cannot take another byte (absent: always true). */
  writable?(): boolean;
  /** Whether a peer is attached (absent: always). */
  connected?(): boolean;
  /** Register the listener told when writable() or connected() may have changed. */
  onStatus?(cb: () => void): void;
  /** Stop delivering input until resumeInput (the device's queue is full). */
  pauseInput?(): void;
  resumeInput?(): void;
  /** Release host resources (sockets, files); the backend delivers nothing afterwards. */
  close?(): void | Promise<void>;
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

  pauseInput(): void { this.input.pause(); }
  resumeInput(): void { this.input.resume(); }

  close(): void {
    this.flush();
    this.input.off('data', this.onData);
    if (this.input.isTTY) this.input.setRawMode(this.wasRaw);
    this.input.pause();
  }
}
