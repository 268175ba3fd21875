import { join } from 'node:path';
import { SchematicTestRunner, type UnitTestTree } from '@angular-devkit/schematics/testing';

/** The collection's sources: specs run the TypeScript factories and templates, not a build. */
export const COLLECTION_PATH = join(__dirname, '..', 'collection.json');

/** A runner for the collection, as `@lanarky/openai`. */
export function createRunner(): SchematicTestRunner {
  return new SchematicTestRunner('@lanarky/openai', COLLECTION_PATH);
}

/** A fresh app from Nest's own `application` schematic (what `nest new` writes), at the tree's root. */
export function createFixtureApp(runner: SchematicTestRunner): Promise<UnitTestTree> {
  return runner.runExternalSchematic('@nestjs/schematics', 'application', {
    name: 'fixture',
    directory: '.',
    packageManager: 'npm',
  });
}

/**
 * The fixture app as Nest 12's `nest new` makes an ES module app: `"type": "module"` and Nest 12
 * in package.json, and relative imports ending in `.js` (the installed `@nestjs/schematics` 11
 * cannot write that template).
 */
export async function createEsmFixtureApp(runner: SchematicTestRunner): Promise<UnitTestTree> {
  const tree = await createFixtureApp(runner);
  const packageJson = JSON.parse(tree.readContent('/package.json'));
  packageJson.type = 'module';
  for (const name of Object.keys(packageJson.dependencies).filter((name) => name.startsWith('@nestjs/'))) {
    packageJson.dependencies[name] = '^12.0.1';
  }
  tree.overwrite('/package.json', `${JSON.stringify(packageJson, null, 2)}\n`);
  for (const path of tree.files.filter((file) => file.endsWith('.ts'))) {
    tree.overwrite(path, tree.readContent(path).replace(/(from '\.{1,2}\/[^']+)'/g, "$1.js'"));
  }
  return tree;
}

/** The relative specifiers (`./x`, `../x`) a TypeScript file imports from. */
export function relativeImports(content: string): string[] {
  return [...content.matchAll(/from '(\.{1,2}\/[^']*)'/g)].map((match) => match[1]);
}

/** Every file of a tree with its content, to compare a tree before and after a run. */
export function snapshot(tree: UnitTestTree): Record<string, string> {
  return Object.fromEntries(tree.files.map((path) => [path, tree.readContent(path)]));
}
