import { sleep as kitSleep, waitFor as kitWaitFor, withTimeout } from '@omnibus/core/adapter-kit';

export { WaitTimeoutError } from '@omnibus/core/adapter-kit';

/**
 * Poll `condition` (every `intervalMs`, default 5) until it returns true, or reject with a
 * `WaitTimeoutError` after `timeoutMs` ("timed out waiting for <description> within <n> ms",
 * then `detail()` to explain the state, e.g. which ids are missing). The condition may be async.
 * Leaves no timer behind. The adapter kit's `waitFor` with the suite's argument order.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  description: string,
  timeoutMs: number,
  options: { readonly intervalMs?: number; readonly detail?: () => string } = {},
): Promise<void> {
  await kitWaitFor(async () => ((await condition()) ? true : undefined), {
    timeoutMs,
    intervalMs: options.intervalMs ?? 5,
    message: `timed out waiting for ${description}`,
    ...(options.detail === undefined ? {} : { detail: options.detail }),
  });
}

/** Resolves after `ms` (never used as an assertion, only to pace or to bound a negative check). */
export async function sleep(ms: number): Promise<void> {
  await kitSleep(ms);
}

/** A promise with its resolve function exposed (handlers that block until the test releases them). */
export interface Gate {
  readonly promise: Promise<void>;
  readonly open: () => void;
  readonly isOpen: () => boolean;
}

/** Create a {@link Gate}. */
export function gate(): Gate {
  let opened = false;
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    promise,
    open: () => {
      opened = true;
      resolve();
    },
    isOpen: () => opened,
  };
}

/**
 * Race `promise` against a timeout: resolves with `{ settled: true, value }` or
 * `{ settled: false }` after `timeoutMs`. The timer is cleared either way (the adapter kit's
 * `withTimeout`).
 */
export const within = withTimeout;

/** Settle `promise` and report how: resolved value or rejection reason. */
export async function outcome<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}
