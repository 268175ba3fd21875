import type { IncomingMessage } from 'node:http';
import type { AllowedOrigins } from '../interfaces/lanarky-ws-adapter-options.interface';

/**
 * Whether a websocket handshake may go on, as far as its `Origin` goes: a client that sends none
 * (not a browser) may, and so may a page of the host the request was sent to (its `Host` header)
 * or one that `allowed` lets in. Anything else is a page of another site using the visitor's browser.
 */
export function isOriginAllowed(origin: string | undefined, request: IncomingMessage, allowed: AllowedOrigins): boolean {
  if (origin === undefined) {
    return true;
  }
  if (isSameHost(origin, request.headers.host)) {
    return true;
  }
  return typeof allowed === 'function' ? allowed(origin, request) : allowed.includes(normalizeOrigin(origin));
}

/** An origin as browsers write it (lower-case scheme and host, no default port, no trailing slash); others as given. */
export function normalizeOrigin(origin: string): string {
  try {
    const { origin: normalized } = new URL(origin);
    // URL gives 'null' for schemes without an origin; keep what was written then.
    return normalized === 'null' ? origin : normalized;
  } catch {
    return origin;
  }
}

function isSameHost(origin: string, host: string | undefined): boolean {
  if (!host) {
    return false;
  }
  try {
    const url = new URL(origin);
    // Parsed with the origin's scheme, Host drops that scheme's default port as the origin does.
    return url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
