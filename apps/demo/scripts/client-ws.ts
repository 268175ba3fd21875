/**
 * The seed's websocket client: a multi-turn chat with the demo's /ws, one line of stdin per turn.
 *
 * @example
 * npm run client:ws -- --url ws://localhost:3000/ws
 */
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { WebSocketClient } from '@lanarky/openai/clients';

/** The options of `npm run client:ws`. */
export interface ClientWsOptions {
  url: string;
}

interface Message {
  role: 'user' | 'assistant';
  content: string;
}

const PROMPT = '\nEnter a message: ';

/** Reads messages from stdin until it closes, sending the whole history each turn and printing the replies as they stream. */
export async function main(options: ClientWsOptions): Promise<void> {
  const session = await new WebSocketClient({ uri: options.url }).connect();
  // The async iterator buffers lines, so piped stdin loses none while a turn streams.
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const history: Message[] = [];
  try {
    process.stdout.write(PROMPT);
    for await (const line of lines) {
      history.push({ role: 'user', content: line });
      session.send({ messages: history });
      process.stdout.write('Received: ');
      let reply = '';
      let failed = false;
      for await (const event of session.streamResponse()) {
        if (event.event === 'completion' && typeof event.data === 'string') {
          reply += event.data;
          process.stdout.write(event.data);
        } else if (event.event === 'error') {
          failed = true;
          process.stderr.write(`\nError: ${JSON.stringify(event.data)}`);
        }
      }
      process.stdout.write('\n');
      // A failed turn leaves no trace in the history, so the next one starts clean.
      if (failed) history.pop();
      else history.push({ role: 'assistant', content: reply });
      process.stdout.write(PROMPT);
    }
  } finally {
    lines.close();
    await session.close();
  }
}

if (require.main === module) {
  const program = new Command()
    .name('client:ws')
    .description("Chat with the demo over a websocket, multi-turn (Lanarky's websocket client).")
    .option('--url <ws url>', "the demo's websocket URL", 'ws://localhost:3000/ws')
    .parse();

  main(program.opts<ClientWsOptions>()).catch((error: unknown) => {
    process.stderr.write(`\nError: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
