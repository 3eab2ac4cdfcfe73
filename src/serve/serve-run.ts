/**
 * A run folder served as `hardy-mer serve` serves it, for the command line and the library's
 * `serve()`: the predictions in a PredictorPool of worker threads, the web page's routes (unless
 * `page: false`), the HTTP server over both. The server listens at once; `ready` settles when every
 * worker has loaded the models (GET /ready turns 200), or rejects with the loader's message after
 * closing the server.
 */
import { PredictorPool, type PoolOptions } from './pool.ts';
import { MODULE_EXT } from './threads.ts';
import type { Predictor } from './predictor.ts';
import { createServer, type Route, type RunningServer, type ServerOptions } from './server.ts';

export interface ServeOptions extends Omit<ServerOptions, 'routes'>, Omit<PoolOptions, 'log'> {
  /** The web page at GET / (default true). */
  page?: boolean;
}

export interface ServingRun extends RunningServer {
  pool: PredictorPool;
  /** Settles once the models are loaded (rejects, the server closed, when they cannot be). */
  ready: Promise<void>;
}

export async function serveRun(runDir: string, o: ServeOptions = {}): Promise<ServingRun> {
  const pool = new PredictorPool({ module: new URL(`./run-predictor${MODULE_EXT}`, import.meta.url).href, options: { runDir } }, { ...o, log: o.log });
  let served: Predictor = pool;
  let routes: Record<string, Route> | undefined;
  try {
    if (o.page !== false) {
      // Bundled (from the sources) while the workers load the models.
      const { runPage, withNeighbourLabels } = await import('./page-server.ts');
      const { pageFiles } = await import('./page-bundle.ts');
      const page = runPage({ runDir, files: await pageFiles() });
      routes = page.routes;
      served = withNeighbourLabels(pool, page.labelOf);
    }
  } catch (err) {
    await pool.close();
    throw err;
  }
  const running = await createServer(served, { ...o, routes }).catch(async (err) => {
    await pool.close();
    throw err;
  });
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= running.close().then(() => pool.close()));
  const ready = pool.start().catch(async (err) => {
    await close();
    throw err;
  });
  ready.catch(() => {}); // reported to whoever awaits it
  return { ...running, close, pool, ready };
}
