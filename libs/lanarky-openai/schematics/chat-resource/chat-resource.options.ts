import type { Path } from '@angular-devkit/core';
import type { SourceRootOptions } from '../utils/source-root';

/** Which transports a chat resource is served over. */
export type ChatTransport = 'sse' | 'ws' | 'both';

/** Options of the `chat-resource` schematic (see schema.json). */
export interface ChatResourceOptions extends SourceRootOptions {
  /** The resource's name: its folder, file and class names and its route. */
  name: string;
  /** Where to create it, relative to the source root. */
  path?: string | Path;
  /** Create the files in `path` itself rather than in a folder of their own. */
  flat?: boolean;
  /** Generate spec files. */
  spec?: boolean;
  /** Suffix of the spec files (`spec` makes `support.controller.spec.ts`). */
  specFileSuffix?: string;
  /** Leave the nearest module alone instead of importing the new one into it. */
  skipImport?: boolean;
  /** The app's language; only `ts` is supported. */
  language?: string;
  /** Format the generated files with Prettier, if it is installed. */
  format?: boolean;
  /** `sse` for the controller, `ws` for the gateway, `both` (the default) for both. */
  transport?: ChatTransport;
  /** The Nest CLI's `--type`, taken as `transport` when that is not given. */
  type?: ChatTransport;
  /** The system prompt of every conversation. */
  system?: string;
  /** The model to ask; by default, the module's `defaultModel`. */
  model?: string;
  /** Internal: the module the new one is imported into, as the schematic found it. */
  module?: Path | null;
}
