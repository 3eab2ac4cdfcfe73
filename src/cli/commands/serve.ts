/** `hardy-mer serve`: the HTTP JSON API over a run's models, predictions in worker threads. */
import { Command } from 'commander';
import { HardyError } from '../../util/errors.ts';

const TOKEN_ENV = 'HARDY_MER_TOKEN';

/** An integer flag in min..max (the upper bound keeps a typo from allocating the machine away). */
const int = (s: string, flag: string, min: number, max = 1e6): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) throw new HardyError(`${flag} must be an integer in ${min}..${max}, got '${s}'`);
  return n;
};

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve a run over HTTP: POST /predict, GET /health, /ready, /models (JSON)')
    .requiredOption('--run <dir>', 'run folder written by `hardy-mer train`')
    .option('--port <n>', 'port (0 = any free port)', '8080')
    .option('--host <addr>', 'address to bind (loopback by default)', '127.0.0.1')
    .option('--max-body <bytes>', 'largest request body accepted', String(16 * 1024 * 1024))
    .option('--max-connections <n>', 'most open connections', '256')
    .option('--max-uploads <n>', 'most request bodies received at once (more get 503); memory for bodies stays under this x --max-body', '4')
    .option('--workers <n>', 'prediction worker threads, each with its own copy of the models', '1')
    .option('--batch-max <n>', 'most utterances merged into one prediction call', '64')
    .option('--batch-delay-ms <ms>', 'how long a lone request waits for others to batch with', '0')
    .option('--queue-max <n>', 'most utterances waiting for a worker; beyond it 503 with Retry-After', '8192')
    .option('--timeout-ms <ms>', 'a request not answered within this gets 503', '30000')
    .option('--worker-nice <n>', 'nice steps the prediction and body-parsing threads run below the main thread (Linux; 0 = off: on a shared machine it starves them)', '0')
    .option('--token <token>', `require "Authorization: Bearer <token>" (default: env ${TOKEN_ENV})`)
    .option('--cors <origin>', 'allow browser pages of this origin to call the API (CORS); off by default')
    .option('--log-requests', 'one JSON access line per request on stdout (method, route, status, ms, utterances)')
    .option('--no-page', 'no web page at GET / (the JSON API only)')
    .action(async (opts: { run: string; port: string; host: string; maxBody: string; maxConnections: string; maxUploads: string; workers: string; batchMax: string; batchDelayMs: string; queueMax: string; timeoutMs: string; workerNice: string; token?: string; cors?: string; logRequests?: boolean; page: boolean }) => {
      const port = int(opts.port, '--port', 0, 65535);
      const maxBodyBytes = int(opts.maxBody, '--max-body', 1, Number.MAX_SAFE_INTEGER);
      const maxConnections = int(opts.maxConnections, '--max-connections', 1);
      const maxConcurrentBodies = int(opts.maxUploads, '--max-uploads', 1);
      const pool = {
        workers: int(opts.workers, '--workers', 1, 64),
        maxBatchUtterances: int(opts.batchMax, '--batch-max', 1),
        batchDelayMs: int(opts.batchDelayMs, '--batch-delay-ms', 0, 60_000),
        maxQueueUtterances: int(opts.queueMax, '--queue-max', 1),
        timeoutMs: int(opts.timeoutMs, '--timeout-ms', 1, 3_600_000),
        workerNice: int(opts.workerNice, '--worker-nice', 0, 19),
      };
      const { serveRun } = await import('../../serve/serve-run.ts');
      const { closeOnSignals } = await import('../../serve/server.ts');
      const token = opts.token ?? (process.env[TOKEN_ENV] || undefined);
      const running = await serveRun(opts.run, {
        ...pool, host: opts.host, port, maxBodyBytes, maxConnections, maxConcurrentBodies, token, cors: opts.cors, logRequests: opts.logRequests, page: opts.page,
      });
      // The first stdout line is machine-readable, so scripts (and tests) can find a random port.
      process.stdout.write(`listening ${running.url}\n`);
      const stopped = new Promise<void>((resolve) => closeOnSignals(running, resolve));
      await running.ready; // a run that cannot be loaded stops the server with the loader's message
      const conds = running.pool.info().models.map((m) => m.condition).join(', ');
      process.stderr.write(`ready: serving ${opts.run} (conditions ${conds}) with ${pool.workers} worker thread(s)${opts.page ? `; the page: ${running.url}/` : ''}; Ctrl-C to stop\n`);
      await stopped;
    });
}
