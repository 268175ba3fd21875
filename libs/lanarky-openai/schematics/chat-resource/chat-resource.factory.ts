import { join, strings, type Path } from '@angular-devkit/core';
import {
  MergeConflictException,
  SchematicsException,
  apply,
  applyTemplates,
  chain,
  filter,
  forEach,
  mergeWith,
  move,
  noop,
  url,
  type Rule,
} from '@angular-devkit/schematics';
import {
  ModuleFinder,
  NameParser,
  formatFiles,
  mergeSourceRoot,
  normalizeToKebabOrSnakeCase,
} from '@nestjs/schematics';
import { NAME_REQUIRED, TYPESCRIPT_ONLY } from '../schematics.messages';
import { isEsmProject, relativeImportExtension } from '../utils/is-esm-project';
import { moduleDeclarator } from '../utils/module-declarator';
import { nestRule } from '../utils/nest-rule';
import { resolveSourceRoot } from '../utils/source-root';
import type { ChatResourceOptions, ChatTransport } from './chat-resource.options';
import { toStringLiteral } from './string-literal';

const DEFAULT_SYSTEM = 'You are a helpful assistant.';

/**
 * `nest g -c @lanarky/openai chat-resource <name>`: a feature module serving one chat resource
 * over HTTP (a `@ChatResource()` controller) and websockets (a gateway), imported into the
 * nearest module.
 */
export function main(options: ChatResourceOptions): Rule {
  const target = transform(options);
  return chain([
    resolveSourceRoot(target),
    nestRule(mergeSourceRoot(target)),
    findModule(target),
    // Before any edit: a file that exists already fails the run here, with Nest's merge conflict.
    generate(target),
    addDeclarationToModule(target),
    target.format === true ? nestRule(formatFiles()) : noop(),
  ]);
}

/** Normalizes names and paths as Nest's own `resource` schematic does. */
function transform(options: ChatResourceOptions): ChatResourceOptions {
  if (!options.name) {
    throw new SchematicsException(NAME_REQUIRED);
  }
  if (options.language !== undefined && options.language !== 'ts') {
    throw new SchematicsException(TYPESCRIPT_ONLY);
  }
  const location = new NameParser().parse({ name: options.name, path: options.path as Path | undefined });
  const name = normalizeToKebabOrSnakeCase(location.name);
  const path = normalizeToKebabOrSnakeCase(location.path);
  return {
    ...options,
    name,
    path: options.flat ? path : join(path as Path, name),
    language: 'ts',
    specFileSuffix: normalizeToKebabOrSnakeCase(options.specFileSuffix || 'spec'),
    transport: options.transport ?? options.type ?? 'both',
    system: options.system ?? DEFAULT_SYSTEM,
  };
}

/** Which of the templates the transport needs. */
function servesFile(transport: ChatTransport | undefined, path: string): boolean {
  if (path.includes('.controller.')) {
    return transport !== 'ws';
  }
  if (path.includes('.gateway.')) {
    return transport !== 'sse';
  }
  return true;
}

/** The module the new one is imported into: the nearest one up from where it goes. */
function findModule(options: ChatResourceOptions): Rule {
  return (tree) => {
    options.module = options.skipImport ? null : new ModuleFinder(tree).find({ name: options.name, path: options.path as Path });
  };
}

/**
 * Creates the files, their relative imports ending in `.js` in an ES module app. One that exists
 * already is a conflict even when identical (where Nest's merge would let it pass), so a second
 * run fails instead of registering the module twice.
 */
function generate(options: ChatResourceOptions): Rule {
  return (tree) =>
    mergeWith(
      apply(url('./files'), [
        filter((path) => servesFile(options.transport, path)),
        options.spec ? noop() : filter((path) => !path.includes('.__specFileSuffix__.')),
        applyTemplates({
          ...strings,
          ...options,
          model: options.model ?? '',
          controller: options.transport !== 'ws',
          gateway: options.transport !== 'sse',
          jsExtension: relativeImportExtension(tree),
          literal: toStringLiteral,
        }),
        move(options.path as string),
        forEach((entry) => {
          if (tree.exists(entry.path)) {
            throw new MergeConflictException(entry.path);
          }
          return entry;
        }),
      ]),
    );
}

/**
 * Imports the new module into the one `findModule` found, unless it is there already; in an ES
 * module app, from `./<name>/<name>.module.js`.
 */
function addDeclarationToModule(options: ChatResourceOptions): Rule {
  return (tree) => {
    if (!options.module) {
      return;
    }
    const content = tree.readText(options.module);
    const symbol = `${strings.classify(options.name)}Module`;
    if (new RegExp(`\\bimport\\s*{[^}]*\\b${symbol}\\b[^}]*}`).test(content)) {
      return;
    }
    const declared = moduleDeclarator(isEsmProject(tree)).declare(content, {
      metadata: 'imports',
      type: 'module',
      name: options.name,
      path: options.path as Path,
      module: options.module,
    });
    tree.overwrite(options.module, declared);
  };
}
