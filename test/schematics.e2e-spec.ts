import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { freePort } from './support/network';
import { killGroup, runTracked, spawnTracked, waitForPort, type Finished } from './support/processes';
import { chat, completionText, userSays } from './support/sse';
import { ChatSocket, turnText } from './support/ws';

const ROOT = join(__dirname, '..');
const NEST = require.resolve('@nestjs/cli/bin/nest.js');
const JEST = 'node_modules/jest/bin/jest.js';
/** What the copy needs of the workspace; builds (the library's and the collection's) are left out. */
const COPIED = ['package.json', 'nest-cli.json', 'tsconfig.json', 'tsconfig.build.json', 'jest.config.js', 'apps', 'libs', 'test'];
const NOT_COPIED = new Set(['test/output', 'libs/lanarky-openai/dist', 'libs/lanarky-openai/schematics-dist']);
const GENERATED = ['module', 'controller', 'controller.spec', 'gateway', 'gateway.spec'].map(
  (file) => `apps/demo/src/support/support.${file}.ts`,
);

/**
 * A temporary copy of the workspace, with the installed node_modules linked in, except
 * `@lanarky/openai`, which points at the copy's own library (and so at its own schematics build).
 */
function copyWorkspace(): string {
  const copy = mkdtempSync(join(tmpdir(), 'lanarky-schematics-'));
  for (const entry of COPIED) {
    cpSync(join(ROOT, entry), join(copy, entry), {
      recursive: true,
      filter: (path) => !NOT_COPIED.has(relative(ROOT, path).split(sep).join('/')),
    });
  }
  mkdirSync(join(copy, 'node_modules', '@lanarky'), { recursive: true });
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry !== '@lanarky') {
      symlinkSync(join(ROOT, 'node_modules', entry), join(copy, 'node_modules', entry));
    }
  }
  symlinkSync('../../libs/lanarky-openai', join(copy, 'node_modules', '@lanarky', 'openai'), 'dir');
  return copy;
}

/** Every file under `dir`, with its content. */
function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files[relative(dir, path)] = readFileSync(path, 'utf-8');
    }
  }
  return files;
}

describe('nest g -c @lanarky/openai chat-resource, from the workspace', () => {
  let workspace: string;
  const running = new Set<ChildProcess>();
  let upstream: MockOpenAIServer | undefined;

  /** Runs a node script in the copy within `timeoutMs`. */
  const node = (args: string[], timeoutMs: number): Promise<Finished> =>
    runTracked(process.execPath, args, { cwd: workspace, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }, running, timeoutMs);

  const generate = () => node([NEST, 'g', '-c', '@lanarky/openai', 'chat-resource', 'support', '--project', 'demo'], 30_000);

  beforeAll(async () => {
    workspace = copyWorkspace();
    // The copy builds its own collection, as `npm ci` (prepare) does in a fresh clone.
    const build = await node(['libs/lanarky-openai/schematics/build.js'], 60_000);
    expect(build).toMatchObject({ code: 0 });
  }, 70_000);

  afterAll(async () => {
    await Promise.all([...running].map(killGroup));
    await upstream?.close();
    if (workspace) {
      rmSync(workspace, { recursive: true, force: true });
      rmSync(`${workspace}-jest-cache`, { recursive: true, force: true });
    }
  }, 15_000);

  it('resolves @lanarky/openai to the copy and its built collection', () => {
    const library = realpathSync(join(workspace, 'node_modules', '@lanarky', 'openai'));

    expect(library).toBe(realpathSync(join(workspace, 'libs', 'lanarky-openai')));
    expect(existsSync(join(library, 'schematics-dist', 'collection.json'))).toBe(true);
  });

  it('generates the module, controller, gateway and specs, and imports the module into the app module', async () => {
    const before = readFileSync(join(workspace, 'apps/demo/src/app.module.ts'), 'utf-8');

    const { code, output } = await generate();

    expect({ code, output }).toMatchObject({ code: 0 });
    for (const file of GENERATED) {
      expect(output).toContain(`CREATE ${file}`);
      expect(existsSync(join(workspace, file))).toBe(true);
    }
    expect(output).toContain('UPDATE apps/demo/src/app.module.ts');
    const appModule = readFileSync(join(workspace, 'apps/demo/src/app.module.ts'), 'utf-8');
    expect(appModule).toContain(`import { SupportModule } from './support/support.module';`);
    expect(appModule.replace(`import { SupportModule } from './support/support.module';\n`, '')).not.toBe(before);
    expect(appModule).toMatch(/imports: \[[^]*\n    SupportModule,\n  \]/);
  }, 40_000);

  it('fails a second run with the merge conflict, changing nothing', async () => {
    const before = readTree(join(workspace, 'apps/demo/src'));

    const { output } = await generate();

    expect(output).toMatch(/A merge conflicted on path "\/apps\/demo\/src\/support\/support\.[\w.]+\.ts"/);
    expect(readTree(join(workspace, 'apps/demo/src'))).toEqual(before);
  }, 40_000);

  it('nest add changes nothing in the demo, which is set up already', async () => {
    const before = readTree(join(workspace, 'apps/demo/src'));

    const { code, output } = await node([NEST, 'add', '@lanarky/openai', '--skip-install', '--project', 'demo'], 30_000);

    expect({ code, output }).toMatchObject({ code: 0, output: expect.stringContaining('Nothing to be done.') });
    expect(readTree(join(workspace, 'apps/demo/src'))).toEqual(before);
  }, 40_000);

  it('compiles with the generated files (nest build demo) and passes the generated specs', async () => {
    // Independent, so at once: tsc type-checks the app, ts-jest the specs (which the app's build excludes).
    const cache = `${workspace}-jest-cache`;
    const jest = [JEST, 'apps/demo/src/support', '--ci', '--cacheDirectory', cache, '--selectProjects', 'unit'];
    const [build, specs] = await Promise.all([node([NEST, 'build', 'demo'], 120_000), node(jest, 120_000)]);

    expect(build).toMatchObject({ code: 0 });
    expect(existsSync(join(workspace, 'dist/apps/demo/apps/demo/src/support/support.controller.js'))).toBe(true);
    expect(specs.output).toContain('PASS unit apps/demo/src/support/support.controller.spec.ts');
    expect(specs.output).toContain('PASS unit apps/demo/src/support/support.gateway.spec.ts');
    expect(specs.output).toContain('Tests:       3 passed, 3 total');
    expect(specs).toMatchObject({ code: 0 });
  }, 130_000);

  it('serves the generated endpoint: POST /support streams a completion, and so does the socket at /support', async () => {
    upstream = await MockOpenAIServer.start({ text: 'Happy to help, truly.' });
    const port = await freePort();
    const { child: app, output } = spawnTracked(
      process.execPath,
      ['dist/apps/demo/apps/demo/src/main.js'],
      {
        cwd: workspace,
        env: {
          ...process.env,
          NO_COLOR: '1',
          PORT: String(port),
          OPENAI_API_KEY: 'sk-schematics',
          OPENAI_BASE_URL: upstream.url,
          LANARKY_MODEL: '',
        },
      },
      running,
    );
    // Nest logs "successfully started" before the server listens: wait for the port itself.
    await waitForPort(port, app, 30_000, output);
    const url = `http://127.0.0.1:${port}/support`;

    const response = await chat(`${url}?stream=true`, userSays('hi'));

    expect(response.status).toBe(200);
    expect(response.events.length).toBeGreaterThan(1);
    expect(completionText(response)).toBe('Happy to help, truly.');
    expect(upstream.requests[0].body).toMatchObject({
      stream: true,
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'hi' },
      ],
    });

    const socket = await ChatSocket.open(url);
    try {
      socket.send(userSays('hello'));
      expect(turnText(await socket.nextTurn(10_000))).toBe('Happy to help, truly.');
    } finally {
      socket.close();
    }
  }, 60_000);
});
