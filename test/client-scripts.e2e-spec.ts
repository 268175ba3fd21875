import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import type { ChatApp } from './support/chat-app';
import { startDemo } from './support/demo-app';

const ROOT = join(__dirname, '..');
const SASSY = 'You are a sassy assistant';
// ts-node compiles each script on start: a second or two, more on a busy machine.
const SCRIPT_TIMEOUT_MS = 30_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/** Runs a demo script the way `npm run` does, feeding it `stdin`, bounded in time. */
function runScript(script: string, args: string[], stdin?: string): Promise<Run> {
  const child = spawn(
    process.execPath,
    [require.resolve('ts-node/dist/bin.js'), '-r', 'tsconfig-paths/register', '--transpile-only', `apps/demo/scripts/${script}`, ...args],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin!.end(stdin);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} still running after ${SCRIPT_TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, SCRIPT_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the demo client scripts (npm run client, npm run client:ws)', () => {
  let upstream: MockOpenAIServer;
  let demo: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    demo = await startDemo({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, LANARKY_MODEL: undefined });
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    children.forEach((child) => child.kill('SIGKILL'));
    await demo.close();
    await upstream.close();
  });

  it('client --stream prints one `completion: <chunk>` line per chunk, in order', async () => {
    upstream.setReply({ chunks: ['Oh,', ' you', ' said', ' hi.'] });

    const run = await runScript('client.ts', ['--input', 'hi', '--stream', '--url', demo.url]);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe('completion: Oh,\ncompletion:  you\ncompletion:  said\ncompletion:  hi.\n');
    expect(upstream.requests[0].body).toMatchObject({
      stream: true,
      messages: [
        { role: 'system', content: SASSY },
        { role: 'user', content: 'hi' },
      ],
    });
  }, SCRIPT_TIMEOUT_MS + 5000);

  it('client without --stream prints exactly one line with the whole reply', async () => {
    upstream.setReply({ chunks: ['Oh,', ' you', ' said', ' hi.'] });

    const run = await runScript('client.ts', ['--input', 'hi', '--url', demo.url]);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe('completion: Oh, you said hi.\n');
    expect(upstream.requests[0].body.stream).toBeFalsy();
  }, SCRIPT_TIMEOUT_MS + 5000);

  it('client exits 1 with a one-line message on an HTTP error', async () => {
    const run = await runScript('client.ts', ['--input', 'hi', '--url', `${demo.url}/nowhere`]);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Error: HTTP 404: \{.*"statusCode":404.*\}\n$/);
  }, SCRIPT_TIMEOUT_MS + 5000);

  it('client:ws holds a two-turn chat from piped stdin, sending the whole history, and exits 0 on EOF', async () => {
    upstream.enqueueReply({ chunks: ['Hi', ' yourself.'] }, { chunks: ['Fine,', ' thanks.'] });

    const run = await runScript('client-ws.ts', ['--url', `${demo.url.replace('http', 'ws')}/ws`], 'hi\nhow are you?\n');

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      '\nEnter a message: Received: Hi yourself.\n' + '\nEnter a message: Received: Fine, thanks.\n' + '\nEnter a message: ',
    );
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests[1].body.messages).toEqual([
      { role: 'system', content: SASSY },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Hi yourself.' },
      { role: 'user', content: 'how are you?' },
    ]);
  }, SCRIPT_TIMEOUT_MS + 5000);
});
