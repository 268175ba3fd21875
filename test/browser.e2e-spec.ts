import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import type { ChatApp } from './support/chat-app';
import { launchChromium, type HeadlessChromium } from './support/chromium';
import { startDemo } from './support/demo-app';
import { PERSONAS, PERSONA_NAMES } from '../apps/demo/src/persona';

/** Where the screenshot goes: the test output, not the sources. */
const OUTPUT_DIR = join(__dirname, 'output');

jest.setTimeout(30_000);

describe('the demo chat page in headless Chromium', () => {
  let upstream: MockOpenAIServer;
  let demo: ChatApp;
  let chromium: HeadlessChromium;
  let page: Page;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    demo = await startDemo({ OPENAI_API_KEY: 'sk-browser-test', OPENAI_BASE_URL: upstream.url, LANARKY_MODEL: undefined });
    chromium = await launchChromium();
    page = chromium.page;
    await page.goto(`${demo.url}/`);
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await chromium?.close();
    await demo?.close();
    await upstream?.close();
  });

  const assistant = (index: number) => page.locator('.message.assistant').nth(index);

  async function say(text: string, transport: 'HTTP streaming (SSE)' | 'WebSocket') {
    await page.getByLabel(transport).check();
    await page.getByLabel('Message').fill(text);
    await page.getByLabel('Message').press('Enter');
  }

  it('is labelled for keyboard and screen-reader users, with focus in the message box', async () => {
    await expect(page.title()).resolves.toContain('Lanarky');
    await expect(page.getByLabel('Message').evaluate((element) => element === document.activeElement)).resolves.toBe(true);
    await expect(page.getByLabel('Persona').count()).resolves.toBe(1);
    await expect(page.getByLabel('System prompt').count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Send' }).isEnabled()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Stop' }).isDisabled()).resolves.toBe(true);
  });

  it('streams a reply token by token over HTTP', async () => {
    upstream.setReply({ chunks: ['Streaming', ' over', ' SSE', ' works.'], delayMs: 60 });

    await say('hello over http', 'HTTP streaming (SSE)');
    // Part of the reply shows before the whole of it: token by token.
    await page.waitForFunction(() => {
      const text = document.querySelector('.message.assistant .text')?.textContent ?? '';
      return text.length > 0 && text !== 'Streaming over SSE works.';
    });
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));

    await expect(assistant(0).locator('.text').textContent()).resolves.toBe('Streaming over SSE works.');
    expect(upstream.requests[0].body.messages.at(-1)).toEqual({ role: 'user', content: 'hello over http' });
  });

  it('streams a reply over the websocket, sending the whole history', async () => {
    upstream.setReply({ chunks: ['Sockets', ' too.'], delayMs: 20 });

    await say('and over a socket?', 'WebSocket');
    await page.waitForFunction(() => document.querySelectorAll('.message.assistant').length === 2);
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));

    await expect(assistant(1).locator('.text').textContent()).resolves.toBe('Sockets too.');
    expect(upstream.requests[0].body.messages.slice(1)).toEqual([
      { role: 'user', content: 'hello over http' },
      { role: 'assistant', content: 'Streaming over SSE works.' },
      { role: 'user', content: 'and over a socket?' },
    ]);
  });

  it.each(['HTTP streaming (SSE)', 'WebSocket'] as const)('stops a reply mid-stream over %s: upstream sees the abort', async (transport) => {
    upstream.setReply({ chunkCount: 200, delayMs: 30 });
    const aborted = new Promise<void>((resolve) => upstream.once('abort', () => resolve()));
    const count = await page.locator('.message.assistant').count();

    await say('talk for a long time', transport);
    await page.waitForFunction((index) => (document.querySelectorAll('.message.assistant .text')[index]?.textContent ?? '').length > 0, count);
    await page.getByRole('button', { name: 'Stop' }).click();
    await aborted;
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));

    const text = (await assistant(count).locator('.text').textContent()) ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(MockOpenAIServer.expectedText({ chunkCount: 200 }).length);
    expect(upstream.abortedRequests).toBe(1);
  });

  it('shows an upstream error inline and stays usable', async () => {
    upstream.enqueueReply({ status: 429 }, { status: 429 }, { status: 429 }, { chunks: ['Back', ' again.'] });
    const count = await page.locator('.message.assistant').count();

    await say('provoke an error', 'HTTP streaming (SSE)');
    const alert = assistant(count).getByRole('alert');
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toBe('Error 429: Rate limited by upstream');

    await say('and now?', 'HTTP streaming (SSE)');
    await page.waitForFunction((index) => document.querySelectorAll('.message.assistant').length === index + 2, count);
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
    await expect(assistant(count + 1).locator('.text').textContent()).resolves.toBe('Back again.');
  });

  it('offers exactly the server’s personas, the default one selected', async () => {
    const select = page.getByLabel('Persona');

    await expect(select.locator('option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value))).resolves.toEqual(PERSONA_NAMES);
    await expect(select.inputValue()).resolves.toBe('sassy');
  });

  it('passes the chosen persona to the factory, on both transports', async () => {
    upstream.setReply({ chunks: ['Arr.'] });
    await page.getByLabel('Persona').selectOption('pirate');

    await say('who are you?', 'HTTP streaming (SSE)');
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]') && !document.querySelector('#send:disabled'));
    await say('really?', 'WebSocket');
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]') && !document.querySelector('#send:disabled'));

    expect(upstream.requests.map((request) => request.body.messages[0])).toEqual([
      { role: 'system', content: PERSONAS.pirate },
      { role: 'system', content: PERSONAS.pirate },
    ]);
  });

  it('saves a screenshot of the conversation', async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    const path = join(OUTPUT_DIR, 'chat-page.png');

    await page.screenshot({ path, fullPage: true });

    expect(existsSync(path)).toBe(true);
  });
});
