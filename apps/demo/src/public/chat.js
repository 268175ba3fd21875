// The demo's chat page: plain ES modules, no build step. SSE is parsed by eventsource-parser,
// the parser the library's StreamingClient uses; websockets speak the protocol's frames.
import { createParser } from '/vendor/eventsource-parser/index.js';

const form = document.querySelector('#composer');
const input = document.querySelector('#input');
const sendButton = document.querySelector('#send');
const stopButton = document.querySelector('#stop');
const personaField = document.querySelector('#persona');
const list = document.querySelector('#messages');
const statusLine = document.querySelector('#status');

/** The conversation so far, sent whole each turn as Lanarky's clients do. */
const history = [];
/** How to stop the turn in progress, or null when idle. */
let stopTurn = null;
/** The open websocket (its URL names the persona it was opened with). */
let socket = null;

function transport() {
  return document.querySelector('input[name="transport"]:checked').value;
}

function addMessage(role, text) {
  const item = document.createElement('li');
  item.className = `message ${role}`;
  const label = document.createElement('span');
  label.className = 'role';
  label.textContent = role === 'user' ? 'You' : 'Assistant';
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  item.append(label, body);
  list.append(item);
  item.scrollIntoView({ block: 'end' });
  return item;
}

function showError(item, { status_code, detail }) {
  const error = document.createElement('span');
  error.className = 'error';
  error.setAttribute('role', 'alert');
  error.textContent = `Error ${status_code}: ${detail}`;
  item.append(error);
}

function setBusy(busy, message = '') {
  sendButton.disabled = busy;
  stopButton.disabled = !busy;
  statusLine.textContent = message;
}

/** Streams one turn over HTTP: POST /chat, SSE back. */
async function streamHttp(messages, onEvent) {
  const controller = new AbortController();
  stopTurn = () => controller.abort();
  const params = new URLSearchParams({ stream: 'true', persona: personaField.value });
  try {
    const response = await fetch(`/chat?${params}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages }),
      signal: controller.signal,
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const detail = [body.message].flat().filter(Boolean).join('; ') || response.statusText;
      return onEvent({ event: 'error', data: JSON.stringify({ status_code: response.status, detail }) });
    }
    const parser = createParser({ onEvent });
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } catch (error) {
    if (error.name !== 'AbortError') throw error;
  }
}

/** Opens (or reuses) the websocket for the current persona. */
function openSocket() {
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('persona', personaField.value);
  if (socket && socket.url === url.href && socket.readyState === WebSocket.OPEN) {
    return Promise.resolve(socket);
  }
  socket?.close();
  socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(socket), { once: true });
    socket.addEventListener('error', () => reject(new Error('the websocket could not open')), { once: true });
  });
}

/** Streams one turn over the websocket: frames until `end`. */
async function streamWs(messages, onEvent) {
  const ws = await openSocket();
  stopTurn = () => ws.send(JSON.stringify({ event: 'cancel' }));
  await new Promise((resolve) => {
    const onFrame = ({ data }) => {
      const frame = JSON.parse(data);
      if (frame.event === 'end') {
        ws.removeEventListener('message', onFrame);
        ws.removeEventListener('close', onClose);
        return resolve();
      }
      onEvent({ event: frame.event, data: typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data) });
    };
    const onClose = () => {
      ws.removeEventListener('message', onFrame);
      resolve();
    };
    ws.addEventListener('message', onFrame);
    ws.addEventListener('close', onClose, { once: true });
    ws.send(JSON.stringify({ messages }));
  });
}

async function send(text) {
  history.push({ role: 'user', content: text });
  addMessage('user', text);
  const reply = addMessage('assistant', '');
  const replyText = reply.querySelector('.text');
  reply.setAttribute('aria-busy', 'true');
  setBusy(true, 'Streaming…');
  let failed = false;
  const onEvent = ({ event, data }) => {
    if (event === 'completion') {
      replyText.textContent += data;
    } else if (event === 'error') {
      failed = true;
      showError(reply, JSON.parse(data));
    }
  };
  try {
    await (transport() === 'ws' ? streamWs(history, onEvent) : streamHttp(history, onEvent));
  } catch (error) {
    failed = true;
    showError(reply, { status_code: 0, detail: error.message });
  } finally {
    stopTurn = null;
    reply.removeAttribute('aria-busy');
    if (replyText.textContent) {
      history.push({ role: 'assistant', content: replyText.textContent });
    }
    setBusy(false, failed ? 'The last reply failed; you can send again.' : '');
    input.focus();
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || stopTurn) return;
  input.value = '';
  void send(text);
});

input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

stopButton.addEventListener('click', () => {
  stopTurn?.();
  statusLine.textContent = 'Stopped.';
});

input.focus();
