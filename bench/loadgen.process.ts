/** The load generator's process: runs the driver's plans, one at a time, and reports what it measured. */
import { ownStats, serveCommands } from './ipc';
import { runPlan } from './load-generator';

serveCommands('', async (command) => {
  if (command.type === 'run') return { outcome: await runPlan(command.plan) };
  if (command.type === 'stats') return { stats: ownStats() };
  throw new Error(`the load generator does not do '${command.type}'`);
});
