import { setTimeout as sleepTimer } from 'node:timers/promises';

/** Thrown by {@link waitFor} when the condition did not hold in time. */
export class WaitTimeoutError extends Error {
  constructor(description: string, timeoutMs: number, detail?: string) {
    super(
      `timed out after ${String(timeoutMs)} ms waiting for ${description}${detail === undefined ? '' : `: ${detail}`}`,
    );
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Poll `condition` (every `intervalMs`) until it returns true, or reject with a
 * {@link WaitTimeoutError} after `timeoutMs`. The condition may be async. `detail` is called on
 * timeout to explain the state (e.g. which ids are missing). Leaves no timer behind.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  description: string,
  timeoutMs: number,
  options: { readonly intervalMs?: number; readonly detail?: () => string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const interval = options.intervalMs ?? 5;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new WaitTimeoutError(description, timeoutMs, options.detail?.());
    await sleepTimer(interval);
  }
}

/** Resolves after `ms` (never used as an assertion, only to pace or to bound a negative check). */
export function sleep(ms: number): Promise<void> {
  return sleepTimer(ms).then(() => undefined);
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
 * `{ settled: false }` after `timeoutMs`. The timer is cleared either way.
 */
export async function within<T>(
  promise: Promise<T>,
  timeoutMs: number,
): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ settled: false }>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), timeoutMs);
  });
  try {
    return await Promise.race([promise.then((value) => ({ settled: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

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
