// The seeded generator is core's (shared with the idempotency harness); re-exported for the cases.
export { seededRandom, type SeededRandom } from '@omnibus/core/testing';

/**
 * A whole number from the environment variable `name`, or `fallback` when unset or empty.
 * Throws a RangeError naming the variable when it is set to anything else.
 */
export function numberFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a whole number ≥ 0, got "${text}"`);
  return value;
}
