// A failure that names the broker and the step that failed; the CLI prints it with the log tail.
import { logFile } from './paths.mjs';
import { readFrom, tailFile } from './process-utils.mjs';

const ERROR_LINE = /\b(error|exception|fatal|failed|failure|BOOT FAILED)\b/i;

/** The first few error-looking lines the broker logged since byte `offset` (this run). */
function firstErrors(file, offset, max = 8) {
  if (offset === undefined) return [];
  const seen = new Set();
  for (const line of readFrom(file, offset).split('\n')) {
    if (ERROR_LINE.test(line) && !seen.has(line)) seen.add(line.slice(0, 300));
    if (seen.size >= max) break;
  }
  return [...seen];
}

export class BrokerError extends Error {
  /**
   * @param {string} broker
   * @param {string} step  human-readable name of the step that failed, e.g. "download jars (mvn)"
   * @param {string} message
   * @param {{ cause?: unknown, logLines?: number, noLog?: boolean, logOffset?: number }} [options]
   */
  constructor(broker, step, message, options = {}) {
    super(`${broker}: step "${step}" failed: ${message}`, { cause: options.cause });
    this.name = 'BrokerError';
    this.broker = broker;
    this.step = step;
    this.logFile = options.noLog ? undefined : logFile(broker);
    this.logTail = options.noLog ? '' : tailFile(logFile(broker), options.logLines ?? 30);
    this.errorLines = options.noLog ? [] : firstErrors(logFile(broker), options.logOffset);
  }

  /** Message plus the last lines of the broker's log, for humans. */
  report() {
    if (!this.logFile) return this.message;
    const tail = this.logTail.trimEnd() || '(log is empty)';
    const first = this.errorLines.length
      ? `\n--- first error lines of this run ---\n${this.errorLines.join('\n')}`
      : '';
    return `${this.message}${first}\n--- last lines of ${this.logFile} ---\n${tail}\n--- end of log ---`;
  }
}

/** Runs fn, turning any non-BrokerError into one that names the step. */
export async function step(broker, name, fn, logOffset) {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof BrokerError) throw error;
    throw new BrokerError(broker, name, error?.message ?? String(error), { cause: error, logOffset });
  }
}
