import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where installed Node versions are kept between runs (`LANARKY_NODE_CACHE` overrides). */
const CACHE = process.env.LANARKY_NODE_CACHE ?? join(homedir(), '.cache', 'lanarky-node');

/** The major version of the Node running this process. */
export const CURRENT_MAJOR = process.versions.node.split('.')[0];

/**
 * The folder holding a `node` of the given major, to put first on PATH: this process's own when it
 * is that major, else the npm registry's `node` package (a prebuilt binary), installed once.
 *
 * @example
 * spawn('npm', ['test'], { env: { ...process.env, PATH: `${nodeBinDir('24')}:${process.env.PATH}` } });
 */
export function nodeBinDir(major: string): string {
  if (major === CURRENT_MAJOR) {
    return dirname(process.execPath);
  }
  const prefix = join(CACHE, major);
  const bin = join(prefix, 'node_modules', '.bin');
  if (!existsSync(join(bin, 'node'))) {
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `node@${major}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return bin;
}

/** PATH with the given major's `node` first (npm, a node script, then runs under it too). */
export function pathWithNode(major: string, path = process.env.PATH ?? ''): string {
  return `${nodeBinDir(major)}:${path}`;
}

// `ts-node test/support/node-versions.ts 24` prints the folder, for shell scripts (.ci/run).
if (require.main === module) {
  process.stdout.write(`${nodeBinDir(process.argv[2] ?? CURRENT_MAJOR)}\n`);
}
