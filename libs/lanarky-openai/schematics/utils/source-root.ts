import type { Rule, Tree } from '@angular-devkit/schematics';
import { SchematicsException } from '@angular-devkit/schematics';
import { DEFAULT_PATH_NAME } from '@nestjs/schematics';
import { UNKNOWN_PROJECT } from '../schematics.messages';

/** The options every schematic of the collection shares with Nest's own. */
export interface SourceRootOptions {
  /** The project's source root; the Nest CLI passes it, resolved from `--project`. */
  sourceRoot?: string;
  /** A project of nest-cli.json, for callers that do not pass `sourceRoot` (the `schematics` CLI). */
  project?: string;
}

interface NestCliConfiguration {
  sourceRoot?: string;
  projects?: Record<string, { sourceRoot?: string }>;
}

/** Reads the workspace's nest-cli.json (or nest.json), if any. */
function readNestCli(tree: Tree): NestCliConfiguration | undefined {
  for (const file of ['nest-cli.json', 'nest.json']) {
    const content = tree.read(file);
    if (content) {
      return JSON.parse(content.toString('utf-8')) as NestCliConfiguration;
    }
  }
  return undefined;
}

/**
 * Fills in `sourceRoot` the way the Nest CLI does when a caller did not: from the project's
 * entry in nest-cli.json, else its top-level `sourceRoot`, else `src`.
 */
export function resolveSourceRoot(options: SourceRootOptions): Rule {
  return (tree) => {
    if (options.sourceRoot !== undefined) {
      return;
    }
    const config = readNestCli(tree);
    if (options.project !== undefined) {
      const project = config?.projects?.[options.project];
      if (!project) {
        throw new SchematicsException(UNKNOWN_PROJECT(options.project));
      }
      options.sourceRoot = project.sourceRoot ?? config?.sourceRoot;
    } else {
      options.sourceRoot = config?.sourceRoot;
    }
    options.sourceRoot ??= DEFAULT_PATH_NAME;
  };
}
