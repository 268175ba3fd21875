import type { Rule } from '@angular-devkit/schematics';
import { NodePackageInstallTask } from '@angular-devkit/schematics/tasks';
import { NO_PACKAGE_JSON, UNKNOWN_NEST_MAJOR, WEBSOCKET_PEERS_ADDED } from '../schematics.messages';
import { addDependencies, dependencyRange, readPackageJson, type PackageJson } from '../utils/package-json';

/** The optional peers the chat gateways need, which npm does not install by itself. */
export const WEBSOCKET_PEERS = ['@nestjs/websockets', '@nestjs/platform-ws'];

/** Their range for each Nest major the library runs on: 11 from 11.1.9, the library's floor. */
export const WEBSOCKET_PEER_RANGES: Readonly<Record<string, string>> = { 11: '^11.1.9', 12: '^12.0.0' };

/** The app's Nest version range: its `@nestjs/core`'s, else its `@nestjs/common`'s. */
function nestRange(packageJson: PackageJson): string | undefined {
  return dependencyRange(packageJson, '@nestjs/core') ?? dependencyRange(packageJson, '@nestjs/common');
}

/**
 * The major a range starts from: `11` for `^11.0.1`, `11.2.10`, `~11.1.0`, `11.x` or `>=11 <13`;
 * `undefined` for one that names no version (`latest`, `*`, a tag or URL).
 */
export function majorOf(range: string): string | undefined {
  return /^\s*(?:[~^]|>=?|=)?\s*v?(\d+)(?=[.\s]|$)/.exec(range)?.[1];
}

/**
 * Adds `@nestjs/websockets` and `@nestjs/platform-ws`, those the app lacks, to its dependencies
 * at its own Nest major, and schedules the install (unless `skipInstall`). npm would pick their
 * newest major for a Nest 11 app and fail to resolve, so the app's `@nestjs/core` decides.
 */
export function addWebsocketPeers(options: { skipInstall?: boolean }): Rule {
  return (tree, context) => {
    const packageJson = readPackageJson(tree);
    if (!packageJson) {
      context.logger.warn(NO_PACKAGE_JSON(WEBSOCKET_PEERS));
      return;
    }
    const missing = WEBSOCKET_PEERS.filter((name) => dependencyRange(packageJson, name) === undefined);
    if (missing.length === 0) {
      return;
    }
    const nest = nestRange(packageJson);
    const major = nest === undefined ? undefined : majorOf(nest);
    const range = major === undefined ? undefined : WEBSOCKET_PEER_RANGES[major];
    if (range === undefined) {
      context.logger.warn(UNKNOWN_NEST_MAJOR(missing, nest));
      return;
    }
    addDependencies(tree, Object.fromEntries(missing.map((name) => [name, range])));
    if (!options.skipInstall) {
      context.addTask(new NodePackageInstallTask());
    }
    context.logger.info(WEBSOCKET_PEERS_ADDED(missing.map((name) => `${name}@${range}`), options.skipInstall === true));
  };
}
