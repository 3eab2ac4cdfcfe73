/**
 * Training progress on stderr: on a TTY one redrawn line with a bar, the running loss and an ETA;
 * otherwise (pipes, CI, logs) one plain line per finished epoch. NO_COLOR disables colour.
 */
export interface ProgressOptions {
  /** Default: process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Print nothing at all. */
  quiet?: boolean;
}

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s)) return '--';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`;
};

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly color: boolean;
  private readonly quiet: boolean;
  private readonly started = Date.now();
  private epochStart = Date.now();
  private stepsDone = 0;
  private lossSum = 0;
  private lossN = 0;
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly totalEpochs: number,
    private readonly firstEpoch: number,
    opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.quiet = opts.quiet ?? false;
    this.tty = Boolean(this.stream.isTTY);
    this.color = this.tty && !process.env.NO_COLOR;
  }

  startEpoch(): void {
    this.epochStart = Date.now();
    this.lossSum = 0;
    this.lossN = 0;
  }

  /** After each optimiser step of the epoch `epoch` (0-based), `batch` of `batches` done. */
  step(epoch: number, batch: number, batches: number, loss: number): void {
    this.lossSum += loss;
    this.lossN++;
    if (this.quiet || !this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && batch < batches) return;
    this.lastDraw = now;
    const frac = (epoch - this.firstEpoch + batch / batches) / (this.totalEpochs - this.firstEpoch);
    const elapsed = (now - this.started) / 1000;
    const eta = frac > 0 ? (elapsed / frac) * (1 - frac) : Infinity;
    const width = 24;
    const filled = Math.round(Math.min(1, frac) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const paint = (s: string): string => (this.color ? `\x1b[36m${s}\x1b[0m` : s);
    this.stream.write(
      `\r${this.label} [${paint(bar)}] epoch ${epoch + 1}/${this.totalEpochs} batch ${batch}/${batches} loss ${this.runningLoss().toFixed(4)} ETA ${fmtTime(eta)}\x1b[K`,
    );
  }

  runningLoss(): number {
    return this.lossN ? this.lossSum / this.lossN : NaN;
  }

  /** End of an epoch: a summary line (both modes). */
  endEpoch(epoch: number, summary: string): void {
    if (this.quiet) return;
    const secs = (Date.now() - this.epochStart) / 1000;
    const line = `${this.label} epoch ${epoch + 1}/${this.totalEpochs} loss ${this.runningLoss().toFixed(4)} ${summary} (${secs.toFixed(1)}s)`;
    this.stream.write(this.tty ? `\r${line}\x1b[K\n` : line + '\n');
  }
}
