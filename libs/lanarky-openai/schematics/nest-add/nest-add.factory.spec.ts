import type { SchematicTestRunner, UnitTestTree } from '@angular-devkit/schematics/testing';
import {
  MODULE_NOT_FOUND,
  NO_MODULE_DECORATOR,
  NO_NEST_FACTORY,
  NO_PACKAGE_JSON,
  OTHER_WS_ADAPTER,
  UNKNOWN_NEST_MAJOR,
  WEBSOCKET_PEERS_ADDED,
} from '../schematics.messages';
import { createEsmFixtureApp, createFixtureApp, createRunner, snapshot } from '../testing/fixture-app';
import type { NestAddOptions } from './nest-add.options';
import { majorOf } from './websocket-peers';

describe('nest-add schematic', () => {
  let runner: SchematicTestRunner;
  let app: UnitTestTree;
  let warnings: string[];
  let infos: string[];

  beforeEach(async () => {
    runner = createRunner();
    app = await createFixtureApp(runner);
    warnings = [];
    infos = [];
    runner.logger.subscribe((entry) => {
      if (entry.level === 'warn') {
        warnings.push(entry.message);
      } else if (entry.level === 'info') {
        infos.push(entry.message);
      }
    });
  });

  const run = (options: NestAddOptions = { sourceRoot: 'src' }, tree: UnitTestTree = app) =>
    runner.runSchematic('nest-add', options, tree);

  describe('on a new app', () => {
    let original: Record<string, string>;
    let tree: UnitTestTree;
    beforeEach(async () => {
      original = snapshot(app);
      tree = await run();
    });

    it('imports LanarkyOpenAIModule.forRoot({ isGlobal: true }) into the app module', () => {
      expect(tree.readContent('/src/app.module.ts')).toBe(`import { Module } from '@nestjs/common';
import { AppController } from './app.controller';
import { AppService } from './app.service';
import { LanarkyOpenAIModule } from '@lanarky/openai';

@Module({
  imports: [LanarkyOpenAIModule.forRoot({ isGlobal: true })],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
`);
    });

    it('installs the body parser and the websocket adapter right after NestFactory.create', () => {
      expect(tree.readContent('/src/main.ts')).toBe(`import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { LanarkyWsAdapter, useChatBodyParser } from '@lanarky/openai';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  useChatBodyParser(app);
  app.useWebSocketAdapter(new LanarkyWsAdapter(app));
  await app.listen(process.env.PORT ?? 3000);
}
bootstrap();
`);
    });

    it('touches nothing else', () => {
      const changed = tree.files.filter((path) => tree.readContent(path) !== original[path]);
      expect(changed.sort()).toEqual(['/package.json', '/src/app.module.ts', '/src/main.ts']);
    });

    it('is idempotent: a second run changes nothing, schedules no install and logs nothing', async () => {
      const before = snapshot(tree);
      expect([runner.tasks.length, infos.length]).toEqual([1, 1]);

      expect(snapshot(await run({ sourceRoot: 'src' }, tree))).toEqual(before);
      // The runner records the tasks of its latest run only.
      expect(runner.tasks).toEqual([]);
      expect(infos).toHaveLength(1);
      expect(warnings).toEqual([]);
    });
  });

  describe('the websocket packages (optional peers, which npm does not install)', () => {
    const packageJson = (tree: UnitTestTree) => JSON.parse(tree.readContent('/package.json'));
    const setPackageJson = (edit: (json: any) => void) => {
      const json = packageJson(app);
      edit(json);
      app.overwrite('/package.json', `${JSON.stringify(json, null, 2)}\n`);
    };
    const installs = () => runner.tasks.filter((task) => task.name === 'node-package' && (task.options as { command?: string } | undefined)?.command === 'install');
    const peers11 = ['@nestjs/websockets@^11.1.9', '@nestjs/platform-ws@^11.1.9'];

    it('adds both to a Nest 11 app\'s dependencies at ^11.1.9, schedules the install and says so', async () => {
      const original = app.readContent('/package.json');
      const expected = JSON.parse(original);
      expected.dependencies['@nestjs/platform-ws'] = '^11.1.9';
      expected.dependencies['@nestjs/websockets'] = '^11.1.9';
      expected.dependencies = Object.fromEntries(Object.entries(expected.dependencies).sort(([a], [b]) => a.localeCompare(b)));

      const tree = await run();

      // The file's own indentation and final newline, dependencies sorted as npm keeps them.
      expect(tree.readContent('/package.json')).toBe(`${JSON.stringify(expected, null, 2)}\n`);
      expect(Object.keys(packageJson(tree).dependencies)).toEqual(Object.keys(expected.dependencies));
      expect(installs()).toHaveLength(1);
      expect(runner.tasks).toHaveLength(1);
      expect(infos).toEqual([WEBSOCKET_PEERS_ADDED(peers11, false)]);
      expect(warnings).toEqual([]);
    });

    it('at ^12.0.0 in a Nest 12 app (the ES module app `nest new` makes)', async () => {
      const tree = await run({ sourceRoot: 'src' }, await createEsmFixtureApp(runner));

      expect(packageJson(tree).dependencies).toMatchObject({ '@nestjs/websockets': '^12.0.0', '@nestjs/platform-ws': '^12.0.0' });
      expect(installs()).toHaveLength(1);
      expect(infos).toEqual([WEBSOCKET_PEERS_ADDED(['@nestjs/websockets@^12.0.0', '@nestjs/platform-ws@^12.0.0'], false)]);
    });

    it('reads the major from an exact @nestjs/core version, and from @nestjs/common when there is no core', async () => {
      setPackageJson((json) => {
        delete json.dependencies['@nestjs/core'];
        json.dependencies['@nestjs/common'] = '12.0.3';
      });

      expect(packageJson(await run()).dependencies['@nestjs/websockets']).toBe('^12.0.0');
    });

    it.each([
      ['^11.0.1', '11'],
      ['11.2.10', '11'],
      ['~12.0.0', '12'],
      ['>=11.1.9 <13', '11'],
      ['11.x', '11'],
      ['v12', '12'],
      ['latest', undefined],
      ['*', undefined],
      ['workspace:*', undefined],
      ['110', '110'],
    ])('the major of %s is %s', (range, major) => {
      expect(majorOf(range)).toBe(major);
    });

    it('adds only the one missing; one in devDependencies counts as there', async () => {
      setPackageJson((json) => {
        json.devDependencies['@nestjs/websockets'] = '^11.0.0';
      });

      const json = packageJson(await run());

      expect(json.dependencies['@nestjs/platform-ws']).toBe('^11.1.9');
      expect(json.dependencies['@nestjs/websockets']).toBeUndefined();
      expect(json.devDependencies['@nestjs/websockets']).toBe('^11.0.0');
      expect(infos).toEqual([WEBSOCKET_PEERS_ADDED(['@nestjs/platform-ws@^11.1.9'], false)]);
    });

    it('changes nothing and schedules nothing when the app has both (as the demo does)', async () => {
      setPackageJson((json) => {
        json.dependencies['@nestjs/websockets'] = '11.2.6';
        json.dependencies['@nestjs/platform-ws'] = '11.2.6';
      });
      const original = app.readContent('/package.json');

      expect((await run()).readContent('/package.json')).toBe(original);
      expect(runner.tasks).toEqual([]);
      expect(infos).toEqual([]);
    });

    it('keeps a tab-indented package.json tab-indented', async () => {
      app.overwrite('/package.json', JSON.stringify(packageJson(app), null, '\t'));

      const content = (await run()).readContent('/package.json');

      expect(content).toContain('\n\t"dependencies": {\n\t\t"@nestjs/common": "^11.0.1",');
      expect(content).toContain('\t\t"@nestjs/platform-ws": "^11.1.9",');
      expect(content.endsWith('}')).toBe(true);
    });

    it.each([['^13.0.0'], ['latest']])('warns and adds nothing for a Nest version it does not know (%s)', async (range) => {
      setPackageJson((json) => {
        json.dependencies['@nestjs/core'] = range;
      });
      const original = app.readContent('/package.json');

      const tree = await run();

      expect(tree.readContent('/package.json')).toBe(original);
      expect(runner.tasks).toEqual([]);
      expect(warnings).toEqual([UNKNOWN_NEST_MAJOR(['@nestjs/websockets', '@nestjs/platform-ws'], range)]);
      expect(tree.readContent('/src/main.ts')).toContain('useChatBodyParser(app);');
    });

    it('warns and adds nothing when package.json names no @nestjs/core or @nestjs/common', async () => {
      setPackageJson((json) => {
        delete json.dependencies['@nestjs/core'];
        delete json.dependencies['@nestjs/common'];
      });
      const original = app.readContent('/package.json');

      expect((await run()).readContent('/package.json')).toBe(original);
      expect(runner.tasks).toEqual([]);
      expect(warnings).toEqual([UNKNOWN_NEST_MAJOR(['@nestjs/websockets', '@nestjs/platform-ws'], undefined)]);
    });

    it('warns, and still sets up the app, without a package.json', async () => {
      app.delete('/package.json');

      const tree = await run();

      expect(tree.exists('/package.json')).toBe(false);
      expect(runner.tasks).toEqual([]);
      expect(warnings).toEqual([NO_PACKAGE_JSON(['@nestjs/websockets', '@nestjs/platform-ws'])]);
      expect(tree.readContent('/src/app.module.ts')).toContain('LanarkyOpenAIModule.forRoot({ isGlobal: true })');
    });

    it('--skip-install: edits package.json, schedules no install, and says to run it', async () => {
      const tree = await run({ sourceRoot: 'src', skipInstall: true });

      expect(packageJson(tree).dependencies).toMatchObject({ '@nestjs/websockets': '^11.1.9', '@nestjs/platform-ws': '^11.1.9' });
      expect(runner.tasks).toEqual([]);
      expect(infos).toEqual([WEBSOCKET_PEERS_ADDED(peers11, true)]);
      expect(infos[0]).toContain('npm install');
    });
  });

  it('finds the source root in nest-cli.json when none is passed', async () => {
    const tree = await run({});

    expect(tree.readContent('/src/main.ts')).toContain('useChatBodyParser(app);');
  });

  it('sets up the project named by --project', async () => {
    app.create('/apps/api/src/app.module.ts', app.readContent('/src/app.module.ts'));
    app.create('/apps/api/src/main.ts', app.readContent('/src/main.ts'));
    app.overwrite('/nest-cli.json', JSON.stringify({ sourceRoot: 'src', projects: { api: { sourceRoot: 'apps/api/src' } } }));

    const tree = await run({ project: 'api' });

    expect(tree.readContent('/apps/api/src/app.module.ts')).toContain('LanarkyOpenAIModule.forRoot({ isGlobal: true })');
    expect(tree.readContent('/apps/api/src/main.ts')).toContain('app.useWebSocketAdapter(new LanarkyWsAdapter(app));');
    expect(tree.readContent('/src/main.ts')).not.toContain('Lanarky');
  });

  it('leaves a module already configured with forRoot or forRootAsync as it is', async () => {
    const configured = `import { Module } from '@nestjs/common';
import { LanarkyOpenAIModule } from '@lanarky/openai';

@Module({
  imports: [LanarkyOpenAIModule.forRootAsync({ isGlobal: true, useFactory: () => ({}) })],
})
export class AppModule {}
`;
    app.overwrite('/src/app.module.ts', configured);

    expect((await run()).readContent('/src/app.module.ts')).toBe(configured);
  });

  it('adds to an existing import from @lanarky/openai rather than a second one', async () => {
    app.overwrite(
      '/src/app.module.ts',
      `import { Module } from '@nestjs/common';
import { LanarkyOpenAIModule as _unused, ChatResource } from '@lanarky/openai';

@Module({ imports: [] })
export class AppModule {}
`,
    );

    const content = (await run()).readContent('/src/app.module.ts');

    expect(content).toContain(`import { LanarkyOpenAIModule as _unused, ChatResource, LanarkyOpenAIModule } from '@lanarky/openai';`);
    expect(content.match(/from '@lanarky\/openai'/g)).toHaveLength(1);
    expect(content).toContain('@Module({ imports: [LanarkyOpenAIModule.forRoot({ isGlobal: true })] })');
  });

  it('adds an imports array to a module that has none', async () => {
    app.overwrite('/src/app.module.ts', `import { Module } from '@nestjs/common';\n\n@Module({})\nexport class AppModule {}\n`);

    expect((await run()).readContent('/src/app.module.ts')).toContain(
      `@Module({\n  imports: [LanarkyOpenAIModule.forRoot({ isGlobal: true })]\n})`,
    );
  });

  it('leaves main.ts alone when the app sets up Lanarky elsewhere (as the demo does in setup.ts)', async () => {
    app.create(
      '/src/setup.ts',
      `import { LanarkyWsAdapter, useChatBodyParser } from '@lanarky/openai';
export function setup(app: any) {
  useChatBodyParser(app);
  app.useWebSocketAdapter(new LanarkyWsAdapter(app));
}
`,
    );
    const main = app.readContent('/src/main.ts');

    expect((await run()).readContent('/src/main.ts')).toBe(main);
  });

  it('adds only what is missing', async () => {
    app.overwrite(
      '/src/main.ts',
      `import { NestFactory } from '@nestjs/core';
import { useChatBodyParser } from '@lanarky/openai';
import { AppModule } from './app.module';

async function bootstrap() {
  const nest = await NestFactory.create<any>(AppModule, { bufferLogs: true });
  useChatBodyParser(nest);
  await nest.listen(3000);
}
void bootstrap();
`,
    );

    const main = (await run()).readContent('/src/main.ts');

    expect(main).toContain(`import { useChatBodyParser, LanarkyWsAdapter } from '@lanarky/openai';`);
    expect(main).toContain(
      [
        '  const nest = await NestFactory.create<any>(AppModule, { bufferLogs: true });',
        '  nest.useWebSocketAdapter(new LanarkyWsAdapter(nest));',
        '  useChatBodyParser(nest);',
      ].join('\n'),
    );
  });

  it('does not replace another websocket adapter, and says why', async () => {
    app.overwrite(
      '/src/main.ts',
      app.readContent('/src/main.ts').replace(
        'const app = await NestFactory.create(AppModule);',
        'const app = await NestFactory.create(AppModule);\n  app.useWebSocketAdapter(new WsAdapter(app));',
      ),
    );

    const main = (await run()).readContent('/src/main.ts');

    expect(main).not.toContain('LanarkyWsAdapter');
    expect(main).toContain('useChatBodyParser(app);');
    expect(warnings).toEqual([OTHER_WS_ADAPTER('src/main.ts')]);
  });

  it('warns, and leaves main.ts alone, when it cannot find NestFactory.create', async () => {
    app.overwrite('/src/main.ts', `import { bootstrap } from './bootstrap';\nbootstrap();\n`);

    expect((await run()).readContent('/src/main.ts')).toBe(`import { bootstrap } from './bootstrap';\nbootstrap();\n`);
    expect(warnings).toEqual([NO_NEST_FACTORY('src/main.ts')]);
  });

  it('fails, changing nothing, without an app module', async () => {
    app.delete('/src/app.module.ts');
    const before = snapshot(app);

    await expect(run()).rejects.toThrow(MODULE_NOT_FOUND('src/app.module.ts'));
    expect(snapshot(app)).toEqual(before);
  });

  it('fails on an app module with no @Module({ ... })', async () => {
    app.overwrite('/src/app.module.ts', 'export class AppModule {}\n');

    await expect(run()).rejects.toThrow(NO_MODULE_DECORATOR('src/app.module.ts'));
  });

  it('is in the collection as nest-add, runnable without --allow-private as `nest add` runs it', () => {
    const collection = runner.engine.createCollection('@lanarky/openai');

    expect(collection.listSchematicNames()).toEqual(expect.arrayContaining(['chat-resource', 'nest-add']));
    expect(collection.createSchematic('nest-add').description.private).toBeFalsy();
  });
});
