import { createInterface } from 'node:readline';

/** Where a command writes, what it reads, and how it asks for confirmation. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Write a line of output (stdout). */
  out(text: string): void;
  /** Write a line of diagnostics (stderr). */
  err(text: string): void;
  /** Ask a yes/no question; resolves false without an answer (no input, end of input). */
  confirm(question: string): Promise<boolean>;
  /** True when stderr is a terminal (progress bars redraw in place). */
  readonly interactive: boolean;
}

/** The process's own streams. Confirmation reads one line from stdin. */
export function processIo(): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    interactive: process.stderr.isTTY,
    confirm: (question) =>
      new Promise((resolve) => {
        process.stderr.write(`${question} [y/N] `);
        const lines = createInterface({ input: process.stdin });
        let answered = false;
        lines.once('line', (line) => {
          answered = true;
          if (!process.stdin.isTTY) process.stderr.write(`${line}\n`);
          lines.close();
          resolve(/^y(es)?$/i.test(line.trim()));
        });
        lines.once('close', () => {
          if (answered) return;
          process.stderr.write('(no answer)\n');
          resolve(false);
        });
      }),
  };
}
