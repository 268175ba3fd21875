/** Clients of the chat protocol, for Node 20+ and browsers: SSE over fetch, and websockets. */
export {
  StreamingClient,
  StreamingClientError,
  type StreamingClientOptions,
  type StreamingEvent,
  type StreamingParamValue,
  type StreamingRequestOptions,
} from './streaming.client';
export {
  WebSocketClient,
  WebSocketClosedError,
  WebSocketSession,
  type WebSocketClientOptions,
  type WebSocketConstructor,
  type WebSocketEvent,
  type WebSocketLike,
  type WebSocketMode,
  type WebSocketModeTypes,
} from './websocket.client';
