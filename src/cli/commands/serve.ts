/** `hardy-mer serve`: the HTTP JSON API over a run's models. */
import { Command } from 'commander';
import { HardyError } from '../../util/errors.ts';

export function register(program: Command): void {
  program
    .command('serve')
    .description('Serve a run over HTTP: POST /predict, GET /health, GET /models (JSON)')
    .requiredOption('--run <dir>', 'run folder written by `hardy-mer train`')
    .option('--port <n>', 'port (0 = any free port)', '8080')
    .option('--host <addr>', 'address to bind (loopback by default)', '127.0.0.1')
    .option('--max-body <bytes>', 'largest request body accepted', String(16 * 1024 * 1024))
    .option('--max-connections <n>', 'most open connections', '256')
    .option('--max-uploads <n>', 'most request bodies received at once (more get 503); memory for bodies stays under this x --max-body', '4')
    .action(async (opts: { run: string; port: string; host: string; maxBody: string; maxConnections: string; maxUploads: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new HardyError(`--port must be an integer in 0..65535, got '${opts.port}'`);
      const maxBodyBytes = Number(opts.maxBody);
      if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new HardyError(`--max-body must be a positive integer, got '${opts.maxBody}'`);
      const positive = (v: string, flag: string): number => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0 || n > 1e6) throw new HardyError(`${flag} must be an integer in 1..1000000, got '${v}'`);
        return n;
      };
      const maxConnections = positive(opts.maxConnections, '--max-connections');
      const maxConcurrentBodies = positive(opts.maxUploads, '--max-uploads');
      const { initEngine } = await import('../../engine/backend.ts');
      const { RunPredictor } = await import('../../serve/run-predictor.ts');
      const { closeOnSignals, createServer } = await import('../../serve/server.ts');
      await initEngine();
      const predictor = RunPredictor.load(opts.run);
      const running = await createServer(predictor, { host: opts.host, port, maxBodyBytes, maxConnections, maxConcurrentBodies });
      const conds = predictor.info().models.map((m) => m.condition).join(', ');
      // The first stdout line is machine-readable, so scripts (and tests) can find a random port.
      process.stdout.write(`listening ${running.url}\n`);
      process.stderr.write(`serving ${opts.run} (conditions ${conds}); Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => closeOnSignals(running, () => { predictor.dispose(); resolve(); }));
    });
}
