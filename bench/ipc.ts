import type { Answer, ChildStats, Command } from './protocol';

/** A child's own figures: CPU time so far and resident memory, after a full GC if asked (and `--expose-gc`). */
export function ownStats(gc = false): ChildStats {
  if (gc) (globalThis as { gc?: () => void }).gc?.();
  return { cpu: process.cpuUsage(), rss: process.memoryUsage.rss() };
}

/**
 * The child side: tells the driver it is ready at `origin`, answers its commands with `handle`, and
 * exits when the driver goes away (its channel closes), so no child outlives a crashed driver.
 */
export function serveCommands(origin: string, handle: (command: Command) => Promise<Omit<Extract<Answer, { type: 'done' }>, 'id' | 'type'>>): void {
  if (!process.send) {
    throw new Error('bench children run under the driver (npm run bench), with an IPC channel');
  }
  const send = (answer: Answer) => process.send!(answer);
  process.on('message', (command: Command) => {
    handle(command).then(
      (answer) => send({ id: command.id, type: 'done', ...answer }),
      (error: unknown) => send({ id: command.id, type: 'done', error: error instanceof Error ? error.stack ?? error.message : String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', origin });
}
