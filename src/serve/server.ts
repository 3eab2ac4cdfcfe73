/**
 * HTTP JSON API over a Predictor, on node:http (three routes do not need a framework):
 *   POST /predict  body = a prediction request (see validate.ts) -> PredictResponse
 *   GET  /health   -> { status, version, inFlight, uptimeSeconds, ...the predictor's queue figures }
 *   GET  /ready    -> 200 { ready: true } once the models are loaded, else 503
 *   GET  /models   -> PredictorInfo (task, classNames, dims, models)
 *   GET  /openapi.json -> the OpenAPI 3.1 document of all this (openapi.ts)
 * With a token, every route but /health, /ready (and the page's static files) needs
 * `Authorization: Bearer <token>`; CORS headers only for the `cors` origin.
 * Errors are JSON `{ error, message }`: 400 invalid request or malformed URL (the message says what
 * and where), 404, 405 (with Allow), 401 without the token, 413 body too large, 503 with
 * Retry-After (too many uploads at once, models loading, queue full, deadline passed), 500
 * predictor failure (details go to the log only). An upload the client abandons is logged as such,
 * in one line. Requests are data only: nothing in them is ever used as a file path.
 *
 * Everything here runs on the main thread and is cheap (receive, format; parse and validate small
 * bodies); large bodies are parsed and validated in a thread of their own (parse-thread.ts) and the
 * predictions run in worker threads when the predictor is a PredictorPool (pool.ts), so /health
 * and /models stay fast under load.
 *
 * Memory is bounded under hostile load: at most `maxConnections` sockets (more are refused by the
 * kernel-side accept), and at most `maxConcurrentBodies` request bodies buffered at once, so body
 * memory stays under maxConcurrentBodies x maxBodyBytes however many clients hold uploads open.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { excerpt, HardyError } from '../util/errors.ts';
import { VERSION } from '../util/version.ts';
import { openApiDocument } from './openapi.ts';
import { ServiceUnavailableError, type Predictor, type PredictorInfo } from './predictor.ts';
import { compileValidator, parseJsonBody, validatePredictRequest, DEFAULT_MAX_UTTERANCES } from './validate.ts';
import { BodyParser } from './parse-thread.ts';
import { schemaContext, type SchemaContext } from './schema.ts';

export interface ServerOptions {
  /** Default 127.0.0.1: loopback only unless told otherwise. */
  host?: string;
  /** 0 = a free port chosen by the OS. Default 8080. */
  port?: number;
  /** Largest accepted request body. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Most utterances in one request. Default 4096. */
  maxUtterances?: number;
  /** Most open connections; more are closed at once. Default 256. */
  maxConnections?: number;
  /** Most request bodies being received at once; more get 503 with Retry-After. Default 4. */
  maxConcurrentBodies?: number;
  /** How long close() waits for in-flight requests before cutting connections. Default 10 s. */
  shutdownGraceMs?: number;
  /** Idle keep-alive connection timeout. Default 65 s. */
  keepAliveTimeoutMs?: number;
  /** Where request failures and warnings are logged; default console.error. */
  log?: (line: string) => void;
  /** Require `Authorization: Bearer <token>` on every route that is not `open`. */
  token?: string;
  /** The one origin allowed to call from a browser page of another origin (CORS); none by default. */
  cors?: string;
  /** One JSON access line per request (time, method, route, status, ms, utterances). Default off. */
  logRequests?: boolean;
  /** Where access lines go; default stdout. */
  accessLog?: (line: string) => void;
  /** More routes (the web page's). */
  routes?: Record<string, Route>;
  /**
   * Request bodies of at least this many bytes are parsed and validated in a thread of their own
   * (parse-thread.ts), smaller ones on the main thread. Default 16 KiB; Infinity = all on the main thread.
   */
  parseThreadBytes?: number;
  /** Nice steps the body-parsing thread runs below the main thread (Linux), as the prediction workers do. Default 0. */
  workerNice?: number;
}

export interface RunningServer {
  server: http.Server;
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:43125 */
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), then closes. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 256;
export const DEFAULT_MAX_CONCURRENT_BODIES = 4;
/** A 50-utterance body of the demo run is 74 kB, a single utterance 1.5 kB (IEMOCAP's features: about 20 kB). */
export const DEFAULT_PARSE_THREAD_BYTES = 16 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** The client went away mid-upload: nobody to answer, one line in the log. */
class ClientAborted extends Error {
  constructor(readonly received: number) {
    super(`client aborted the upload after ${received} bytes`);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const raw = body instanceof RawBody;
  const data = raw ? body.body : status === 204 ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': raw ? body.contentType : 'application/json; charset=utf-8',
    'content-length': String(data.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(raw ? body.headers : {}),
    ...headers,
  });
  res.end(data);
}

/**
 * Reads the body up to `limit` bytes. Past the limit (or when Content-Length declares more) it
 * rejects at once, so the 413 goes out while the client is still writing, and keeps reading and
 * discarding the rest: closing the socket mid-upload would make most clients report a broken pipe
 * instead of the 413. A body beyond `4 * limit` (at least 64 MiB) has the socket cut.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooBig = () => reject(new HttpError(413, 'payload_too_large', `request body exceeds ${limit} bytes`));
    const cut = Math.max(4 * limit, 64 * 1024 * 1024);
    let size = 0;
    let chunks: Buffer[] | null = [];
    if (Number(req.headers['content-length']) > limit) {
      chunks = null;
      tooBig();
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (chunks && size > limit) {
        chunks = null;
        tooBig();
      }
      if (chunks) chunks.push(chunk);
      else if (size > cut) req.destroy();
    });
    req.on('end', () => (chunks ? resolve(Buffer.concat(chunks)) : tooBig()));
    // a reset mid-upload ('error' ECONNRESET "aborted", then 'close' without 'end') is the client leaving
    const aborted = () => {
      chunks = null;
      reject(new ClientAborted(size));
    };
    req.on('error', aborted);
    req.on('close', () => { if (!req.complete) aborted(); });
  });
}

/** A route's answer that is not JSON (the page's static files). */
export class RawBody {
  constructor(readonly contentType: string, readonly body: Buffer, readonly headers: Record<string, string> = {}) {}
}

/** What a handler may note for the access log. */
export interface RequestNote {
  utterances?: number;
}

type Handler = (req: http.IncomingMessage, note: RequestNote) => Promise<unknown> | unknown;

/** A route answers `methods`; `open` routes need no bearer token (liveness probes, the page's code). */
export interface Route {
  methods: Record<string, Handler>;
  open?: boolean;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Equal-time comparison, so the answer time does not tell how much of a guessed token was right. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

export function createServer(predictor: Predictor, opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxUtterances = opts.maxUtterances ?? DEFAULT_MAX_UTTERANCES;
  const log = opts.log ?? ((line: string) => console.error(line));
  const accessLog = opts.accessLog ?? ((line: string) => process.stdout.write(line + '\n'));
  const started = Date.now();
  const maxBodies = opts.maxConcurrentBodies ?? DEFAULT_MAX_CONCURRENT_BODIES;
  let inFlight = 0;
  let bodies = 0;
  let closing = false;
  let drained: (() => void) | null = null;
  const parseThreadBytes = opts.parseThreadBytes ?? DEFAULT_PARSE_THREAD_BYTES;
  const parser = parseThreadBytes < Infinity ? new BodyParser(opts.workerNice ?? 0) : undefined;
  if (!isLoopback(host) && !opts.token) {
    log(`hardy-mer serve: warning: listening on ${host} without a token: anyone who can reach it can use the models (set --token or HARDY_MER_TOKEN)`);
  }

  // The request schema of the loaded models. The main thread's validator is compiled at the first
  // request, whatever its size: were the large bodies that come first all parsed in the parsing
  // thread, the first small one would compile it, under load (a 130 ms stall in bench:serve).
  let validation: { info: PredictorInfo; ctx: SchemaContext } | undefined;
  function contextFor(info: PredictorInfo): SchemaContext {
    if (validation?.info !== info) {
      const ctx = schemaContext(info, maxUtterances);
      compileValidator(ctx);
      validation = { info, ctx };
    }
    return validation.ctx;
  }

  async function predict(req: http.IncomingMessage, note: RequestNote): Promise<unknown> {
    if (bodies >= maxBodies) {
      req.resume(); // discarded as it arrives, never buffered
      throw new HttpError(503, 'busy', `${maxBodies} requests are being received already; retry shortly`, { 'retry-after': '1', connection: 'close' });
    }
    bodies++;
    let raw: Buffer;
    try {
      raw = await readBody(req, maxBody);
    } finally {
      bodies--;
    }
    // Large bodies to the parsing thread once the models are loaded; before that the main thread's
    // path answers (400 for malformed JSON, else 503 'not_ready' from predictor.info()).
    const request =
      parser && raw.length >= parseThreadBytes && predictor.ready?.() !== false
        ? await parser.parse(raw, contextFor(predictor.info()))
        : validatePredictRequest(parseJsonBody(raw), contextFor(predictor.info()));
    note.utterances = request.dialogues.reduce((a, d) => a + d.utterances.length, 0);
    return predictor.predict(request);
  }

  let document: { info: PredictorInfo; doc: unknown } | undefined;
  const routes: Record<string, Route> = {
    '/predict': { methods: { POST: predict } },
    '/health': {
      open: true,
      methods: {
        GET: () => ({ status: closing ? 'closing' : 'ok', version: VERSION, inFlight, uptimeSeconds: (Date.now() - started) / 1000, ...predictor.stats?.(), ...(parser && { bodiesParsedInThread: parser.parsed }) }),
      },
    },
    '/ready': {
      open: true,
      methods: {
        GET: () => {
          if (predictor.ready && !predictor.ready()) throw new ServiceUnavailableError('not_ready', 'the models are still loading', 1);
          return { ready: true };
        },
      },
    },
    '/models': { methods: { GET: () => predictor.info() } },
    '/openapi.json': {
      methods: {
        GET: () => {
          const info = predictor.info();
          if (document?.info !== info) document = { info, doc: openApiDocument(info, { maxUtterances, maxBodyBytes: maxBody, auth: Boolean(opts.token), version: VERSION }) };
          return document.doc;
        },
      },
    },
    ...opts.routes,
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, note: RequestNote & { route?: string }): Promise<void> {
    const headers: Record<string, string> = {};
    if (opts.cors) Object.assign(headers, { 'access-control-allow-origin': opts.cors, vary: 'origin' });
    // Decided when the answer is sent: after close() every answer tells the client not to reuse the connection.
    const reply = (status: number, body: unknown) => send(res, status, body, closing ? { ...headers, connection: 'close' } : headers);
    try {
      let path: string;
      try {
        path = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        throw new HttpError(400, 'bad_url', `malformed request URL '${excerpt(req.url ?? '', 100)}'`);
      }
      const route = routes[path];
      if (!route) throw new HttpError(404, 'not_found', `no route ${path} (routes: ${Object.keys(routes).join(', ')})`);
      note.route = path;
      if (req.method === 'OPTIONS' && opts.cors) {
        // CORS preflight: only for the one allowed origin (--cors); without it browsers keep other origins out.
        Object.assign(headers, {
          'access-control-allow-methods': Object.keys(route.methods).join(', '),
          'access-control-allow-headers': 'authorization, content-type',
          'access-control-max-age': '600',
        });
        return reply(204, null);
      }
      const fn = route.methods[req.method ?? ''];
      if (!fn) {
        headers.allow = Object.keys(route.methods).join(', ');
        throw new HttpError(405, 'method_not_allowed', `${req.method} not allowed on ${path} (allowed: ${headers.allow})`);
      }
      if (opts.token && !route.open && !tokenMatches(req.headers.authorization, opts.token)) {
        headers['www-authenticate'] = 'Bearer';
        throw new HttpError(401, 'unauthorized', 'this server needs `Authorization: Bearer <token>` (the token given to hardy-mer serve)');
      }
      reply(200, await fn(req, note));
    } catch (err) {
      if (err instanceof ClientAborted) {
        log(`hardy-mer serve: ${req.method} ${excerpt(req.url ?? '', 100)}: ${err.message}`);
        res.destroy();
      } else if (err instanceof HttpError) {
        Object.assign(headers, err.headers);
        reply(err.status, { error: err.code, message: err.message });
      } else if (err instanceof ServiceUnavailableError) {
        headers['retry-after'] = String(err.retryAfterSeconds);
        reply(503, { error: err.code, message: err.message });
      } else if (err instanceof HardyError) {
        reply(400, { error: 'invalid_request', message: err.message });
      } else {
        log(`hardy-mer serve: ${req.method} ${excerpt(req.url ?? '', 100)} failed: ${(err as Error)?.stack ?? String(err)}`);
        reply(500, { error: 'internal_error', message: 'prediction failed; see the server log' });
      }
    }
  }

  const server = http.createServer((req, res) => {
    inFlight++;
    const t0 = performance.now();
    const note: RequestNote & { route?: string } = {};
    res.on('close', () => {
      inFlight--;
      if (opts.logRequests) {
        // One JSON line per request; the route, never the raw URL (it is the client's text).
        const line = { time: new Date().toISOString(), method: req.method, route: note.route ?? null, status: res.statusCode, ms: Math.round((performance.now() - t0) * 10) / 10, utterances: note.utterances ?? 0 };
        accessLog(JSON.stringify(line));
      }
      if (inFlight === 0 && drained) drained();
    });
    if (req.method !== 'POST') req.resume(); // discard any body a GET may carry
    void handle(req, res, note).catch((err) => {
      log(`hardy-mer serve: response failed: ${String(err)}`);
      res.destroy();
    });
  });
  server.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  // Longer than clients' idle timeouts (undici takes the server's hint minus 1 s), so a busy client
  // rarely reuses a socket at the moment the server closes it; close() ends idle sockets anyway.
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;

  let closed: Promise<void> | null = null;
  function close(): Promise<void> {
    closed ??= new Promise<void>((resolve) => {
      closing = true;
      server.close(() => resolve());
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), opts.shutdownGraceMs ?? 10_000);
      grace.unref();
      const finish = () => {
        clearTimeout(grace);
        // In-flight answers carried `connection: close`; cut whatever keep-alive sockets remain.
        server.closeAllConnections();
      };
      if (inFlight === 0) finish();
      else drained = finish;
    }).then(() => parser?.close());
    return closed;
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({ server, host, port, url: `http://${shown}:${port}`, close });
    });
  });
}

/** Wires SIGINT/SIGTERM to a graceful close (for `hardy-mer serve`); returns an unsubscribe. */
export function closeOnSignals(running: RunningServer, onClosed: () => void = () => process.exit(0)): () => void {
  const handler = () => void running.close().then(onClosed);
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
