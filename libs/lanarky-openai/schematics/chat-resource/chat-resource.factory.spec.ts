import type { SchematicTestRunner, UnitTestTree } from '@angular-devkit/schematics/testing';
import { NAME_REQUIRED, TYPESCRIPT_ONLY, UNKNOWN_PROJECT } from '../schematics.messages';
import { createEsmFixtureApp, createFixtureApp, createRunner, relativeImports, snapshot } from '../testing/fixture-app';
import type { ChatResourceOptions } from './chat-resource.options';

describe('chat-resource schematic', () => {
  let runner: SchematicTestRunner;
  let app: UnitTestTree;
  let appFiles: string[];
  let appModule: string;

  beforeEach(async () => {
    runner = createRunner();
    app = await createFixtureApp(runner);
    appFiles = [...app.files];
    appModule = app.readContent('/src/app.module.ts');
  });

  const run = (options: ChatResourceOptions, tree: UnitTestTree = app) => runner.runSchematic('chat-resource', options, tree);
  const created = (tree: UnitTestTree) => tree.files.filter((path) => !appFiles.includes(path)).sort();

  describe('by default', () => {
    let tree: UnitTestTree;
    beforeEach(async () => {
      tree = await run({ name: 'support' });
    });

    it('creates a feature folder with a module, a controller, a gateway and their specs', () => {
      expect(created(tree)).toEqual([
        '/src/support/support.controller.spec.ts',
        '/src/support/support.controller.ts',
        '/src/support/support.gateway.spec.ts',
        '/src/support/support.gateway.ts',
        '/src/support/support.module.ts',
      ]);
    });

    it('writes a controller whose @ChatResource method is the factory', () => {
      expect(tree.readContent('/src/support/support.controller.ts')).toBe(`import { Controller, Query } from '@nestjs/common';
import { ChatCompletionResource, ChatResource, ParseLenientBoolPipe } from '@lanarky/openai';

/** The support chat over HTTP: \`POST /support\` streams the reply as server-sent events. */
@Controller()
export class SupportController {
  /**
   * The factory of each request; \`?stream=false\` sends the reply whole, in one event (\`stream\`
   * reads as Python Lanarky's does: true/false, 1/0, yes/no, on/off, any case).
   */
  @ChatResource('support')
  support(
    @Query('stream', new ParseLenientBoolPipe({ default: true })) stream: boolean,
  ): ChatCompletionResource {
    return new ChatCompletionResource({
      stream,
      system: 'You are a helpful assistant.',
    });
  }
}
`);
    });

    it('writes a gateway serving the same resource over a websocket at /<name>', () => {
      const gateway = tree.readContent('/src/support/support.gateway.ts');

      expect(gateway).toContain(`@WebSocketGateway({ path: '/support' })\nexport class SupportGateway {`);
      expect(gateway).toContain('  @ChatResource()\n  support(): ChatCompletionResource {');
      expect(gateway).toContain(`stream: true,\n      system: 'You are a helpful assistant.',\n    });`);
    });

    it('writes a module that declares both and imports nothing', () => {
      expect(tree.readContent('/src/support/support.module.ts')).toBe(`import { Module } from '@nestjs/common';
import { SupportController } from './support.controller';
import { SupportGateway } from './support.gateway';

/** The support chat; the OpenAI client comes from the app's global LanarkyOpenAIModule. */
@Module({
  controllers: [SupportController],
  providers: [SupportGateway],
})
export class SupportModule {}
`);
    });

    it('imports the new module into the app module', () => {
      const appModule = tree.readContent('/src/app.module.ts');

      expect(appModule).toContain(`import { SupportModule } from './support/support.module';`);
      expect(appModule).toContain('imports: [SupportModule]');
    });

    it('writes specs that build the controller and gateway in a testing module and check their resource', () => {
      const spec = tree.readContent('/src/support/support.controller.spec.ts');

      expect(spec).toContain(`imports: [LanarkyOpenAIModule.forRoot({ apiKey: 'test' })],\n      controllers: [SupportController],`);
      expect(spec).toContain('const resource = controller.support(true);');
      expect(spec).toContain(`expect(resource.system).toBe('You are a helpful assistant.');`);
      expect(spec).not.toContain('resource.model');
      expect(tree.readContent('/src/support/support.gateway.spec.ts')).toContain('const resource = gateway.support();');
    });
  });

  describe('names, as Nest names them', () => {
    it.each(['support', 'CustomerSupport', 'customer-support', 'customer_support', 'admin/helpDesk'])(
      '%s: the same folder, file and class names as `nest g module`',
      async (name) => {
        const fresh = await createFixtureApp(runner);
        const nest = await runner.runExternalSchematic('@nestjs/schematics', 'module', { name, skipImport: true }, fresh);
        const nestModule = nest.files.find((path) => path.endsWith('.module.ts') && path !== '/src/app.module.ts')!;
        const nestClass = /export class (\w+)/.exec(nest.readContent(nestModule))![1];

        const tree = await run({ name });

        expect(tree.exists(nestModule)).toBe(true);
        expect(tree.readContent(nestModule)).toContain(`export class ${nestClass} {}`);
      },
    );

    it('classifies the classes, camelizes the method and dasherizes the route and socket path', async () => {
      const tree = await run({ name: 'CustomerSupport' });
      const controller = tree.readContent('/src/customer-support/customer-support.controller.ts');
      const gateway = tree.readContent('/src/customer-support/customer-support.gateway.ts');

      expect(controller).toContain(`export class CustomerSupportController {`);
      expect(controller).toContain(`@ChatResource('customer-support')\n  customerSupport(`);
      expect(gateway).toContain(`@WebSocketGateway({ path: '/customer-support' })\nexport class CustomerSupportGateway {`);
      expect(tree.readContent('/src/app.module.ts')).toContain(
        `import { CustomerSupportModule } from './customer-support/customer-support.module';`,
      );
    });
  });

  describe('--transport', () => {
    it('sse: the controller only', async () => {
      const tree = await run({ name: 'support', transport: 'sse' });

      expect(created(tree)).toEqual([
        '/src/support/support.controller.spec.ts',
        '/src/support/support.controller.ts',
        '/src/support/support.module.ts',
      ]);
      expect(tree.readContent('/src/support/support.module.ts')).toContain(
        `@Module({\n  controllers: [SupportController],\n})`,
      );
    });

    it('ws: the gateway only', async () => {
      const tree = await run({ name: 'support', transport: 'ws' });

      expect(created(tree)).toEqual([
        '/src/support/support.gateway.spec.ts',
        '/src/support/support.gateway.ts',
        '/src/support/support.module.ts',
      ]);
      const module = tree.readContent('/src/support/support.module.ts');
      expect(module).toContain(`@Module({\n  providers: [SupportGateway],\n})`);
      expect(module).not.toContain('Controller');
    });

    it('takes the Nest CLI\'s --type when --transport is not given, and --transport over it', async () => {
      expect(created(await run({ name: 'support', type: 'ws' }))).not.toContain('/src/support/support.controller.ts');
      const tree = await run({ name: 'support', type: 'ws', transport: 'sse' }, await createFixtureApp(runner));
      expect(created(tree)).not.toContain('/src/support/support.gateway.ts');
    });

    it('rejects another transport', async () => {
      await expect(run({ name: 'support', transport: 'grpc' as never })).rejects.toThrow(/transport/);
    });
  });

  describe('--system and --model', () => {
    const system = `You're "Sam", the support bot.\nBe brief \\ kind.`;
    let tree: UnitTestTree;
    beforeEach(async () => {
      tree = await run({ name: 'support', system, model: 'gpt-4o' });
    });

    it('puts the prompt, escaped, and the model in the controller and gateway', () => {
      const literal = `'You\\'re "Sam", the support bot.\\nBe brief \\\\ kind.'`;
      for (const file of ['controller', 'gateway']) {
        const content = tree.readContent(`/src/support/support.${file}.ts`);
        expect(content).toContain(`system: ${literal},\n      model: 'gpt-4o',\n    });`);
      }
    });

    it('and the specs expect them', () => {
      const spec = tree.readContent('/src/support/support.controller.spec.ts');

      expect(spec).toContain(`expect(resource.model).toBe('gpt-4o');`);
      expect(spec).toContain(`expect(resource.system).toBe('You\\'re "Sam"`);
    });

    it('leaves the model out when none is given: the module\'s defaultModel applies', async () => {
      expect((await run({ name: 'other' })).readContent('/src/other/other.controller.ts')).not.toContain('model:');
    });
  });

  describe('the options the Nest CLI passes', () => {
    it('path: the folder goes under it, and the nearest module up from it imports the new one', async () => {
      app.create('/src/admin/admin.module.ts', `import { Module } from '@nestjs/common';\n\n@Module({})\nexport class AdminModule {}\n`);

      const tree = await run({ name: 'support', path: 'admin' });

      expect(tree.exists('/src/admin/support/support.controller.ts')).toBe(true);
      expect(tree.readContent('/src/admin/admin.module.ts')).toContain(`import { SupportModule } from './support/support.module';`);
      expect(tree.readContent('/src/admin/admin.module.ts')).toContain('imports: [SupportModule]');
      expect(tree.readContent('/src/app.module.ts')).not.toContain('SupportModule');
    });

    it('a name with a path works as --path does', async () => {
      const tree = await run({ name: 'billing/support' });

      expect(tree.exists('/src/billing/support/support.module.ts')).toBe(true);
      expect(tree.readContent('/src/app.module.ts')).toContain(`import { SupportModule } from './billing/support/support.module';`);
    });

    it('flat: no folder of its own', async () => {
      const tree = await run({ name: 'support', flat: true });

      expect(created(tree)).toEqual([
        '/src/support.controller.spec.ts',
        '/src/support.controller.ts',
        '/src/support.gateway.spec.ts',
        '/src/support.gateway.ts',
        '/src/support.module.ts',
      ]);
      expect(tree.readContent('/src/app.module.ts')).toContain(`import { SupportModule } from './support.module';`);
    });

    it('spec: false leaves the specs out', async () => {
      expect(created(await run({ name: 'support', spec: false }))).toEqual([
        '/src/support/support.controller.ts',
        '/src/support/support.gateway.ts',
        '/src/support/support.module.ts',
      ]);
    });

    it('specFileSuffix names the specs', async () => {
      const tree = await run({ name: 'support', specFileSuffix: 'test' });

      expect(created(tree)).toContain('/src/support/support.controller.test.ts');
      expect(created(tree)).toContain('/src/support/support.gateway.test.ts');
    });

    it('skipImport leaves the app module alone', async () => {
      const tree = await run({ name: 'support', skipImport: true });

      expect(tree.exists('/src/support/support.module.ts')).toBe(true);
      expect(tree.readContent('/src/app.module.ts')).toBe(appModule);
    });

    it('language: TypeScript only', async () => {
      await expect(run({ name: 'support', language: 'js' })).rejects.toThrow(TYPESCRIPT_ONLY);
      expect(created(await run({ name: 'support', language: 'ts' }))).toHaveLength(5);
    });

    it('sourceRoot: the files go under it and its app module imports the new one', async () => {
      app.create('/apps/api/src/app.module.ts', app.readContent('/src/app.module.ts'));

      const tree = await run({ name: 'support', sourceRoot: 'apps/api/src', project: 'api' });

      expect(tree.exists('/apps/api/src/support/support.controller.ts')).toBe(true);
      expect(tree.readContent('/apps/api/src/app.module.ts')).toContain('imports: [SupportModule]');
      expect(tree.readContent('/src/app.module.ts')).not.toContain('SupportModule');
    });

    it('project alone (the `schematics` CLI passes no sourceRoot): the source root of nest-cli.json', async () => {
      app.create('/apps/api/src/app.module.ts', app.readContent('/src/app.module.ts'));
      app.overwrite(
        '/nest-cli.json',
        JSON.stringify({ sourceRoot: 'src', monorepo: true, projects: { api: { type: 'application', sourceRoot: 'apps/api/src' } } }),
      );

      expect((await run({ name: 'support', project: 'api' })).exists('/apps/api/src/support/support.module.ts')).toBe(true);
      await expect(run({ name: 'support', project: 'nope' })).rejects.toThrow(UNKNOWN_PROJECT('nope'));
    });

    it('format: passes the generated files through Prettier when it is installed', async () => {
      const format = jest.fn(async (source: string) => `// formatted\n${source}`);
      jest.doMock('prettier', () => ({ format, resolveConfig: async () => null }), { virtual: true });
      try {
        const formatted = await run({ name: 'support', format: true });
        const plain = await run({ name: 'support' }, await createFixtureApp(runner));

        expect(formatted.readContent('/src/support/support.controller.ts')).toBe(
          `// formatted\n${plain.readContent('/src/support/support.controller.ts')}`,
        );
        expect(format).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ filepath: '/src/support/support.module.ts' }));
      } finally {
        jest.dontMock('prettier');
      }
    });
  });

  describe('relative imports, by the app\'s module system', () => {
    /** The relative specifiers of the generated files and of the app module. */
    const specifiers = (tree: UnitTestTree) =>
      [...created(tree), '/src/app.module.ts'].flatMap((path) => relativeImports(tree.readContent(path)));

    it('CommonJS (no "type" in package.json): without an extension, as before', async () => {
      const tree = await run({ name: 'support' });

      expect(specifiers(tree)).toEqual(expect.arrayContaining(['./support.controller', './support.gateway', './support/support.module']));
      expect(specifiers(tree).filter((specifier) => specifier.endsWith('.js'))).toEqual([]);
    });

    describe('an ES module app ("type": "module", as Nest 12\'s `nest new` makes it)', () => {
      let esm: UnitTestTree;
      beforeEach(async () => {
        esm = await createEsmFixtureApp(runner);
        appFiles = [...esm.files];
      });

      it('writes every relative import of the generated files with .js', async () => {
        const tree = await run({ name: 'support' }, esm);

        expect(tree.readContent('/src/support/support.module.ts')).toContain(
          `import { SupportController } from './support.controller.js';\nimport { SupportGateway } from './support.gateway.js';\n`,
        );
        expect(tree.readContent('/src/support/support.controller.spec.ts')).toContain(
          `import { SupportController } from './support.controller.js';`,
        );
        expect(tree.readContent('/src/support/support.gateway.spec.ts')).toContain(`import { SupportGateway } from './support.gateway.js';`);
        expect(specifiers(tree).filter((specifier) => !specifier.endsWith('.js'))).toEqual([]);
      });

      it('imports the new module into the app module from ./support/support.module.js', async () => {
        const appModule = (await run({ name: 'support' }, esm)).readContent('/src/app.module.ts');

        expect(appModule).toContain(`import { AppService } from './app.service.js';\nimport { SupportModule } from './support/support.module.js';\n`);
        expect(appModule).toContain('imports: [SupportModule]');
      });

      it('from a nested module and a --path too', async () => {
        esm.create('/src/admin/admin.module.ts', `import { Module } from '@nestjs/common';\n\n@Module({})\nexport class AdminModule {}\n`);

        const tree = await run({ name: 'billing/support', path: 'admin' }, esm);

        expect(tree.readContent('/src/admin/admin.module.ts')).toContain(
          `import { SupportModule } from './billing/support/support.module.js';`,
        );
      });

      it('one transport: the module imports only its class, with .js', async () => {
        const tree = await run({ name: 'support', transport: 'ws', spec: false }, esm);

        expect(relativeImports(tree.readContent('/src/support/support.module.ts'))).toEqual(['./support.gateway.js']);
      });
    });
  });

  describe('over existing files', () => {
    it('a second run fails with Nest\'s merge conflict and changes nothing', async () => {
      const tree = await run({ name: 'support' });
      const before = snapshot(tree);

      await expect(run({ name: 'support' }, tree)).rejects.toThrow(/^A merge conflicted on path "\/src\/support\/support\.[\w.]+\.ts"\.$/);
      expect(snapshot(tree)).toEqual(before);
    });

    it('a file of the same name written by hand is never overwritten', async () => {
      app.create('/src/support/support.gateway.ts', '// mine\n');
      const before = snapshot(app);

      await expect(run({ name: 'support' })).rejects.toThrow('A merge conflicted on path "/src/support/support.gateway.ts".');
      expect(snapshot(app)).toEqual(before);
    });
  });

  it('requires a name', async () => {
    await expect(run({ name: '' })).rejects.toThrow(NAME_REQUIRED);
  });

  it('is in the collection as chat-resource, alias cr', async () => {
    const tree = await runner.runSchematic('cr', { name: 'support', transport: 'sse' }, app);

    expect(tree.exists('/src/support/support.controller.ts')).toBe(true);
  });
});
