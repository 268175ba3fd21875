import type { Tree } from '@angular-devkit/schematics';

/** The app's package.json, at the workspace root (where `nest new` puts it, monorepo or not). */
export const PACKAGE_JSON = '/package.json';

/** The fields of a package.json the schematics read or write. */
export interface PackageJson {
  type?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/** Reads the workspace's package.json; `undefined` when there is none or it is not valid JSON. */
export function readPackageJson(tree: Tree): PackageJson | undefined {
  const content = tree.exists(PACKAGE_JSON) ? tree.readText(PACKAGE_JSON) : undefined;
  if (content === undefined) {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(content);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as PackageJson) : undefined;
  } catch {
    return undefined;
  }
}

/** The version range of `name` in the package's dependencies or devDependencies, if it has one. */
export function dependencyRange(packageJson: PackageJson, name: string): string | undefined {
  return packageJson.dependencies?.[name] ?? packageJson.devDependencies?.[name];
}

/**
 * Adds `packages` (name → range) to the package.json's `dependencies`, sorted by name as npm
 * keeps them, in the file's own indentation and with its final newline, if it had one.
 *
 * @example addDependencies(tree, { '@nestjs/websockets': '^11.1.9' });
 */
export function addDependencies(tree: Tree, packages: Record<string, string>): void {
  const content = tree.readText(PACKAGE_JSON);
  const packageJson = JSON.parse(content) as PackageJson;
  const merged = { ...packageJson.dependencies, ...packages };
  packageJson.dependencies = Object.fromEntries(Object.keys(merged).sort().map((name) => [name, merged[name]]));
  const indent = /^[ \t]+(?=")/m.exec(content)?.[0] ?? 2;
  const newline = content.endsWith('\n') ? '\n' : '';
  tree.overwrite(PACKAGE_JSON, JSON.stringify(packageJson, null, indent) + newline);
}
