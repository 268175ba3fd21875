/**
 * The seed's HTTP client: sends one message to the demo's POST /chat and prints each event.
 *
 * @example
 * npm run client -- --input "hi" --stream
 */
import { Command } from 'commander';
import { StreamingClient, StreamingClientError } from '@lanarky/openai/clients';

/** The options of `npm run client`. */
export interface ClientOptions {
  input: string;
  stream?: boolean;
  url: string;
}

/** Posts `input` as a one-message conversation and prints `event: data` per event. */
export async function main(options: ClientOptions): Promise<void> {
  const client = new StreamingClient({ baseUrl: options.url });
  const events = client.streamResponse('POST', '/chat', {
    params: { stream: String(Boolean(options.stream)) },
    json: { messages: [{ role: 'user', content: options.input }] },
  });
  for await (const event of events) {
    process.stdout.write(`${event.event}: ${event.data}\n`);
  }
}

if (require.main === module) {
  const program = new Command()
    .name('client')
    .description("Chat with the demo over HTTP streaming (Lanarky's getting-started client).")
    .requiredOption('--input <text>', 'the user message')
    .option('--stream', 'stream the reply chunk by chunk', false)
    .option('--url <base>', "the demo's base URL", 'http://localhost:3000')
    .parse();

  main(program.opts<ClientOptions>()).catch((error: unknown) => {
    // One line, whatever failed: an HTTP error names its status and body, a network error its cause.
    const cause = error instanceof Error && !(error instanceof StreamingClientError) && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}${cause}\n`);
    process.exitCode = 1;
  });
}
