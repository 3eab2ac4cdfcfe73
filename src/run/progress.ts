/**
 * One progress display for a whole run, however it is executed (one process, a pool, a queue):
 * units done of total, the jobs running, and an ETA from the units finished so far in this
 * session (finished work of earlier sessions does not tell how fast this one goes). On a TTY one
 * redrawn line; otherwise (pipes, CI, logs) one line per job started or finished.
 */
import type { RunJob } from './graph.ts';

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s)) return '--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
};

export class RunProgress {
  private readonly started = Date.now();
  private readonly running = new Map<string, string>();
  private doneUnits: number;
  private doneHere = 0;
  private readonly tty: boolean;

  constructor(
    private readonly totalUnits: number,
    doneUnits: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.doneUnits = doneUnits;
    this.tty = Boolean(stream.isTTY);
  }

  /** Units done of total, the running jobs and the ETA, as one line. */
  status(): string {
    const elapsed = (Date.now() - this.started) / 1000;
    const left = this.totalUnits - this.doneUnits;
    const eta = this.doneHere > 0 ? (elapsed / this.doneHere) * left : Infinity;
    const jobs = [...this.running.entries()].map(([id, where]) => (where ? `${id} (${where})` : id));
    return `units ${this.doneUnits}/${this.totalUnits}, running ${jobs.length}${jobs.length ? `: ${jobs.join(', ')}` : ''}; elapsed ${fmtTime(elapsed)}, ETA ${left === 0 ? '0s' : fmtTime(eta)}`;
  }

  /** `where`: what runs it (a pool process, a queue worker), shown with the job. */
  start(job: RunJob, where = ''): void {
    this.running.set(job.id, where);
    this.draw(`started ${job.id}${where ? ` on ${where}` : ''}`);
  }

  done(job: RunJob, line?: string): void {
    this.running.delete(job.id);
    if (job.kind === 'unit') {
      this.doneUnits++;
      this.doneHere++;
    }
    this.draw(line ?? `done ${job.id}`);
  }

  /** A job that stopped without finishing (its worker died; it runs again elsewhere). */
  stopped(job: RunJob, why: string): void {
    this.running.delete(job.id);
    this.draw(`${job.id}: ${why}`);
  }

  private draw(event: string): void {
    if (this.tty) this.stream.write(`\r\x1b[K${event}\n${this.status()}`);
    else this.stream.write(`${event}\n${this.status()}\n`);
  }

  /** Ends the redrawn line (TTY). */
  close(): void {
    if (this.tty) this.stream.write('\n');
  }
}
