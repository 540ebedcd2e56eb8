import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** What {@link startAgainstUnreachableBroker} observed. */
export interface UnreachableStartResult {
  /** Exit code of the script (1 when start() rejected: an unhandled top-level rejection). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the whole script, ms (process start to exit). */
  readonly elapsedMs: number;
}

/**
 * Runs, in a child process, the plainest application there is — a top-level-await ES module that
 * does `createEventBus({ ...loadConfigFromEnv(), handlers })` then `await bus.start()` — with the
 * given `OMNIBUS_*` environment pointing the transport at an address where nothing listens.
 * An adapter's tests assert on the result that start-up fails loudly (a typed error on stderr,
 * non-zero exit) and within the transport's documented connect timeout, never by exiting
 * silently. `cwd` must resolve `@omnibus/core` and the adapter package.
 */
export function startAgainstUnreachableBroker(
  env: Readonly<Record<string, string>>,
  options: { readonly cwd: string | URL; readonly killAfterMs?: number },
): UnreachableStartResult {
  const script = `
    import { createEventBus, defineEvent, EventHandler, loadConfigFromEnv } from '@omnibus/core';
    const Ping = defineEvent('contract.start-up.v1');
    class Pong { handle() {} }
    EventHandler(Ping, { group: 'start-up' })(Pong.prototype, 'handle', {});
    const bus = createEventBus({ ...loadConfigFromEnv(), handlers: [Pong] });
    await bus.start();
    console.log('started');
    await bus.stop();`;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('OMNIBUS_')),
  );
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: options.cwd,
    env: { ...inherited, ...env },
    encoding: 'utf8',
    timeout: options.killAfterMs ?? 90_000,
  });
  return {
    status: child.status,
    stdout: child.stdout,
    stderr: child.stderr,
    elapsedMs: performance.now() - started,
  };
}

/** Starting Node and importing an SDK on a loaded machine, on top of the connect timeout. */
const PROCESS_OVERHEAD_MS = 5_000;

/**
 * Registers the mocha case every adapter runs: with `env` pointing the transport at a closed
 * port, a top-level-await `bus.start()` rejects with `CONNECTION_FAILED` (non-zero exit, the
 * typed error on stderr, nothing printed as started) within `connectTimeoutMs` (the documented
 * default) plus process start-up — never exiting silently, never hanging.
 */
export function describeStartUpFailure(options: {
  readonly transport: string;
  readonly env: Readonly<Record<string, string>>;
  readonly connectTimeoutMs: number;
  readonly cwd: string | URL;
}): void {
  describe(`${options.transport} start-up with the broker unreachable`, () => {
    it('a top-level-await bus.start() rejects with CONNECTION_FAILED within the connect timeout, never exiting silently', function () {
      this.timeout(options.connectTimeoutMs + 60_000);
      const result = startAgainstUnreachableBroker(
        { OMNIBUS_TRANSPORT: options.transport, ...options.env },
        { cwd: options.cwd },
      );
      expect(result.stdout, 'nothing started').to.equal('');
      expect(result.status, `exit code (13 = start() never settled); stderr: ${result.stderr}`).to.equal(1);
      expect(result.stderr).to.contain("code: 'CONNECTION_FAILED'");
      expect(result.elapsedMs, 'start-up failure time, ms').to.be.below(
        options.connectTimeoutMs + PROCESS_OVERHEAD_MS,
      );
    });
  });
}
