import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Answer, Command } from './protocol';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Done = Extract<Answer, { type: 'done' }>;

/** Options of {@link Child.start}. */
export interface ChildOptions {
  env?: Record<string, string>;
  /** Extra node flags. */
  execArgv?: string[];
  readyTimeoutMs: number;
}

const live = new Set<Child>();

/** A bench process the driver forked: commands over IPC, each answered or timed out. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (answer: Done) => void; reject: (error: Error) => void }>();
  private exited = false;

  private constructor(
    readonly name: string,
    private readonly process: ChildProcess,
    readonly origin: string,
  ) {}

  /** Forks `script` (compiled JS, path-mapped to the compiled library) and waits for its 'ready'. */
  static start(name: string, script: string, options: ChildOptions): Promise<Child> {
    const child = fork(script, [], {
      execArgv: ['-r', 'tsconfig-paths/register', ...(options.execArgv ?? [])],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`${name} not ready after ${options.readyTimeoutMs} ms`)), options.readyTimeoutMs);
      child.once('exit', (code, signal) => fail(new Error(`${name} exited (${code ?? signal}) before it was ready`)));
      child.once('error', fail);
      child.once('message', (answer: Answer) => {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        if (answer.type !== 'ready') return fail(new Error(`${name} said ${JSON.stringify(answer)} before 'ready'`));
        const handle = new Child(name, child, answer.origin);
        live.add(handle);
        child.on('message', (message: Answer) => handle.settle(message));
        child.on('exit', (code, signal) => handle.onExit(code ?? signal));
        resolve(handle);
      });
    });
  }

  /** Kills every child still running: the driver's last word, also on errors and signals. */
  static killAll(): void {
    live.forEach((child) => child.kill());
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Sends a command; rejects if the child answers with an error, exits, or says nothing for `timeoutMs`. */
  request(command: DistributiveOmit<Command, 'id'>, timeoutMs: number): Promise<Done> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is gone`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to '${command.type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (answer) => {
          clearTimeout(timer);
          if (answer.error) reject(new Error(`${this.name}: ${answer.error}`));
          else resolve(answer);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.process.send({ ...command, id } as Command);
    });
  }

  /** Lets the child exit by itself (its channel closes), killing it after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.disconnect();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL, if still running. */
  kill(): void {
    if (!this.exited) this.process.kill('SIGKILL');
  }

  private settle(answer: Answer): void {
    if (answer.type !== 'done') return;
    const waiter = this.pending.get(answer.id);
    this.pending.delete(answer.id);
    waiter?.resolve(answer);
  }

  private onExit(status: number | string | null): void {
    this.exited = true;
    live.delete(this);
    const error = new Error(`${this.name} exited (${status})`);
    this.pending.forEach((waiter) => waiter.reject(error));
    this.pending.clear();
  }
}

/**
 * A process's peak resident memory over an interval: the kernel's high-water mark (VmHWM), reset at
 * the start by writing 5 to /proc/<pid>/clear_refs; where that is refused, VmRSS sampled every 10 ms.
 */
export class PeakRss {
  /** Resident memory when the interval began, bytes. */
  readonly startBytes: number;
  private sampled = 0;
  private timer?: NodeJS.Timeout;

  private constructor(private readonly pid: number) {
    this.startBytes = statusKb(pid, 'VmRSS') * 1024;
  }

  static start(pid: number): PeakRss {
    const peak = new PeakRss(pid);
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      peak.sampled = statusKb(pid, 'VmRSS');
      peak.timer = setInterval(() => (peak.sampled = Math.max(peak.sampled, statusKb(pid, 'VmRSS'))), 10);
    }
    return peak;
  }

  /** The peak in bytes since `start`. */
  stop(): number {
    if (!this.timer) return statusKb(this.pid, 'VmHWM') * 1024;
    clearInterval(this.timer);
    return Math.max(this.sampled, statusKb(this.pid, 'VmRSS')) * 1024;
  }
}

function statusKb(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** The kernel's count of connections dropped because a listen backlog was full (Linux; 0 elsewhere). */
export function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const names = lines.find((line) => line.startsWith('TcpExt:'))?.split(/\s+/) ?? [];
    const values = lines.filter((line) => line.startsWith('TcpExt:'))[1]?.split(/\s+/) ?? [];
    return Number(values[names.indexOf('ListenOverflows')] ?? 0) || 0;
  } catch {
    return 0;
  }
}
