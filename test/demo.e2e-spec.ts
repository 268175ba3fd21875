import { spawn, type ChildProcess } from 'node:child_process';
import { MockOpenAIServer, offlineJsonReply, offlineReply } from '@lanarky/openai/testing';
import { chat, completionText, postChat, userSays } from './support/sse';
import type { ChatApp } from './support/chat-app';
import { startDemo } from './support/demo-app';
import { demoStarted } from './support/demo-process';

import { SASSY } from '../apps/demo/src/persona';

describe('demo app against an OpenAI-compatible server', () => {
  let upstream: MockOpenAIServer;
  let demo: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start({ text: 'Oh, hello there, you.' });
    demo = await startDemo({ OPENAI_API_KEY: 'sk-demo', OPENAI_BASE_URL: upstream.url, LANARKY_MODEL: 'demo-model' });
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await demo.close();
    await upstream.close();
  });

  it('streams completion events for ?stream=true with the sassy system prompt and LANARKY_MODEL', async () => {
    const response = await chat(`${demo.url}/chat?stream=true`, userSays('hi'));

    expect(response.events.length).toBeGreaterThan(1);
    expect(response.events.every((event) => event.event === 'completion')).toBe(true);
    expect(completionText(response)).toBe('Oh, hello there, you.');
    expect(upstream.requests[0].body).toMatchObject({
      model: 'demo-model',
      stream: true,
      messages: [
        { role: 'system', content: SASSY },
        { role: 'user', content: 'hi' },
      ],
    });
  });

  it('answers POST /json with the model\'s JSON, asking upstream for json_object at the given temperature', async () => {
    upstream.setReply({ text: '{"mood": "sassy"}' });

    const response = await postChat(`${demo.url}/json?temperature=0.9`, userSays('how are you?'));

    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ mood: 'sassy' });
    expect(upstream.requests[0].body).toMatchObject({ temperature: 0.9, response_format: { type: 'json_object' } });
  });

  it('rejects POST /json with a temperature out of range, before upstream', async () => {
    const response = await postChat(`${demo.url}/json?temperature=3`, userSays('hi'));

    expect(response.status).toBe(400);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers ?stream=false with exactly one completion event', async () => {
    const response = await chat(`${demo.url}/chat?stream=false`, userSays('hi'));

    expect(response.events).toHaveLength(1);
    expect(response.events[0]).toMatchObject({ event: 'completion', data: 'Oh, hello there, you.' });
  });
});

describe('demo app with no key and no server: the embedded offline model', () => {
  let demo: ChatApp;

  beforeAll(async () => {
    demo = await startDemo({ OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined, LANARKY_MODEL: undefined });
  });
  afterAll(() => demo.close());

  const conversation = [{ role: 'user', content: 'What is Lanarky?' }];
  const expected = offlineReply([{ role: 'system', content: SASSY }, ...conversation]);

  it('streams its deterministic reply word by word', async () => {
    const response = await chat(`${demo.url}/chat`, { messages: conversation });

    expect(response.status).toBe(200);
    expect(response.events.length).toBeGreaterThan(10);
    expect(completionText(response)).toBe(expected);
    expect(expected).toContain('What is Lanarky?');
  });

  it('answers POST /json with valid JSON', async () => {
    const response = await postChat(`${demo.url}/json`, { messages: conversation });

    expect(response.status).toBe(201);
    expect(await response.json()).toEqual(
      JSON.parse(offlineJsonReply([{ role: 'system', content: 'You are a sassy assistant designed to output JSON.' }, ...conversation])),
    );
  });

  it('answers stream=false with the same text in one event', async () => {
    const response = await chat(`${demo.url}/chat?stream=false`, { messages: conversation });

    expect(response.events).toHaveLength(1);
    expect(response.events[0].data).toBe(expected);
  });
});

describe('npm start (nest start demo)', () => {
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      // The CLI runs the app as its own child: end the whole group.
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
  });

  it('starts the demo, says it serves the offline model, and streams a reply', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', NO_COLOR: '1' };
    delete env.OPENAI_API_KEY;
    delete env.OPENAI_BASE_URL;
    child = spawn(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'start', 'demo'], {
      cwd: `${__dirname}/..`,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { url, output } = await demoStarted(child, 60_000);

    const response = await chat(`${url}/chat?stream=true`, userSays('hi'));

    expect(output()).toContain('serving the embedded offline model');
    expect(response.events.length).toBeGreaterThan(1);
    expect(completionText(response)).toContain('"hi"');
  }, 90_000);
});
