// GNU gdb driven through its machine interface (MI), for the stub tests: commands with tokens,
// their result records, and the asynchronous *stopped records.
import { spawn, type ChildProcess } from 'node:child_process';

export interface MiResult { cls: string; body: string; console: string }

export class Gdb {
  private readonly proc: ChildProcess;
  private out = '';
  private token = 1;
  private console = '';
  private readonly results = new Map<number, MiResult>();
  private readonly stops: string[] = [];
  private wake: (() => void) | null = null;
  /** Every line gdb printed (for failure messages). */
  readonly transcript: string[] = [];

  constructor(args: string[] = []) {
    this.proc = spawn('gdb', ['--interpreter=mi3', '-nx', '-q', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => {
      this.out += d.toString();
      let nl;
      while ((nl = this.out.indexOf('\n')) >= 0) { this.line(this.out.slice(0, nl).replace(/\r$/, '')); this.out = this.out.slice(nl + 1); }
    });
    this.proc.stderr!.on('data', (d: Buffer) => this.transcript.push(`stderr: ${d}`));
  }

  private line(l: string): void {
    this.transcript.push(l);
    const r = /^(\d+)\^(\w+),?(.*)$/.exec(l);
    if (r) this.results.set(Number(r[1]), { cls: r[2], body: r[3], console: this.console });
    else if (l.startsWith('*stopped')) this.stops.push(l);
    else if (l.startsWith('~') || l.startsWith('@')) this.console += JSON.parse(l.slice(1));
    this.wake?.();
  }

  private async waitFor<T>(what: string, get: () => T | undefined, ms: number): Promise<T> {
    const t0 = Date.now();
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      if (Date.now() - t0 > ms) throw new Error(`gdb: timed out waiting for ${what}\n${this.transcript.slice(-30).join('\n')}`);
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, 50); });
    }
  }

  /** Send an MI command; resolves with its result record (console output gathered with it). */
  async mi(command: string, ms = 20000): Promise<MiResult> {
    const t = this.token++;
    this.console = '';
    this.proc.stdin!.write(`${t}${command}\n`);
    const r = await this.waitFor(command, () => this.results.get(t), ms);
    this.results.delete(t);
    return r;
  }

  /** A command that must succeed. */
  async ok(command: string, ms?: number): Promise<MiResult> {
    const r = await this.mi(command, ms);
    if (r.cls === 'error') throw new Error(`gdb: ${command}: ${r.body}\n${this.transcript.slice(-20).join('\n')}`);
    return r;
  }

  /** A CLI command's console output. */
  async cli(command: string): Promise<string> {
    return (await this.ok(`-interpreter-exec console ${JSON.stringify(command)}`)).console;
  }

  /** The value of an expression, as gdb prints it. */
  async eval(expr: string): Promise<string> {
    const r = await this.ok(`-data-evaluate-expression ${JSON.stringify(expr)}`);
    return JSON.parse(/^value=(".*")$/.exec(r.body)![1]);
  }

  /** The next *stopped record. */
  stopped(ms = 30000): Promise<string> { return this.waitFor('*stopped', () => this.stops.shift(), ms); }

  async quit(): Promise<void> {
    this.proc.stdin!.write('-gdb-exit\n');
    await new Promise<void>((r) => { if (this.proc.exitCode !== null) r(); else this.proc.once('exit', () => r()); setTimeout(() => { this.proc.kill(); r(); }, 3000); });
  }
}
