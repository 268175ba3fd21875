/** Every text the schematics show, so specs assert the same words. */

export const NAME_REQUIRED = 'Option (name) is required.';
export const TYPESCRIPT_ONLY = 'The "chat-resource" schematic supports TypeScript only (language "ts").';
export const UNKNOWN_PROJECT = (project: string) => `No project "${project}" in nest-cli.json.`;
export const MODULE_NOT_FOUND = (path: string) =>
  `Could not find ${path}: pass --module with the path of the app module, relative to the source root.`;
export const NO_MODULE_DECORATOR = (path: string) => `${path} has no @Module({ ... }) to import LanarkyOpenAIModule into.`;
export const MAIN_NOT_FOUND = (path: string) =>
  `No ${path}: add useChatBodyParser(app) and app.useWebSocketAdapter(new LanarkyWsAdapter(app)) to your bootstrap.`;
export const NO_NEST_FACTORY = (path: string) =>
  `${path} has no "const app = await NestFactory.create(...)": add useChatBodyParser(app) and ` +
  'app.useWebSocketAdapter(new LanarkyWsAdapter(app)) after it yourself.';
export const OTHER_WS_ADAPTER = (path: string) =>
  `${path} already installs a websocket adapter: chat gateways need new LanarkyWsAdapter(app) instead.`;
export const WEBSOCKET_PEERS_ADDED = (packages: string[], skipInstall: boolean) =>
  `Added ${packages.join(' and ')} to package.json (chat gateways need them); ` +
  (skipInstall ? 'run npm install (or your package manager\'s install) to install them.' : 'installing them.');
export const UNKNOWN_NEST_MAJOR = (packages: string[], nestRange: string | undefined) =>
  `Did not add ${packages.join(' and ')} to package.json: ` +
  (nestRange === undefined
    ? 'it names no @nestjs/core or @nestjs/common'
    : `the app's Nest version "${nestRange}" is not one @lanarky/openai knows (Nest 11 or 12)`) +
  '. Install them at the app\'s Nest major yourself.';
export const NO_PACKAGE_JSON = (packages: string[]) =>
  `No readable package.json at the workspace root: install ${packages.join(' and ')} at your Nest major yourself.`;
