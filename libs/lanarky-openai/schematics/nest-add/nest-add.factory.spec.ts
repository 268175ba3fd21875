import type { SchematicTestRunner, UnitTestTree } from '@angular-devkit/schematics/testing';
import { MODULE_NOT_FOUND, NO_MODULE_DECORATOR, NO_NEST_FACTORY, OTHER_WS_ADAPTER } from '../schematics.messages';
import { createFixtureApp, createRunner, snapshot } from '../testing/fixture-app';
import type { NestAddOptions } from './nest-add.options';

describe('nest-add schematic', () => {
  let runner: SchematicTestRunner;
  let app: UnitTestTree;
  let warnings: string[];

  beforeEach(async () => {
    runner = createRunner();
    app = await createFixtureApp(runner);
    warnings = [];
    runner.logger.subscribe((entry) => entry.level === 'warn' && warnings.push(entry.message));
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
      expect(changed.sort()).toEqual(['/src/app.module.ts', '/src/main.ts']);
    });

    it('is idempotent: a second run changes nothing', async () => {
      const before = snapshot(tree);

      expect(snapshot(await run({ sourceRoot: 'src' }, tree))).toEqual(before);
      expect(warnings).toEqual([]);
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
