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

/** Every file of a tree with its content, to compare a tree before and after a run. */
export function snapshot(tree: UnitTestTree): Record<string, string> {
  return Object.fromEntries(tree.files.map((path) => [path, tree.readContent(path)]));
}
