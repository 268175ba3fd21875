import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { connect } from 'node:net';

/** How a command ended, with everything it printed (stdout and stderr, interleaved). */
export interface Finished {
  code: number | null;
  output: string;
}

/** Resolves once `port` accepts connections; rejects if `child` exits first or `timeoutMs` passes. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the app exited with ${child.exitCode}:\n${output()}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const done = (connected: boolean) => {
        socket.destroy();
        resolve(connected);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.setTimeout(1000, () => done(false));
    });
    if (open) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`the app did not listen on ${port} within ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ends a detached child and everything it started (the Nest CLI and npm run their work as children). */
export async function killGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && process.kill(-child.pid!, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Spawns a command as its own process group with stdin closed and its output collected; `running`
 * holds it until it exits, so an `afterAll` can end whatever is left.
 */
export function spawnTracked(
  command: string,
  args: string[],
  options: SpawnOptions,
  running: Set<ChildProcess>,
): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout!.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (output += data.toString()));
  return { child, output: () => output };
}

/** Runs a command to its end, within `timeoutMs` (then its whole group is killed and it rejects). */
export function runTracked(
  command: string,
  args: string[],
  options: SpawnOptions,
  running: Set<ChildProcess>,
  timeoutMs: number,
): Promise<Finished> {
  const { child, output } = spawnTracked(command, args, options, running);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void killGroup(child);
      reject(new Error(`${command} ${args.join(' ')} took over ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output() });
    });
  });
}
