/**
 * How a failed handler is retried: up to `maxAttempts` deliveries in total (1 = no retry),
 * waiting an exponentially growing, capped, jittered delay between them. Immutable value.
 */
export interface RetryPolicy {
  /** Deliveries in total, including the first (≥ 1). */
  readonly maxAttempts: number;
  /** Delay after the first failed attempt, in ms (≥ 0). */
  readonly initialDelayMs: number;
  /** Growth factor per attempt (≥ 1). */
  readonly multiplier: number;
  /** Cap on any delay, in ms (≥ initialDelayMs). Must not exceed the transport's `maxRetryDelayMs`. */
  readonly maxDelayMs: number;
  /** Fraction in [0, 1] of extra random delay added on top of the backoff (never subtracted). */
  readonly jitter: number;
}

/** Defaults: 5 attempts, 200 ms doubling up to 30 s, 20 % jitter. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  initialDelayMs: 200,
  multiplier: 2,
  maxDelayMs: 30_000,
  jitter: 0.2,
});

/**
 * The un-jittered backoff after attempt `attempt` (1-based) failed:
 * `min(maxDelayMs, initialDelayMs · multiplier^(attempt-1))`. This is the lower bound of
 * {@link computeRetryDelay}. Pure.
 */
export function baseRetryDelay(attempt: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, attempt - 1);
  const raw = policy.initialDelayMs * Math.pow(policy.multiplier, exponent);
  return Math.min(policy.maxDelayMs, Number.isFinite(raw) ? raw : policy.maxDelayMs);
}

/**
 * Delay before redelivering a message whose attempt `attempt` (1-based) just failed.
 *
 * Bounds (with `base` = {@link baseRetryDelay}): `base ≤ delay ≤ min(maxDelayMs, base · (1 + jitter))`.
 * Jitter only ever ADDS delay, so no attempt is scheduled earlier than its un-jittered backoff,
 * and the cap is absolute. Result is an integer (rounded up). Pure given `random`
 * (a function returning [0, 1), default `Math.random`).
 */
export function computeRetryDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const base = baseRetryDelay(attempt, policy);
  const r = Math.min(Math.max(random(), 0), 1);
  const jittered = base * (1 + policy.jitter * r);
  return Math.ceil(Math.min(policy.maxDelayMs, jittered));
}

/** Every problem with a (partial) policy as strings naming the field, or `[]`. Pure. */
export function retryPolicyProblems(policy: Partial<RetryPolicy>): string[] {
  const problems: string[] = [];
  const check = (field: keyof RetryPolicy, ok: (v: number) => boolean, rule: string): void => {
    const value = policy[field];
    if (value !== undefined && (typeof value !== 'number' || !ok(value))) {
      problems.push(`retry.${field} must be ${rule}, got ${String(value)}`);
    }
  };
  check('maxAttempts', (v) => Number.isInteger(v) && v >= 1, 'an integer ≥ 1');
  check('initialDelayMs', (v) => Number.isFinite(v) && v >= 0, 'a number ≥ 0');
  check('multiplier', (v) => Number.isFinite(v) && v >= 1, 'a number ≥ 1');
  check('maxDelayMs', (v) => Number.isFinite(v) && v >= 0, 'a number ≥ 0');
  check('jitter', (v) => Number.isFinite(v) && v >= 0 && v <= 1, 'a number in [0, 1]');
  if (
    problems.length === 0 &&
    policy.initialDelayMs !== undefined &&
    policy.maxDelayMs !== undefined &&
    policy.maxDelayMs < policy.initialDelayMs
  ) {
    problems.push(
      `retry.maxDelayMs (${String(policy.maxDelayMs)}) must be ≥ retry.initialDelayMs (${String(policy.initialDelayMs)})`,
    );
  }
  return problems;
}
