import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Ajv } from 'ajv';
import { createServer, type RunningServer } from '../../src/serve/server.ts';
import { validatePredictRequest } from '../../src/serve/validate.ts';
import { VERSION } from '../../src/util/version.ts';
import { makeFakePredictor, type FakeOptions } from '../support/fake-predictor.ts';
import { threadNice } from '../../src/serve/threads.ts';

const dims = { a: 16, t: 24, v: 8 };
const vec = (n: number, s: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + s));

async function withServer(fake: FakeOptions, opts: Parameters<typeof createServer>[1], fn: (s: RunningServer, p: ReturnType<typeof makeFakePredictor>) => Promise<void>) {
  const p = makeFakePredictor(fake);
  const s = await createServer(p, { port: 0, log: () => {}, ...opts });
  try {
    await fn(s, p);
  } finally {
    await s.close();
  }
}

async function call(s: RunningServer, method: string, path: string, body?: string) {
  const res = await fetch(s.url + path, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

const body = {
  dialogues: [
    { id: 'd1', utterances: [{ id: 'u1', speaker: 'F', features: { a: vec(16, 1), t: vec(24, 2) } }, { id: 'u2', features: { t: vec(24, 3) } }] },
    { id: 'd2', utterances: [{ id: 'u3', features: { v: vec(8, 4), a: vec(16, 5) } }] },
  ],
};

test('POST /predict round trip equals calling the predictor directly; binds loopback', async () => {
  await withServer({}, {}, async (s, p) => {
    assert.equal(s.host, '127.0.0.1');
    assert.ok(s.port > 0);
    const r = await call(s, 'POST', '/predict', JSON.stringify(body));
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const info = p.info();
    const direct = await p.predict(validatePredictRequest(body, { dims: info.dims, conditions: info.models.map((m) => m.condition) }));
    assert.deepEqual(r.json, JSON.parse(JSON.stringify(direct)));
    assert.deepEqual(r.json.utterances.map((u: any) => [u.id, u.dialogue, u.condition, u.used.join('')]), [
      ['u1', 'd1', 'at', 'at'],
      ['u2', 'd1', 't', 't'],
      ['u3', 'd2', 'av', 'av'],
    ]);
    for (const u of r.json.utterances) {
      assert.equal(u.probs.length, 4);
      assert.ok(Math.abs(u.probs.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-9);
      assert.equal(u.label, info.classNames[u.probs.indexOf(Math.max(...u.probs))]);
    }
  });
});

test('GET /health and GET /models', async () => {
  await withServer({ conditions: ['a', 'at'] }, {}, async (s) => {
    const h = await call(s, 'GET', '/health');
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'ok');
    assert.equal(h.json.version, VERSION);
    const m = await call(s, 'GET', '/models');
    assert.equal(m.status, 200);
    assert.equal(m.json.task, 'classification');
    assert.deepEqual(m.json.dims, dims);
    assert.deepEqual(m.json.models.map((x: any) => x.condition), ['a', 'at']);
  });
});

test('404 for unknown paths, 405 with Allow for wrong methods', async () => {
  await withServer({}, {}, async (s) => {
    const r = await call(s, 'GET', '/etc/passwd');
    assert.equal(r.status, 404);
    assert.equal(r.json.error, 'not_found');
    const g = await call(s, 'GET', '/predict');
    assert.equal(g.status, 405);
    assert.equal(g.headers.get('allow'), 'POST');
    const d = await call(s, 'DELETE', '/health');
    assert.equal(d.status, 405);
  });
});

/** Malformed bodies and the reason each must be refused with (400 invalid_request). */
const malformed: [string, RegExp][] = [
  ['{"utterances": [', /body is not valid JSON/],
  ['', /body is not valid JSON/],
  ['{"utterances":[{"id":"u1","features":{"a":[NaN]}}]}', /not valid JSON/],
  ['{"utterances":[{"id":"w1","features":{"a":[1,2]}}]}', /utterance 'w1': modality 'a' has 2 values, expected 16/],
  [`{"utterances":[{"id":"big","features":{"v":[${[1e999, ...vec(7, 0)].join(',')}]}}]}`.replace('Infinity', '1e999'), /utterance 'big': modality 'v' value 0 is Infinity/],
  ['{"condition":"xz","utterances":[{"id":"u1","features":{"a":[1]}}]}', /unknown modality 'x'/],
  [JSON.stringify({ utterances: [{ id: 'all', features: { a: vec(16, 0), t: vec(24, 0), v: vec(8, 0) } }] }), /no model trained for condition 'atv'/],
  ['{"utterances":[]}', /no utterances/],
  ['{"utterances":[{"id":"e","features":{}}]}', /utterance 'e': no features given/],
  ['{"utterances":[{"id":"d","features":{"v":[1,2,3,4,5,6,7,8]}},{"id":"d","features":{"v":[1,2,3,4,5,6,7,8]}}]}', /utterance 'd': duplicate utterance id/],
];

test('malformed requests are 400 with a reason', async () => {
  await withServer({}, {}, async (s, p) => {
    for (const [text, reason] of malformed) {
      const r = await call(s, 'POST', '/predict', text);
      assert.equal(r.status, 400, text.slice(0, 60));
      assert.equal(r.json.error, 'invalid_request');
      assert.match(r.json.message, reason);
    }
    assert.equal(p.calls, 0, 'an invalid request never reaches the predictor');
  });
});

test('bodies of at least parseThreadBytes are parsed and validated off the main thread, answered as on it', async () => {
  const texts = [...malformed.map(([t]) => t), JSON.stringify(body)];
  // Every JSON.parse of the main thread that reads one of these bodies.
  const parse = JSON.parse;
  let onMain = 0;
  JSON.parse = ((text: string, reviver?: never) => {
    if (texts.includes(text)) onMain++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  try {
    const answers = async (parseThreadBytes: number) => {
      onMain = 0;
      const out: unknown[] = [];
      let parsedInThread: unknown;
      await withServer({}, { parseThreadBytes }, async (s) => {
        for (const t of texts) {
          const r = await call(s, 'POST', '/predict', t);
          out.push([r.status, r.json]);
        }
        parsedInThread = (await call(s, 'GET', '/health')).json.bodiesParsedInThread;
      });
      return { out, onMain, parsedInThread };
    };
    const inline = await answers(Infinity);
    const threaded = await answers(0);
    assert.equal(inline.onMain, texts.length, 'the main thread parses every body');
    assert.equal(inline.parsedInThread, undefined);
    assert.equal(threaded.onMain, 0, 'the main thread parses none of them');
    assert.equal(threaded.parsedInThread, texts.length);
    assert.deepEqual(threaded.out, inline.out, 'the same statuses, errors, messages and predictions');
    assert.equal((inline.out.at(-1) as [number])[0], 200);
  } finally {
    JSON.parse = parse;
  }
});

test('the main thread compiles its validator at the first request, also when that body goes to the parsing thread', async () => {
  // Else the first small body would compile it under load. Dimensions no other test uses: nothing compiled yet.
  const compile = Ajv.prototype.compile;
  let compiled = 0;
  Ajv.prototype.compile = function (this: Ajv, ...args: Parameters<Ajv['compile']>) {
    compiled++;
    return compile.apply(this, args);
  } as Ajv['compile'];
  try {
    await withServer({ dims: { a: 3, t: 5, v: 7 } }, { parseThreadBytes: 0 }, async (s) => {
      const r = await call(s, 'POST', '/predict', JSON.stringify({ utterances: [{ id: 'u', features: { a: [1, 2, 3] } }] }));
      assert.equal(r.status, 200);
      assert.ok(compiled > 0, 'compiled on the main thread');
      const again = compiled;
      assert.equal((await call(s, 'POST', '/predict', JSON.stringify({ utterances: [{ id: 'w', features: { a: [1] } }] }))).status, 400);
      assert.equal(compiled, again, 'once');
    });
  } finally {
    Ajv.prototype.compile = compile;
  }
});

test('the body-parsing thread runs workerNice steps below the main thread (Linux)', { skip: threadNice() === undefined ? 'no per-thread nice here' : false }, async () => {
  const main = threadNice()!;
  const niceOf = (tid: string) => {
    try {
      return Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    } catch {
      return NaN; // the thread ended meanwhile
    }
  };
  const before = new Set(readdirSync('/proc/self/task'));
  await withServer({}, { parseThreadBytes: 0, workerNice: 5 }, async (s) => {
    assert.equal((await call(s, 'POST', '/predict', JSON.stringify(body))).status, 200);
    const started = readdirSync('/proc/self/task').filter((t) => !before.has(t));
    assert.ok(started.some((t) => niceOf(t) === Math.min(19, main + 5)), `a new thread at nice ${main + 5} (new: ${started.map(niceOf).join(', ')})`);
  });
  assert.equal(threadNice(), main, 'the main thread keeps its priority');
});

test('too many utterances is 400; a body over the limit is 413 and the server keeps serving', async () => {
  await withServer({}, { maxBodyBytes: 4096, maxUtterances: 2 }, async (s) => {
    const many = { utterances: [1, 2, 3].map((i) => ({ id: `u${i}`, features: { v: vec(8, i) } })) };
    const r = await call(s, 'POST', '/predict', JSON.stringify(many));
    assert.equal(r.status, 400);
    assert.match(r.json.message, /too many utterances \(at most 2/);
    const huge = JSON.stringify({ utterances: [{ id: 'h', features: { a: Array(20000).fill(0.123456) } }] });
    const big = await call(s, 'POST', '/predict', huge);
    assert.equal(big.status, 413);
    assert.equal(big.json.error, 'payload_too_large');
    assert.match(big.json.message, /exceeds 4096 bytes/);
    const after = await call(s, 'POST', '/predict', JSON.stringify({ utterances: [{ id: 'ok', features: { v: vec(8, 1) } }] }));
    assert.equal(after.status, 200);
  });
});

test('close() lets an in-flight request finish, then refuses new connections', async () => {
  const p = makeFakePredictor({ delayMs: 300 });
  const s = await createServer(p, { port: 0, log: () => {} });
  const pending = call(s, 'POST', '/predict', JSON.stringify(body));
  while (p.calls === 0) await new Promise((r) => setTimeout(r, 5));
  const t0 = Date.now();
  await Promise.all([s.close(), s.close()]);
  assert.ok(Date.now() - t0 >= 200, 'close waited for the in-flight request');
  const r = await pending;
  assert.equal(r.status, 200);
  assert.equal(r.json.utterances.length, 3);
  await assert.rejects(fetch(s.url + '/health'));
});

test('SIGTERM in a real process: in-flight request answered, clean exit', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/serve/serve-child.ts', '400'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const url = (await lines.next()).value as string;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const pending = fetch(url + '/predict', { method: 'POST', body: JSON.stringify(body) });
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGTERM');
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as any).utterances.length, 3);
  assert.equal((await lines.next()).value, 'closed');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});

test('--token: bearer token required except on /health and /ready; wrong or missing token is 401', async () => {
  const lines: string[] = [];
  await withServer({}, { token: 's3cret', host: '0.0.0.0', log: (l) => lines.push(l) }, async (s) => {
    assert.equal(lines.length, 0, 'no warning with a token on a non-loopback host');
    const url = s.url.replace('0.0.0.0', '127.0.0.1');
    const body = JSON.stringify({ utterances: [{ id: 'u', features: { v: vec(8, 1) } }] });
    for (const auth of [undefined, 'Bearer wrong', 's3cret', 'Bearer s3cret2']) {
      const r = await fetch(url + '/predict', { method: 'POST', body, headers: auth ? { authorization: auth } : {} });
      assert.equal(r.status, 401, String(auth));
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    }
    assert.equal((await fetch(url + '/models')).status, 401);
    assert.equal((await fetch(url + '/health')).status, 200);
    assert.equal((await fetch(url + '/ready')).status, 200);
    const ok = await fetch(url + '/predict', { method: 'POST', body, headers: { authorization: 'Bearer s3cret' } });
    assert.equal(ok.status, 200);
  });
});

test('a non-loopback host without a token prints a warning; loopback does not', async () => {
  for (const [host, warned] of [['0.0.0.0', true], ['127.0.0.1', false]] as const) {
    const lines: string[] = [];
    await withServer({}, { host, log: (l) => lines.push(l) }, async () => {});
    assert.equal(lines.some((l) => /warning: listening on .* without a token/.test(l)), warned, host);
  }
});

test('CORS only with --cors: the one origin, preflight answered', async () => {
  await withServer({}, {}, async (s) => {
    const r = await fetch(s.url + '/models', { headers: { origin: 'http://evil.example' } });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    assert.equal((await fetch(s.url + '/predict', { method: 'OPTIONS' })).status, 405);
  });
  await withServer({}, { cors: 'http://lab.example' }, async (s) => {
    const r = await fetch(s.url + '/models');
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://lab.example');
    const pre = await fetch(s.url + '/predict', { method: 'OPTIONS', headers: { origin: 'http://lab.example', 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.equal(pre.headers.get('access-control-allow-methods'), 'POST');
  });
});

test('--log-requests: one structured line per request (route, status, ms, utterances); quiet by default', async () => {
  const lines: string[] = [];
  await withServer({}, { logRequests: true, accessLog: (l) => lines.push(l) }, async (s) => {
    await call(s, 'POST', '/predict', JSON.stringify(body));
    await call(s, 'GET', '/health');
    await call(s, 'GET', '/no/such/../path?x=1');
    await call(s, 'POST', '/predict', '{');
  });
  const recs = lines.map((l) => JSON.parse(l));
  assert.deepEqual(recs.map((r) => [r.method, r.route, r.status, r.utterances]), [
    ['POST', '/predict', 200, 3],
    ['GET', '/health', 200, 0],
    ['GET', null, 404, 0],
    ['POST', '/predict', 400, 0],
  ]);
  for (const r of recs) assert.ok(r.ms >= 0 && typeof r.time === 'string');
  const quiet: string[] = [];
  await withServer({}, { accessLog: (l) => quiet.push(l) }, async (s) => void (await call(s, 'GET', '/health')));
  assert.deepEqual(quiet, []);
});
