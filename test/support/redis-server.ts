// A real redis-server for the queue tests (Debian's package; .ci/run installs it): on a free
// loopback port, with its files in a temporary folder, stopped by `stop()`. Without the binary the
// tests skip, except in CI (CI=true or HARDY_MER_REQUIRE_REDIS=1), where they fail instead.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REDIS_SERVER = process.env.HARDY_MER_REDIS_SERVER ?? '/usr/bin/redis-server';
const required = process.env.CI === 'true' || process.env.HARDY_MER_REQUIRE_REDIS === '1';

/** Why the queue tests cannot run here (undefined: they can); throws where they must run. */
export function redisMissing(): string | undefined {
  const r = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = `${REDIS_SERVER} not runnable (${r.error?.message ?? r.stderr}); install Debian's redis-server`;
  if (required) throw new Error(`${why}: required in CI`);
  return why;
}

/** A port nothing listens on right now (the OS picks it; a tiny race with other processes remains). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  await new Promise((res) => srv.close(res));
  return port;
}

export interface RedisHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(opts: { password?: string } = {}): Promise<RedisHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'hardy-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
  if (opts.password) args.push('--requirepass', opts.password);
  const proc: ChildProcess = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
  const url = `redis://${opts.password ? `:${encodeURIComponent(opts.password)}@` : ''}127.0.0.1:${port}`;
  const { Redis } = await import('ioredis');
  for (let i = 0; ; i++) {
    const c = new Redis({ host: '127.0.0.1', port, password: opts.password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      break;
    } catch (err) {
      c.disconnect();
      if (i > 100 || proc.exitCode !== null) throw new Error(`redis-server on port ${port} did not start: ${(err as Error).message}`);
      await sleep(50);
    }
  }
  return {
    url,
    port,
    stop: async () => {
      if (proc.exitCode === null) {
        const gone = new Promise((res) => proc.once('exit', res));
        proc.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
