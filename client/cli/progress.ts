/**
 * A one-line progress bar on stderr for `runnel produce`: shown only when enabled (stderr is a terminal),
 * only once the run has lasted PROGRESS_DELAY_MS (small inputs print nothing but the final count), and
 * redrawn at most every REDRAW_MS. With a known input size it shows a bar and a percentage, otherwise
 * the counts and the rate.
 */
import { count } from './common.js';

const PROGRESS_DELAY_MS = 500;
const REDRAW_MS = 100;
const WIDTH = 30;

export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly enabled: boolean,
    private readonly totalBytes?: number,
  ) {}

  update(bytes: number, sent: number, acked: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.started < PROGRESS_DELAY_MS || now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.drawn = true;
    process.stderr.write(`\r${render(now - this.started, bytes, sent, acked, this.totalBytes)}\x1b[K`);
  }

  /** Clear the bar (the caller prints the final count). */
  done(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
  }
}

export function render(elapsedMs: number, bytes: number, sent: number, acked: number, totalBytes?: number): string {
  const secs = Math.max(elapsedMs / 1000, 0.001);
  const rate = `${count(Math.round(sent / secs))} rec/s, ${(bytes / secs / 1048576).toFixed(1)} MiB/s`;
  const counts = `${count(sent)} sent, ${count(acked)} acked`;
  if (!totalBytes) return `${counts}  ${rate}`;
  const frac = Math.min(1, bytes / totalBytes);
  const fill = Math.round(frac * WIDTH);
  return `[${'#'.repeat(fill)}${'.'.repeat(WIDTH - fill)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${counts}  ${rate}`;
}
