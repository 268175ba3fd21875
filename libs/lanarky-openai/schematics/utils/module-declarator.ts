import type { Path } from '@angular-devkit/core';
import { ModuleDeclarator, ModuleImportDeclarator, PathSolver } from '@nestjs/schematics';

/** Nest's path solver, with `.js` after each relative path it computes (an ES module app's import). */
class JsExtensionPathSolver extends PathSolver {
  override relative(from: Path, to: Path): string {
    return `${super.relative(from, to)}.js`;
  }
}

/**
 * Nest's `ModuleDeclarator`, whose added import ends in `.js` when `esm` is set. The path solver
 * (a constructor argument in both majors) adds it, not 12's `isEsm` option, which 11 ignores.
 *
 * @example moduleDeclarator(isEsmProject(tree)).declare(content, { metadata: 'imports', ... });
 */
export function moduleDeclarator(esm: boolean): ModuleDeclarator {
  return esm ? new ModuleDeclarator(new ModuleImportDeclarator(new JsExtensionPathSolver())) : new ModuleDeclarator();
}
