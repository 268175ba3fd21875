import { join, normalize, type Path } from '@angular-devkit/core';
import { SchematicsException, chain, type Rule, type Tree } from '@angular-devkit/schematics';
import { MetadataManager } from '@nestjs/schematics';
import { MAIN_NOT_FOUND, MODULE_NOT_FOUND, NO_MODULE_DECORATOR, NO_NEST_FACTORY, OTHER_WS_ADAPTER } from '../schematics.messages';
import { addNamedImports, findNestFactoryCreate, insertAfterStatement, parse } from '../utils/source-edits';
import { resolveSourceRoot } from '../utils/source-root';
import type { NestAddOptions } from './nest-add.options';
import { addWebsocketPeers } from './websocket-peers';

const PACKAGE = '@lanarky/openai';
const ROOT_IMPORT = 'LanarkyOpenAIModule.forRoot({ isGlobal: true })';
const CONFIGURED = /\bLanarkyOpenAIModule\s*\.\s*forRoot(?:Async)?\s*\(/;
const BODY_PARSER = /\buseChatBodyParser\s*\(/;
const LANARKY_ADAPTER = /\bnew\s+LanarkyWsAdapter\s*\(/;
const ANY_ADAPTER = /\.useWebSocketAdapter\s*\(/;

/**
 * `nest add @lanarky/openai`: imports `LanarkyOpenAIModule.forRoot({ isGlobal: true })` into the
 * app module, installs the chat body parser and websocket adapter in main.ts, and adds the
 * websocket packages the app lacks to its dependencies. Whatever is there already stays as it
 * is, so a second run changes nothing.
 */
export function main(options: NestAddOptions): Rule {
  const target: NestAddOptions = { ...options };
  return chain([resolveSourceRoot(target), addRootModule(target), setUpMain(target), addWebsocketPeers(target)]);
}

function inSourceRoot(options: NestAddOptions, file: string): Path {
  return join(normalize(options.sourceRoot ?? ''), file);
}

/** Adds the root configuration to the app module's imports, with its import statement. */
function addRootModule(options: NestAddOptions): Rule {
  return (tree) => {
    const path = inSourceRoot(options, options.module ?? 'app.module.ts');
    const content = tree.exists(path) ? tree.readText(path) : undefined;
    if (content === undefined) {
      throw new SchematicsException(MODULE_NOT_FOUND(path));
    }
    if (CONFIGURED.test(content)) {
      return;
    }
    const inserted = new MetadataManager(content).insert('imports', ROOT_IMPORT);
    if (inserted === undefined) {
      throw new SchematicsException(NO_MODULE_DECORATOR(path));
    }
    tree.overwrite(path, addNamedImports(path, inserted, PACKAGE, ['LanarkyOpenAIModule']));
  };
}

/** The app's own sources (not specs), where main.ts may have put its setup. */
function sources(tree: Tree, options: NestAddOptions): string[] {
  const texts: string[] = [];
  tree.getDir(normalize(options.sourceRoot ?? '')).visit((path) => {
    if (path.endsWith('.ts') && !/\.(spec|test|e2e-spec)\.ts$/.test(path)) {
      texts.push(tree.readText(path));
    }
  });
  return texts;
}

/** Installs the body parser and websocket adapter after `NestFactory.create`, unless the app has them. */
function setUpMain(options: NestAddOptions): Rule {
  return (tree, context) => {
    const path = inSourceRoot(options, options.main ?? 'main.ts');
    if (!tree.exists(path)) {
      context.logger.warn(MAIN_NOT_FOUND(path));
      return;
    }
    const content = tree.readText(path);
    const create = findNestFactoryCreate(parse(path, content));
    const app = create?.app ?? 'app';
    const texts = sources(tree, options);
    const lines: string[] = [];
    const symbols: string[] = [];
    if (!texts.some((text) => BODY_PARSER.test(text))) {
      lines.push(`useChatBodyParser(${app});`);
      symbols.push('useChatBodyParser');
    }
    if (!texts.some((text) => LANARKY_ADAPTER.test(text))) {
      if (ANY_ADAPTER.test(content)) {
        context.logger.warn(OTHER_WS_ADAPTER(path));
      } else {
        lines.push(`${app}.useWebSocketAdapter(new LanarkyWsAdapter(${app}));`);
        symbols.push('LanarkyWsAdapter');
      }
    }
    if (lines.length === 0) {
      return;
    }
    if (!create) {
      context.logger.warn(NO_NEST_FACTORY(path));
      return;
    }
    const edited = insertAfterStatement(content, create.statement, lines);
    tree.overwrite(path, addNamedImports(path, edited, PACKAGE, symbols));
  };
}
