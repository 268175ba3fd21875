import type { SourceRootOptions } from '../utils/source-root';

/** Options of the `nest-add` schematic (see schema.json). */
export interface NestAddOptions extends SourceRootOptions {
  /** The app module, relative to the source root. */
  module?: string;
  /** The bootstrap file, relative to the source root. */
  main?: string;
  /** Add the websocket packages to package.json without installing them. */
  skipInstall?: boolean;
}
