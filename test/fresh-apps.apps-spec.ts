import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { freePort } from './support/network';
import { killGroup, runTracked, spawnTracked, waitForPort, type Finished } from './support/processes';
import { chat, completionText, userSays } from './support/sse';
import { ChatSocket, turnText } from './support/ws';
import { pathWithNode } from './support/node-versions';

/**
 * The library as a new user meets it: a fixture app exactly as `nest new` made it (committed with
 * its lockfile), the packed library installed into it with plain `npm install <tgz>`, then the
 * README's steps (nest add, nest g, nest build, start) and the app's own test runner, on the Node
 * the row names. `LANARKY_APPS=nest12-esm@24,...` runs only the rows named.
 */
const MATRIX: Array<{ app: string; node: string; nest: number; esm: boolean }> = [
  // The floor: Node 20.19 from the registry (this machine has a later 20).
  { app: 'nest11-cjs', node: '20.19', nest: 11, esm: false },
  { app: 'nest12-cjs', node: '24', nest: 12, esm: false },
  { app: 'nest12-esm', node: '24', nest: 12, esm: true },
];
const ROOT = join(__dirname, '..');
const FIXTURES = join(__dirname, 'fresh-apps');
const REPLY = 'Fresh apps stream too.';
const SELECTED = process.env.LANARKY_APPS?.split(',').map((row) => row.trim());
const ROWS = MATRIX.filter(({ app, node }) => !SELECTED || SELECTED.includes(`${app}@${node}`));
const MINUTE = 60_000;

/** The environment a user's shell would have: no npm script variables, no upstream settings. */
function userEnvironment(node: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_|OPENAI_|NODE_OPTIONS$|JEST_|LANARKY_)/i.test(name)),
  );
  return { ...env, PATH: pathWithNode(node), CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', NO_UPDATE_NOTIFIER: '1' };
}

/** Fails with what a command printed unless it exited with 0. */
function succeeded(finished: Finished): Finished {
  if (finished.code !== 0) {
    throw new Error(`exited with ${finished.code}:\n${finished.output.slice(-6000)}`);
  }
  return finished;
}

/** The installed version of a package in an app, or undefined. */
function installedVersion(cwd: string, name: string): string | undefined {
  const manifest = join(cwd, 'node_modules', name, 'package.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf-8')) as { version: string }).version : undefined;
}

/** Relative import specifiers in a TypeScript source. */
function relativeImports(source: string): string[] {
  return [...source.matchAll(/from '(\.[^']*)'/g)].map((match) => match[1]);
}

const running = new Set<ChildProcess>();
const timings: Record<string, Record<string, number>> = {};
let scratch: string;
let tarball: string;
let upstream: MockOpenAIServer;

/** The environment and folder of a row's app. */
function rowOf({ app, node }: { app: string; node: string }): { row: string; cwd: string; env: NodeJS.ProcessEnv } {
  const row = `${app}@${node}`;
  return { row, cwd: join(scratch, row), env: userEnvironment(node) };
}

/** Runs a command in a row's app as its user would, timing it under `step`. */
async function timed(row: string, step: string, command: string, args: string[], options: SpawnOptions, timeoutMs: number): Promise<Finished> {
  const started = Date.now();
  const finished = await runTracked(command, args, options, running, timeoutMs);
  (timings[row] ??= {})[step] = Date.now() - started;
  return finished;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lanarky-fresh-apps-'));
  upstream = await MockOpenAIServer.start({ text: REPLY });
  // Mostly waiting on the registry, so at once: the pack and every row's own dependencies.
  // npm install, not npm ci: the registry here lacks an optional Windows-only package of vite's
  // that the ESM app's lockfile names, which npm ci refuses and npm install skips.
  const installs = ROWS.map(async (rowSpec) => {
    const { row, cwd, env } = rowOf(rowSpec);
    cpSync(join(FIXTURES, rowSpec.app), cwd, { recursive: true });
    const install = await timed(row, 'npm install (fixture)', 'npm', ['install', '--no-audit', '--no-fund'], { cwd, env }, 6 * MINUTE);
    return { row, install };
  });
  // The package a user gets: npm pack runs the library's prepack (its build and the collection's).
  const pack = runTracked('npm', ['pack', '-w', '@lanarky/openai', '--pack-destination', scratch], { cwd: ROOT }, running, 3 * MINUTE);
  succeeded(await pack);
  tarball = join(scratch, readdirSync(scratch).find((file) => file.endsWith('.tgz'))!);
  for (const { row, install } of await Promise.all(installs)) {
    succeeded({ ...install, output: `${row}: ${install.output}` });
  }
}, 8 * MINUTE);

afterAll(async () => {
  await Promise.all([...running].map(killGroup));
  await upstream?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  mkdirSync(join(ROOT, 'test', 'output'), { recursive: true });
  writeFileSync(join(ROOT, 'test', 'output', 'fresh-apps.json'), `${JSON.stringify(timings, null, 2)}\n`);
}, MINUTE);

describe('the packed library', () => {
  const list = () => runTracked('tar', ['-tzf', tarball], {}, running, MINUTE);

  it('carries its README, LICENSE and compiled code, and no TypeScript sources beside the declarations', async () => {
    const files = (await list()).output.trim().split('\n');

    expect(files).toEqual(expect.arrayContaining(['package/README.md', 'package/LICENSE', 'package/package.json', 'package/dist/index.js']));
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('has source maps that resolve: every map carries the sources it names', async () => {
    const unpacked = join(scratch, 'unpacked');
    mkdirSync(unpacked);
    succeeded(await runTracked('tar', ['-xzf', tarball, '-C', unpacked], {}, running, MINUTE));
    const maps = readdirSync(join(unpacked, 'package', 'dist'), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.js.map'));

    expect(maps.length).toBeGreaterThan(20);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(unpacked, 'package', 'dist', map), 'utf-8')) as {
        sources: string[];
        sourcesContent?: Array<string | null>;
      };
      expect({ map, inlined: sourcesContent?.filter((content) => typeof content === 'string').length }).toEqual({
        map,
        inlined: sources.length,
      });
    }
  });
});

describe.each(ROWS)('a fresh $app app on Node $node', (rowSpec) => {
  const { node, nest, esm } = rowSpec;
  let row: string;
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  /** Runs a command in the app as its user would, timing it under `name`. */
  const step = (name: string, command: string, args: string[], timeoutMs: number): Promise<Finished> =>
    timed(row, name, command, args, { cwd, env }, timeoutMs);

  const nestCli = (args: string[], timeoutMs: number, name = `nest ${args[0]}`) =>
    step(name, 'node', ['node_modules/@nestjs/cli/bin/nest.js', ...args], timeoutMs);

  beforeAll(async () => {
    ({ row, cwd, env } = rowOf(rowSpec));
    const version = await step('node --version', 'node', ['--version'], MINUTE);
    expect(`${version.output.trim()}.`.startsWith(`v${node}.`)).toBe(true);
    expect(installedVersion(cwd, '@nestjs/core')?.split('.')[0]).toBe(String(nest));
  }, MINUTE);

  it('npm install <the packed library> succeeds with no flags', async () => {
    const install = await step('npm install <tgz>', 'npm', ['install', tarball, '--no-audit', '--no-fund'], 5 * MINUTE);

    succeeded(install);
    expect(install.output).not.toContain('ERESOLVE');
    expect(installedVersion(cwd, '@lanarky/openai')).toBe('0.1.0');
    // npm installs the required peers the app lacked: the SDK, validation.
    expect(installedVersion(cwd, 'openai')).toMatch(/^[67]\./);
    expect(installedVersion(cwd, 'class-validator')).toMatch(/^0\.1[45]\./);
    (timings[row] ??= {}).openai = Number(installedVersion(cwd, 'openai')!.split('.')[0]);
  }, 6 * MINUTE);

  it('nest add sets the app up and adds the websocket packages at its own Nest major', async () => {
    // --skip-install: the library is installed already (from a tarball the registry does not have);
    // the schematic then only names the packages it added, for the install that follows.
    const add = await nestCli(['add', '@lanarky/openai', '--skip-install'], 5 * MINUTE);

    succeeded(add);
    expect(readFileSync(join(cwd, 'src/app.module.ts'), 'utf-8')).toContain('LanarkyOpenAIModule.forRoot({ isGlobal: true })');
    const main = readFileSync(join(cwd, 'src/main.ts'), 'utf-8');
    expect(main).toContain('useChatBodyParser(app);');
    expect(main).toContain('app.useWebSocketAdapter(new LanarkyWsAdapter(app));');
    const range = nest === 11 ? '^11.1.9' : '^12.0.0';
    expect(add.output).toContain(`@nestjs/websockets@${range}`);
    expect(add.output).toContain('run npm install');

    succeeded(await step('npm install', 'npm', ['install', '--no-audit', '--no-fund'], 5 * MINUTE));
    expect(installedVersion(cwd, '@nestjs/websockets')?.split('.')[0]).toBe(String(nest));
    expect(installedVersion(cwd, '@nestjs/platform-ws')?.split('.')[0]).toBe(String(nest));
  }, 11 * MINUTE);

  it("after nest add, the starter's own e2e test still passes with no API key anywhere", async () => {
    const e2e = await step('npm run test:e2e', 'npm', ['run', 'test:e2e'], 5 * MINUTE);

    succeeded(e2e);
    expect(e2e.output).toMatch(/(PASS|✓) +test\/app\.e2e-spec\.ts/);
  }, 6 * MINUTE);

  it('nest g -c @lanarky/openai chat-resource support writes the endpoint, with .js imports in an ESM app', async () => {
    const generate = await nestCli(['g', '-c', '@lanarky/openai', 'chat-resource', 'support'], 2 * MINUTE, 'nest g');

    succeeded(generate);
    const files = ['module', 'controller', 'controller.spec', 'gateway', 'gateway.spec'].map((file) => `src/support/support.${file}.ts`);
    const imports = [...files, 'src/app.module.ts'].flatMap((file) => relativeImports(readFileSync(join(cwd, file), 'utf-8')));
    expect(imports).toContain(esm ? './support/support.module.js' : './support/support.module');
    expect(imports.filter((specifier) => specifier.endsWith('.js') !== esm)).toEqual([]);
  }, 3 * MINUTE);

  it('nest build compiles it', async () => {
    const build = await nestCli(['build'], 3 * MINUTE);

    succeeded(build);
    expect(existsSync(join(cwd, 'dist/support/support.controller.js'))).toBe(true);
  }, 4 * MINUTE);

  // Types depend on the app, not on the Node that runs tsc: once an app, on its first row.
  const firstRowOfApp = ROWS.find(({ app }) => app === rowSpec.app) === rowSpec;
  const itOnFirstRow = firstRowOfApp ? it : () => undefined;
  itOnFirstRow("type-checks the library's three entry points with skipLibCheck off, under nodenext and bundler (and node16 with Nest 11)", async () => {
    writeFileSync(
      join(cwd, 'src/lanarky-entry-points.ts'),
      [
        "import { ChatCompletionResource, LanarkyOpenAIModule, LanarkyWsAdapter } from '@lanarky/openai';",
        "import { StreamingClient, WebSocketClient } from '@lanarky/openai/clients';",
        "import { MockOpenAIServer } from '@lanarky/openai/testing';",
        '',
        'export const entryPoints = [ChatCompletionResource, LanarkyOpenAIModule, LanarkyWsAdapter, StreamingClient, WebSocketClient, MockOpenAIServer];',
        '',
      ].join('\n'),
    );
    try {
      // node16 models Node 16, which cannot require() ES modules: with Nest 12 (ESM only) TypeScript
      // refuses it from every CommonJS file there, the app's own included, so Nest 11 alone is checked under it.
      const resolutions = [['nodenext', 'nodenext'], ...(nest === 11 ? [['node16', 'node16']] : []), ['preserve', 'bundler']];
      const checks = await Promise.all(
        resolutions.map(([module, resolution]) =>
          step(`tsc (${resolution})`, 'node', [
            'node_modules/typescript/bin/tsc',
            '--noEmit',
            '-p',
            'tsconfig.build.json',
            '--skipLibCheck',
            'false',
            // No build info: a check must not reuse what another module setting found.
            '--incremental',
            'false',
            '--module',
            module,
            '--moduleResolution',
            resolution,
          ], 3 * MINUTE).then((tsc) => ({ resolution, code: tsc.code, output: tsc.output })),
        ),
      );
      expect(checks).toEqual(resolutions.map(([, resolution]) => ({ resolution, code: 0, output: '' })));
    } finally {
      rmSync(join(cwd, 'src/lanarky-entry-points.ts'));
    }
  }, 7 * MINUTE);

  it('starts and streams from POST /support and the socket at /support, against the mock upstream', async () => {
    const port = await freePort();
    const started = Date.now();
    const { child, output } = spawnTracked(
      'node',
      ['dist/main'],
      { cwd, env: { ...env, PORT: String(port), OPENAI_API_KEY: 'sk-fresh-app', OPENAI_BASE_URL: upstream.url } },
      running,
    );
    try {
      await waitForPort(port, child, MINUTE, output);
      (timings[row] ??= {}).start = Date.now() - started;
      const url = `http://127.0.0.1:${port}/support`;

      const response = await chat(url, userSays('hi'));

      expect(response.status).toBe(200);
      expect(completionText(response)).toBe(REPLY);
      const socket = await ChatSocket.open(url);
      try {
        socket.send(userSays('and again'));
        expect(turnText(await socket.nextTurn(10_000))).toBe(REPLY);
      } finally {
        socket.close();
      }
      expect(output()).not.toContain('sk-fresh-app');
    } finally {
      await killGroup(child);
    }
  }, 2 * MINUTE);

  it("the app's own test runner passes the generated specs and a test on @lanarky/openai/testing", async () => {
    const template = readFileSync(join(FIXTURES, 'support.upstream.spec.ts.template'), 'utf-8');
    writeFileSync(join(cwd, 'src/support/support.upstream.spec.ts'), template.replace('__EXT__', esm ? '.js' : ''));

    const test = await step('npm test', 'npm', ['test'], 5 * MINUTE);

    succeeded(test);
    for (const spec of ['support.controller.spec.ts', 'support.gateway.spec.ts', 'support.upstream.spec.ts']) {
      expect(test.output).toMatch(new RegExp(`(PASS|✓) +src/support/${spec.replace(/\./g, '\\.')}`));
    }
  }, 6 * MINUTE);
});
