/** Options of `EventBus.stopOnSignals`. */
export interface StopOnSignalsOptions {
  /** Signals to handle. Default `['SIGTERM', 'SIGINT']`. */
  readonly signals?: readonly NodeJS.Signals[];
  /** Drain budget passed to `stop()`. Default: the bus default (10 s). */
  readonly drainTimeoutMs?: number;
  /**
   * After stopping, re-raise the signal so the process terminates as it would have without
   * the hook (default true). With false, only the bus stops.
   */
  readonly exit?: boolean;
}

/**
 * Install one-shot signal listeners that call `stop`, then (optionally) re-raise the signal.
 * Returns a disposer removing the listeners (idempotent). Opt-in: nothing is installed unless
 * called.
 */
export function installSignalHandlers(
  stop: () => Promise<void>,
  options: StopOnSignalsOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const listeners = new Map<NodeJS.Signals, () => void>();
  const dispose = (): void => {
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
    listeners.clear();
  };
  for (const signal of signals) {
    const listener = (): void => {
      dispose();
      void stop().finally(() => {
        if (options.exit !== false) process.kill(process.pid, signal);
      });
    };
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
  return dispose;
}
