/**
 * Progress on stderr: one line per cell, live-updated when stderr is a terminal (otherwise a
 * line at start, every 5 s, and at the end), with the overall step count and elapsed time.
 */
export class Progress {
  readonly #tty = process.stderr.isTTY;
  readonly #started = Date.now();
  #step = 0;
  #total = 0;
  #label = '';
  #cellStart = 0;
  #lastLine = 0;
  #timer: NodeJS.Timeout | undefined;
  #status: () => string = () => '';

  /** Set the planned number of cells (for "[n/total]"). */
  plan(total: number): void {
    this.#total = total;
  }

  /** Add to the planned number of cells. */
  extend(extra: number): void {
    this.#total += extra;
  }

  /** Start a cell; `status` is polled for the live part (e.g. "12,345/20,000 msgs"). */
  begin(label: string, status: () => string = () => ''): void {
    this.#step += 1;
    this.#label = label;
    this.#status = status;
    this.#cellStart = Date.now();
    this.#lastLine = 0;
    this.#render(false);
    this.#timer = setInterval(() => this.#render(false), this.#tty ? 250 : 5000);
    this.#timer.unref();
  }

  /** Finish the current cell with a one-line result. */
  end(result: string): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#status = () => result;
    this.#render(true);
  }

  /** A free-standing note (brokers, skipped parts). */
  note(text: string): void {
    if (this.#tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(`${text}\n`);
  }

  #render(final: boolean): void {
    const elapsed = formatDuration(Date.now() - this.#started);
    const cell = ((Date.now() - this.#cellStart) / 1000).toFixed(1);
    const total = this.#total > 0 ? `/${String(this.#total)}` : '';
    const line = `[${String(this.#step)}${total} ${elapsed}] ${this.#label} ${this.#status()} (${cell} s)`;
    if (this.#tty) {
      process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 120) - 1)}${final ? '\n' : ''}`);
      return;
    }
    if (final || this.#lastLine === 0 || Date.now() - this.#lastLine >= 5000) {
      process.stderr.write(`${line}\n`);
      this.#lastLine = Date.now();
    }
  }
}

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${String(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${String(m)}m${String(s % 60).padStart(2, '0')}s`;
  return `${String(Math.floor(m / 60))}h${String(m % 60).padStart(2, '0')}m`;
}
