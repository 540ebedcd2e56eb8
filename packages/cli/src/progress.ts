import type { CliIo } from './cli-io.js';

const WIDTH = 30;

/**
 * A progress bar on stderr: redrawn in place on a terminal, otherwise one line per 10 %
 * (so logs stay short). `done()` ends the line.
 */
export function progressBar(
  io: CliIo,
  total: number,
  label: string,
): { update(done: number): void; done(): void } {
  let lastDecile = -1;
  let last = 0;
  const render = (done: number): string => {
    const filled = total === 0 ? WIDTH : Math.round((done / total) * WIDTH);
    return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(done)}/${String(total)} ${label}`;
  };
  return {
    update(done) {
      last = done;
      if (io.interactive) {
        process.stderr.write(`\r${render(done)}`);
        return;
      }
      const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        io.err(render(done));
      }
    },
    done() {
      if (io.interactive) process.stderr.write(`\r${render(last)}\n`);
    },
  };
}
