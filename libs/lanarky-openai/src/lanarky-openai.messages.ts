/** Every text the library shows a client or writes to a log, so tests assert the same words. */

export const UPSTREAM_AUTH_FAILED = 'Upstream authentication failed';
export const UPSTREAM_RATE_LIMITED = 'Rate limited by upstream';
export const UPSTREAM_ERROR = 'Upstream error';
export const UPSTREAM_CONNECTION_LOST = 'Upstream connection lost';
export const UPSTREAM_TIMEOUT = 'Upstream timeout';
export const UPSTREAM_REJECTED = 'Upstream rejected the request';
export const INTERNAL_SERVER_ERROR = 'Internal Server Error';
export const SHUTTING_DOWN = 'Server shutting down';
export const SHUTDOWN_STARTED = (streams: number, grace: number) =>
  `Shutting down: ${streams} stream(s) in flight get ${grace} ms to finish`;
export const TOO_MANY_TURNS = (limit: number) => `too many turns waiting on this socket (at most ${limit})`;
export const CLIENT_NOT_READING = (buffered: number, limit: number) =>
  `A websocket client is not reading: ${buffered} bytes wait for it, over the ${limit} allowed; dropping it`;
/** The one log line of a handshake refused for its origin; header values are clipped, never trusted. */
export const ORIGIN_REFUSED = (origin: string, host: string | undefined) =>
  `Refused a websocket handshake from origin ${clip(origin)}: not this server's host (${clip(host ?? 'no Host header')}) ` +
  "and not in the adapter's allowedOrigins";
/** The one log line of a socket ws closed for breaking the protocol: the client's mistake, not the server's. */
export const CLIENT_BROKE_PROTOCOL = (cause: string, code: number) =>
  `A websocket client broke the protocol (${cause}); closed it with ${code}`;
export const TOO_MANY_SOCKETS = (limit: number) =>
  `${limit} websockets are open (maxSockets): closing new ones with 1013 "try again later" until one closes`;
export const ON_FINISH_FAILED = (error: unknown) =>
  `An onFinish callback threw: ${error instanceof Error ? `${error.name}: ${error.message}` : typeof error}`;
export const STREAM_CUT_SHORT = 'Upstream stream ended before its last chunk';
export const UPSTREAM_BODY_CLOSED = 'Upstream closed the stream before its end';
export const CHUNK_NOT_JSON = 'Upstream sent a chunk that is not JSON';
export const BODY_NOT_UTF8 = 'request body is not valid UTF-8';

export const BODY_NOT_AN_OBJECT = 'request body must be a JSON object';
export const UI_MESSAGES_NOT_ARRAY = 'messages must be an array of UI messages';
export const UI_PARTS_NOT_ARRAY = (index: number) => `messages.${index}.parts must be an array`;
export const UI_PART_NOT_TEXT = (index: number, at: number, type: unknown) =>
  `messages.${index}.parts.${at} is ${typeof type === 'string' ? `a '${type}' part` : 'not a part'}: only text parts are supported`;
export const BODY_TOO_DEEP = (limit: number) => `request body nests deeper than ${limit} levels`;
export const MESSAGE_NOT_AN_OBJECT = (index: number) => `messages.${index} must be an object`;
export const UNSUPPORTED_MEDIA_TYPE = (contentType: string | undefined) =>
  `Content-Type must be application/json, got ${contentType ? `'${contentType}'` : 'none'}`;
export const BODY_TOO_LARGE = (limit: number) => `request body is larger than ${limit} bytes`;
export const BODY_CHARSET_UNSUPPORTED = (charset: unknown) => `request body charset must be utf-8, got '${String(charset)}'`;
export const BODY_ENCODING_UNSUPPORTED = (encoding: unknown) =>
  `Content-Encoding must be gzip, deflate, br or identity, got '${String(encoding)}'`;
export const BODY_NOT_DECODED = (encoding: unknown) => `request body is not valid ${String(encoding)} data`;
/** The one log line of a request whose body never arrived whole: the client cannot be told. */
export const BODY_NOT_RECEIVED = (method: string, path: string, cause: string) =>
  `${method} ${path}: the request body never arrived whole: ${cause}`;
export const BODY_TIMED_OUT = (timeout: number) => `the client sent it too slowly (the server's requestTimeout, ${timeout} ms)`;
export const BODY_BAD_FRAMING = (code: string) => `malformed HTTP framing (${code})`;
export const BODY_CLIENT_LEFT = (code: string | undefined) => `the client closed the connection${code ? ` (${code})` : ''}`;

export const NO_CLIENT =
  'This resource has no OpenAI client: pass { client } to it, or serve it through LanarkyOpenAIModule';

export const NOT_A_RESOURCE = (handler: string, value: unknown) =>
  `${handler} returned ${describe(value)}, not an OpenAIResource: return a ChatCompletionResource (or a promise of one)`;

export const STREAM_FAILED = (handler: string, status: number, detail: string, cause: string) =>
  `${handler} answered ${status} ${detail} (${cause})`;
/** The cause of a failed connection: the error's class, the system's code, the host it was for. */
export const UPSTREAM_UNREACHABLE = (name: string, code: string | undefined, host: string | undefined) =>
  `${name}${code ? `: ${code}` : ''}${host ? `, upstream ${host}` : ''}`;
/** The cause of an upstream's error answer: the error's class, the HTTP status, the host that answered. */
export const UPSTREAM_ANSWERED = (name: string, status: number | undefined, host: string | undefined) =>
  `${name}${status ? `: HTTP ${status}` : ''}${host ? ` from ${host}` : ''}`;

export const NO_API_KEY_WARNING =
  'No API key and no base URL: chat requests will fail with 502, and nothing is sent upstream. ' +
  'Set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for a local server (Ollama, vLLM, llama.cpp), or pass forRoot({ apiKey | baseURL })';
/** The message of the 401 a client with no key answers itself. */
export const NO_API_KEY_CONFIGURED =
  'No API key is configured: set OPENAI_API_KEY or OPENAI_BASE_URL, or pass forRoot({ apiKey | baseURL })';
export const NO_API_KEY_CAUSE = (name: string) => `${name}: no API key is configured, so nothing was sent`;

export const BASE_URL_INVALID = (source: string, value: string, problem: string) =>
  `LanarkyOpenAIModule: ${source} '${value}' is not a usable base URL: ${problem}`;
export const BASE_URL_NO_SCHEME = (suggestion: string) => `it has no scheme; write ${suggestion}`;
export const BASE_URL_OTHER_SCHEME = (scheme: string) => `only http:// and https:// are supported, not ${scheme}://`;
export const BASE_URL_NOT_A_URL = 'it is not a URL; write one such as http://localhost:11434/v1';

const INSTALL_ADAPTER = "install Lanarky's in main.ts, before listen(): app.useWebSocketAdapter(new LanarkyWsAdapter(app)), with LanarkyWsAdapter from @lanarky/openai";
export const CHAT_ADAPTER_MISSING = (handlers: string[]) =>
  `${names(handlers)} ${handlers.length === 1 ? 'has' : 'have'} @ChatResource() but the app has no websocket adapter: ${INSTALL_ADAPTER}`;
export const CHAT_ADAPTER_OTHER = (handlers: string[], adapter: string) =>
  `${names(handlers)} ${handlers.length === 1 ? 'has' : 'have'} @ChatResource() but the app's websocket adapter is ${adapter}, not LanarkyWsAdapter: ` +
  `frames in Lanarky's {"messages": [...]} format go unanswered, and turns neither queue nor cancel. To serve the chat protocol, ${INSTALL_ADAPTER}`;

export const CHAT_BODY_PARSER_MISSING = (routes: string[], bodyLimit: number, expressLimit: number) =>
  `useChatBodyParser(app) was not called: Express's JSON parser refuses bodies over ${expressLimit} bytes, ` +
  `under the module's bodyLimit of ${bodyLimit} bytes for ${names(routes)}. Call useChatBodyParser(app) in main.ts, before listen()`;

/** A header value for a log line, cut short. */
function clip(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}...` : value;
}

/** Names handlers for a log line, the first few of them. */
function names(handlers: string[]): string {
  const shown = handlers.slice(0, 3).join(', ');
  return handlers.length > 3 ? `${shown} and ${handlers.length - 3} more` : shown;
}

/** Names a value for a log line without dumping its contents. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'object') {
    return `an instance of ${value.constructor?.name ?? 'Object'}`;
  }
  return `a ${typeof value}`;
}

export const FRAME_BINARY = 'binary frames are not supported: send JSON text';
export const FRAME_NOT_JSON = 'frame is not valid JSON';
export const FRAME_NOT_AN_OBJECT = 'frame must be a JSON object';
export const FRAME_UNKNOWN = (event: unknown) =>
  typeof event === 'string' && event
    ? `unknown event '${event}': send {"messages": [...]}, {"event": "chat", "data": {...}} or {"event": "cancel"}`
    : 'frame must be {"messages": [...]}, {"event": "chat", "data": {...}} or {"event": "cancel"}';

export const ANSWER_EMPTY = 'Model answer has no content';
export const ANSWER_NOT_JSON = (reason: string) => `Model answer is not valid JSON: ${reason}`;
export const ANSWER_MISMATCH = (schema: string, problems: string[]) =>
  `Model answer does not match ${schema}: ${problems.join('; ')}`;
export const NOT_A_FACTORY = (handler: string) =>
  `@UseCompletion() on ${handler} names neither a method of its class nor a ChatResourceFactory provider`;

/** How a parameter is named in a pipe's 400: `query parameter 'stream'`, or just its name. */
export const PARAMETER = (type: string | undefined, name: string | undefined) =>
  type === 'query' || type === 'param' ? `${type} parameter '${name ?? 'value'}'` : `'${name ?? 'value'}'`;
export const BOOL_EXPECTED = (parameter: string) =>
  `${parameter} must be a boolean: true or false (also 1/0, yes/no, on/off, any case)`;
export const PARAMETER_REQUIRED = (parameter: string) => `${parameter} is required`;
export const PARAMETER_NOT_SINGLE = (parameter: string) => `${parameter} must be a single value, given once`;
/** The detail of an upstream 400 caused by the `stream_options` the library added for usage. */
export const STREAM_OPTIONS_REJECTED = (detail: string) =>
  `${detail} (the upstream rejected stream_options: set streamUsage: false)`;
