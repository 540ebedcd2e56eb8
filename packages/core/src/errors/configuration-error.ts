import { ErrorCodes, type ErrorCode } from './error-codes.js';
import { OmnibusError } from './omnibus-error.js';

/** One problem found while validating a bus configuration. */
export interface ConfigurationProblem {
  /** What kind of problem: `TRANSPORT_UNKNOWN`, `CAPABILITY_MISSING`, `HANDLER_DUPLICATE`, `HANDLER_INVALID`, `EVENT_UNKNOWN`, `CONFIGURATION_INVALID`. */
  readonly code: ErrorCode;
  /** What is wrong. */
  readonly problem: string;
  /** How to fix it. */
  readonly fix: string;
}

/**
 * The single error a bus throws at start when its configuration is invalid: code
 * `CONFIGURATION_INVALID`, a message listing every problem with its fix, and the structured
 * {@link problems}. Not retriable.
 */
export class ConfigurationError extends OmnibusError {
  /** Every problem found (never empty). */
  readonly problems: readonly ConfigurationProblem[];

  constructor(problems: readonly ConfigurationProblem[]) {
    const lines = problems.map((p, i) => `  ${String(i + 1)}. [${p.code}] ${p.problem}\n     fix: ${p.fix}`);
    super(
      ErrorCodes.CONFIGURATION_INVALID,
      `Omnibus configuration is invalid (${String(problems.length)} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    );
    this.problems = problems;
  }
}

/** Collects {@link ConfigurationProblem}s, then throws them all at once. Not thread-safe. */
export class ConfigurationProblems {
  readonly #problems: ConfigurationProblem[] = [];

  /** Record a problem. */
  add(code: ErrorCode, problem: string, fix: string): void {
    this.#problems.push({ code, problem, fix });
  }

  /** Problems so far. */
  get list(): readonly ConfigurationProblem[] {
    return this.#problems;
  }

  /** Throw one {@link ConfigurationError} when any problem was recorded. */
  throwIfAny(): void {
    if (this.#problems.length > 0) throw new ConfigurationError([...this.#problems]);
  }
}
