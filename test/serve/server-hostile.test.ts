// The server under hostile clients (issue 15 item 8): a malformed URL is 400, an abandoned upload
// is one log line (not a 500 with a stack), held uploads beyond the cap get 503 instead of
// buffering, and connections beyond the cap are closed; the server keeps serving throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { createServer, type RunningServer, type ServerOptions } from '../../src/serve/server.ts';
import { makeFakePredictor } from '../support/fake-predictor.ts';

async function withServer(opts: ServerOptions, fn: (s: RunningServer, logs: string[]) => Promise<void>) {
  const logs: string[] = [];
  const s = await createServer(makeFakePredictor({}), { port: 0, log: (l) => logs.push(l), ...opts });
  try {
    await fn(s, logs);
  } finally {
    await s.close();
  }
}

/** A raw connection: writes `head`, resolves with everything the server sends until it closes (or `ms`). */
async function raw(s: RunningServer, head: string, ms = 5000): Promise<{ socket: Socket; answer: Promise<string> }> {
  const socket = connect(s.port, s.host);
  await once(socket, 'connect');
  socket.write(head);
  let text = '';
  socket.on('data', (d) => (text += d));
  const answer = new Promise<string>((res) => {
    const t = setTimeout(() => res(text), ms);
    socket.on('close', () => { clearTimeout(t); res(text); });
    socket.on('error', () => {});
  });
  return { socket, answer };
}

const ok = async (s: RunningServer) => (await fetch(`${s.url}/predict`, { method: 'POST', body: JSON.stringify({ utterances: [{ id: 'u', features: { v: [1, 2, 3, 4, 5, 6, 7, 8] } }] }) })).status;

test('a malformed URL such as //%%% is 400, not 500', async () => {
  await withServer({}, async (s, logs) => {
    const { answer } = await raw(s, 'GET //%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const text = await answer;
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /"error":"bad_url"/);
    assert.deepEqual(logs, []);
  });
});

test('an upload the client abandons is logged as aborted in one line, and the server keeps serving', async () => {
  await withServer({}, async (s, logs) => {
    const { socket } = await raw(s, `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"utterances": [`);
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    for (let i = 0; i < 100 && logs.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0]!, /^hardy-mer serve: POST \/predict: client aborted the upload after \d+ bytes$/);
    assert.equal(await ok(s), 200);
  });
});

test('uploads beyond maxConcurrentBodies get 503 with Retry-After instead of being buffered', async () => {
  await withServer({ maxConcurrentBodies: 2 }, async (s) => {
    const head = `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 15000000\r\n\r\n`;
    const held = [await raw(s, head + ' '.repeat(1 << 16)), await raw(s, head + ' '.repeat(1 << 16))];
    await new Promise((r) => setTimeout(r, 100));
    const third = await raw(s, head + ' '.repeat(1 << 16), 2000);
    const text = await third.answer;
    assert.match(text, /^HTTP\/1\.1 503 /);
    assert.match(text, /retry-after: 1/i);
    assert.match(text, /"error":"busy"/);
    for (const h of held) h.socket.destroy();
    third.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await ok(s), 200, 'the slots are free again once the held uploads are gone');
  });
});

test('connections beyond maxConnections are closed at once', async () => {
  await withServer({ maxConnections: 3 }, async (s) => {
    const idle = await Promise.all([1, 2, 3].map(async () => { const c = connect(s.port, s.host); await once(c, 'connect'); return c; }));
    await new Promise((r) => setTimeout(r, 50));
    const extra = await raw(s, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', 3000);
    assert.equal(await extra.answer, '', 'closed without an answer');
    for (const c of idle) c.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
  });
});
