import type { ChatErrorPayload } from './chat-error';

/** Names of the events a chat stream carries, as Lanarky clients expect them. */
export const ChatEventType = {
  Completion: 'completion',
  Error: 'error',
  End: 'end',
} as const;

/** One event of a chat stream, transport-neutral; websocket frames carry it as is. */
export type ChatEvent =
  | { event: typeof ChatEventType.Completion; data: string }
  | { event: typeof ChatEventType.Error; data: ChatErrorPayload }
  | { event: typeof ChatEventType.End; data: '' };
