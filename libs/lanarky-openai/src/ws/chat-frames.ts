import type { RawData } from 'ws';
import { isJsonObject } from '../utils/is-json-object';
import { ChatEventType, type ChatEvent } from '../events/chat-event';
import { FRAME_BINARY, FRAME_NOT_AN_OBJECT, FRAME_NOT_JSON, FRAME_UNKNOWN } from '../lanarky-openai.messages';

/** The message a chat turn is dispatched as, in Nest's `{ event, data }` terms. */
export const CHAT_EVENT = 'chat';
/** The client frame that aborts the turn in progress. */
export const CANCEL_EVENT = 'cancel';

/** The frame that ends every turn. */
export const END_FRAME: ChatEvent = { event: ChatEventType.End, data: '' };

/** What a client frame asks for. */
export type ChatFrame =
  | { kind: 'turn'; data: unknown }
  | { kind: 'cancel' }
  | { kind: 'event'; event: string; data: unknown }
  | { kind: 'invalid'; detail: string };

/**
 * Reads a client frame: Lanarky's `{"messages": [...]}`, Nest's `{"event": "chat", "data": ...}`,
 * `{"event": "cancel"}`, another event for the gateway's own handlers, or something invalid.
 */
export function parseChatFrame(data: RawData, isBinary: boolean): ChatFrame {
  if (isBinary) {
    return { kind: 'invalid', detail: FRAME_BINARY };
  }
  let frame: unknown;
  try {
    frame = JSON.parse(data.toString());
  } catch {
    return { kind: 'invalid', detail: FRAME_NOT_JSON };
  }
  if (!isJsonObject(frame)) {
    return { kind: 'invalid', detail: FRAME_NOT_AN_OBJECT };
  }
  const { event } = frame;
  if (event === undefined && 'messages' in frame) {
    return { kind: 'turn', data: frame };
  }
  if (event === CHAT_EVENT) {
    return { kind: 'turn', data: frame.data };
  }
  if (event === CANCEL_EVENT) {
    return { kind: 'cancel' };
  }
  return typeof event === 'string' && event
    ? { kind: 'event', event, data: frame.data }
    : { kind: 'invalid', detail: FRAME_UNKNOWN(event) };
}
