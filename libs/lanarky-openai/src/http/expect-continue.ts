import { PayloadTooLargeException } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { BODY_TOO_LARGE } from '../lanarky-openai.messages';

/** Marks a server that already has the listener, so that a second call adds none. */
const INSTALLED = Symbol('lanarky.checkContinue');

/** The content type the JSON parser reads (body-parser's `application/json`). */
const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

/**
 * Answers an `Expect: 100-continue` request whose identity-encoded JSON body is declared larger
 * than `bodyLimit` with 413 at once, before the client sends the body the parser would refuse
 * anyway. Every other such request gets what Node does without a listener: `100 Continue`, then
 * the normal request handling.
 */
export function refuseOversizedContinue(server: Server | undefined, bodyLimit: number): void {
  if (!server || typeof server.on !== 'function' || (server as { [INSTALLED]?: boolean })[INSTALLED]) {
    return;
  }
  (server as { [INSTALLED]?: boolean })[INSTALLED] = true;
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (!declaresOversizedJson(request, bodyLimit)) {
      response.writeContinue();
      server.emit('request', request, response);
      return;
    }
    const body = JSON.stringify(new PayloadTooLargeException(BODY_TOO_LARGE(bodyLimit)).getResponse());
    // Connection: close, so that a client that sends its body anyway is not read as a next request.
    response.writeHead(413, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    response.end(body);
  });
}

function declaresOversizedJson({ headers }: IncomingMessage, bodyLimit: number): boolean {
  const encoding = headers['content-encoding']?.trim().toLowerCase() ?? 'identity';
  return (
    encoding === 'identity' &&
    JSON_TYPE.test(headers['content-type'] ?? '') &&
    Number(headers['content-length']) > bodyLimit
  );
}
