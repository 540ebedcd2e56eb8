import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';

const NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/** Longest accepted event, destination or group name. */
export const MAX_NAME_LENGTH = 200;

/**
 * Problem with a name (event, destination, group), or `undefined` when it is valid: non-empty,
 * at most {@link MAX_NAME_LENGTH} characters of `[A-Za-z0-9._-]`, so it is legal on every broker.
 * Pure.
 */
export function nameProblem(kind: string, name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '')
    return `${kind} must be a non-empty string, got ${JSON.stringify(name) ?? String(name)}`;
  if (name.length > MAX_NAME_LENGTH)
    return `${kind} "${name.slice(0, 40)}…" is longer than ${String(MAX_NAME_LENGTH)} characters`;
  if (!NAME_PATTERN.test(name)) return `${kind} "${name}" may only contain letters, digits, '.', '_' and '-'`;
  return undefined;
}

/** Throw a CONFIGURATION_INVALID {@link OmnibusError} when {@link nameProblem} finds one. */
export function assertValidName(kind: string, name: unknown): asserts name is string {
  const problem = nameProblem(kind, name);
  if (problem !== undefined) throw new OmnibusError(ErrorCodes.CONFIGURATION_INVALID, problem);
}
