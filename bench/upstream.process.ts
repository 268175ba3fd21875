/** The upstream's process: the library's MockOpenAIServer on loopback, its reply set by the driver. */
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { ownStats, serveCommands } from './ipc';

async function main(): Promise<void> {
  const mock = await MockOpenAIServer.start({ chunkCount: 20 });
  serveCommands(`http://127.0.0.1:${mock.port}`, async (command) => {
    if (command.type === 'reply') {
      // reset() also drops the recorded requests, which would otherwise pile up for the whole run.
      mock.reset();
      mock.setReply(command.reply);
      return {};
    }
    if (command.type === 'stats') return { stats: { ...ownStats(), aborted: mock.abortedRequests } };
    throw new Error(`the upstream does not do '${command.type}'`);
  });
}

void main();
