import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { WebSocket } from 'ws';
import { ChatEventType } from '../events/chat-event';
import { END_FRAME } from './chat-frames';

const FORBIDDEN = 'Forbidden resource';

/**
 * Answers a chat turn that a guard refused (status 403) with the protocol's `error` and `end` frames, where
 * Nest would emit an `exception` event that a plain websocket client never receives. Only
 * `WsException`s are caught, so HTTP routes and their filters are untouched.
 */
@Catch(WsException)
export class ChatWsExceptionFilter implements ExceptionFilter<WsException> {
  catch(exception: WsException, host: ArgumentsHost): void {
    const client = host.switchToWs().getClient<WebSocket>();
    const error = exception.getError();
    const detail = typeof error === 'string' ? error : ((error as { message?: string }).message ?? FORBIDDEN);
    // The pipeline catches everything after it starts: what reaches here is a guard's refusal.
    const status_code = HttpStatus.FORBIDDEN;
    if (client.readyState === WebSocket.OPEN) {
      client.send(JSON.stringify({ event: ChatEventType.Error, data: { status_code, detail } }));
      client.send(JSON.stringify(END_FRAME));
    }
  }
}
