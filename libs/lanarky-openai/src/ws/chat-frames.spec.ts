import { CHAT_EVENT, parseChatFrame } from './chat-frames';

const text = (value: string) => Buffer.from(value);

describe('parseChatFrame', () => {
  it("reads Lanarky's {messages} frame as a turn carrying the whole frame", () => {
    const frame = { messages: [{ role: 'user', content: 'hi' }] };

    expect(parseChatFrame(text(JSON.stringify(frame)), false)).toEqual({ kind: 'turn', data: frame });
  });

  it("reads Nest's {event: 'chat', data} frame as a turn carrying data", () => {
    const data = { messages: [{ role: 'user', content: 'hi' }] };

    expect(parseChatFrame(text(JSON.stringify({ event: CHAT_EVENT, data })), false)).toEqual({ kind: 'turn', data });
  });

  it('passes a chat turn whose data is not an object on, for the validator to name', () => {
    expect(parseChatFrame(text('{"event":"chat","data":"hi"}'), false)).toEqual({ kind: 'turn', data: 'hi' });
  });

  it('reads {event: "cancel"}', () => {
    expect(parseChatFrame(text('{"event":"cancel"}'), false)).toEqual({ kind: 'cancel' });
  });

  it("hands other events on for the gateway's own handlers", () => {
    expect(parseChatFrame(text('{"event":"ping","data":1}'), false)).toEqual({ kind: 'event', event: 'ping', data: 1 });
  });

  it.each([
    ['binary', text('{"messages":[]}'), true, 'binary frames are not supported'],
    ['not JSON', text('hi'), false, 'frame is not valid JSON'],
    ['a JSON array', text('[]'), false, 'frame must be a JSON object'],
    ['null', text('null'), false, 'frame must be a JSON object'],
    ['a number event', text('{"event":5}'), false, 'frame must be {"messages": [...]}'],
    ['an empty event', text('{"event":""}'), false, 'frame must be {"messages": [...]}'],
    ['neither event nor messages', text('{"text":"hi"}'), false, 'frame must be {"messages": [...]}'],
  ])('rejects a frame that is %s', (_case, data, isBinary, detail) => {
    const frame = parseChatFrame(data, isBinary);

    expect(frame.kind).toBe('invalid');
    expect(frame.kind === 'invalid' && frame.detail).toContain(detail);
  });
});
