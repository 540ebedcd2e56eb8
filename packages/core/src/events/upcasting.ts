import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import { UnrecoverableError } from '../errors/unrecoverable-error.js';

/**
 * Converters from older payload versions of an event to the next one: the entry under `n`
 * turns a version-`n` payload into a version-`n + 1` payload. An event at version `v` needs
 * one entry for each of `1 … v - 1`. Converters are pure functions of the decoded payload;
 * they run before schema validation, so the schema only ever sees the current version.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Upcasters = Readonly<Record<number, (payload: any) => unknown>>;

/** Dead-letter code of a message whose payload could not be upcast (converter threw, unknown version). */
export const UPCAST_FAILED = 'UPCAST_FAILED';

/**
 * Check a definition's `version` and `upcasters`: the version is an integer ≥ 1 and every
 * version below it has a converter (and no other key is given). Pure.
 *
 * @throws OmnibusError `CONFIGURATION_INVALID` naming the event and every problem.
 */
export function assertValidUpcasting(name: string, version: unknown, upcasters: unknown): void {
  const problems: string[] = [];
  if (version !== undefined && (!Number.isInteger(version) || (version as number) < 1))
    problems.push(`version must be an integer ≥ 1, got ${JSON.stringify(version) ?? typeof version}`);
  if (upcasters !== undefined) {
    if (typeof upcasters !== 'object' || upcasters === null) {
      problems.push('upcasters must be an object of functions keyed by the version they convert from');
    } else if (version === undefined) {
      problems.push('upcasters need a version (the current payload version they convert to)');
    } else if (problems.length === 0) {
      const current = version as number;
      for (let from = 1; from < current; from += 1) {
        if (typeof (upcasters as Record<number, unknown>)[from] !== 'function')
          problems.push(`no upcaster from version ${String(from)} to ${String(from + 1)}`);
      }
      for (const key of Object.keys(upcasters)) {
        const from = Number(key);
        if (!Number.isInteger(from) || from < 1 || from >= current)
          problems.push(`upcaster key "${key}" is not a version below ${String(current)}`);
      }
    }
  }
  if (problems.length > 0)
    throw new OmnibusError(ErrorCodes.CONFIGURATION_INVALID, `event "${name}": ${problems.join('; ')}`);
}

/**
 * Convert a payload received at `fromVersion` (absent on the wire: version 1, a producer that
 * predates versioning) to `current` by running each converter in turn. Returns the payload
 * unchanged when it is already current.
 *
 * @throws UnrecoverableError `UPCAST_FAILED` when the message is newer than this consumer knows,
 * its version is not a positive integer, or a converter throws — retrying cannot help, so the
 * router dead-letters it with the reason.
 */
export function upcastPayload(
  name: string,
  current: number,
  upcasters: Upcasters | undefined,
  fromVersion: number | undefined,
  payload: unknown,
): unknown {
  const from = fromVersion ?? 1;
  if (from === current) return payload;
  if (!Number.isInteger(from) || from < 1)
    throw new UnrecoverableError(`payload of ${name} carries an invalid version ${String(from)}`, {
      code: UPCAST_FAILED,
    });
  if (from > current)
    throw new UnrecoverableError(
      `payload of ${name} is version ${String(from)}, newer than this consumer's version ${String(current)} (upgrade the consumer, then replay the dead letter)`,
      { code: UPCAST_FAILED },
    );
  let value = payload;
  for (let version = from; version < current; version += 1) {
    const convert = upcasters?.[version];
    if (convert === undefined)
      throw new UnrecoverableError(`payload of ${name}: no upcaster from version ${String(version)}`, {
        code: UPCAST_FAILED,
      });
    try {
      value = convert(value);
    } catch (error) {
      throw new UnrecoverableError(
        `payload of ${name}: upcaster from version ${String(version)} threw: ${error instanceof Error ? error.message : String(error)}`,
        { code: UPCAST_FAILED, cause: error },
      );
    }
  }
  return value;
}
