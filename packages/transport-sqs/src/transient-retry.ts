import { isTransientSqsError } from './sqs-error-mapper.js';

/**
 * Run `operation`, retrying it with backoff (200 ms doubling to 2 s) while it fails with a
 * transient error (network, throttling, 5xx) and `windowMs` has not passed since the first
 * try; then the last error is thrown. Other errors are thrown at once. For settlement calls,
 * whose receipt handles stay valid while the server restarts.
 */
export async function withTransientRetry<T>(operation: () => Promise<T>, windowMs: number): Promise<T> {
  const deadline = Date.now() + windowMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      const wait = Math.min(2000, 200 * 2 ** (attempt - 1));
      if (!isTransientSqsError(error) || Date.now() + wait > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
