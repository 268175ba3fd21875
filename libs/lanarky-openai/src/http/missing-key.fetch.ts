import { NO_API_KEY_CONFIGURED } from '../lanarky-openai.messages';
import type { Fetch } from './upstream-fetch';

/** The `code` of the answer below, so that a log line can tell it from an upstream's own 401. */
export const MISSING_KEY_CODE = 'lanarky_missing_api_key';

/**
 * The `fetch` of a client configured with neither a key nor a server: it answers every request
 * at once with the 401 an upstream gives a request without a key, and sends nothing anywhere.
 * The SDK then raises its `AuthenticationError`, which the pipeline maps like any other.
 */
export const missingKeyFetch: Fetch = async () =>
  new Response(
    JSON.stringify({ error: { message: NO_API_KEY_CONFIGURED, type: 'invalid_request_error', param: null, code: MISSING_KEY_CODE } }),
    { status: 401, headers: { 'content-type': 'application/json' } },
  );
