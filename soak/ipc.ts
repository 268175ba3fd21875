import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The server process's report of its own health, taken after forced GCs. */
export interface ServerHealth {
  heapUsed: number;
  rss: number;
  /** CPU time the server used so far, user + system. */
  cpuMs: number;
  /** Time the event loop spent busy and idle so far (`performance.eventLoopUtilization()`). */
  loopActiveMs: number;
  loopIdleMs: number;
  /** Live handles and requests by type (`process.getActiveResourcesInfo()`), the IPC pipe included. */
  resources: Record<string, number>;
  unhandledRejections: number;
  uncaughtExceptions: number;
  /** The first few of them, as `Class: message`. */
  failures: string[];
}

/** A request to a child process and its answer, matched by id. */
interface Envelope {
  id: number;
  [key: string]: unknown;
}

const ROOT = join(__dirname, '..');

/** Forks a TypeScript entry point of soak/ with ts-node and the repository's path aliases. */
export function forkTs(file: string, options: { execArgv?: string[]; env?: NodeJS.ProcessEnv; logTo?: number } = {}): ChildProcess {
  const stdio = options.logTo === undefined ? 'inherit' : ['ignore', options.logTo, options.logTo, 'ipc'];
  return fork(join(__dirname, file), [], {
    cwd: ROOT,
    execArgv: [...(options.execArgv ?? []), '-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...options.env },
    stdio: stdio as any,
  });
}

let nextId = 1;

/** Sends `message` to `child` and resolves with its answer (same id), rejecting after `timeoutMs` or if the child exits. */
export function ask<T>(child: ChildProcess, message: Record<string, unknown>, timeoutMs: number): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const done = (error?: Error, value?: T) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    };
    const onMessage = (answer: Envelope) => {
      if (answer?.id === id) done(undefined, answer as unknown as T);
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`${String(message.type)}: the child exited (${code ?? signal}) before answering`));
    const timer = setTimeout(() => done(new Error(`${String(message.type)}: no answer within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ ...message, id });
  });
}

/** In a child: answers each request with what `handler` returns, under the request's id. */
export function serve(handler: (message: any) => Promise<Record<string, unknown>>): void {
  process.on('message', (message: Envelope) => {
    handler(message).then(
      (answer) => process.send?.({ ...answer, id: message.id }),
      (error: unknown) => process.send?.({ error: String(error), id: message.id }),
    );
  });
}
