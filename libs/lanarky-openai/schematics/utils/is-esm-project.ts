import type { Tree } from '@angular-devkit/schematics';
import { readPackageJson } from './package-json';

/**
 * Whether the app is an ES module app (`"type": "module"` in its package.json, as Nest 12's
 * `nest new` makes it), where Node resolves relative imports only with their `.js` extension.
 */
export function isEsmProject(tree: Tree): boolean {
  return readPackageJson(tree)?.type === 'module';
}

/** What ends a relative import in the app: `.js` in an ES module app, nothing in CommonJS. */
export function relativeImportExtension(tree: Tree): '.js' | '' {
  return isEsmProject(tree) ? '.js' : '';
}
