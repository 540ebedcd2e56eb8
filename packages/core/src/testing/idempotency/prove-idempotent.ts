import { isDeepStrictEqual } from 'node:util';
import { createEventBus } from '../../bus/create-event-bus.js';
import type { EventBus } from '../../bus/event-bus.js';
import type { EventBusConfig } from '../../bus/event-bus-config.js';
import { AdversaryTransport, type ScheduledDelivery } from './adversary-transport.js';
import { IdempotencyViolation } from './idempotency-violation.js';
import {
  CLEAN,
  randomDecisions,
  replay,
  type Decision,
  type DecisionSource,
  type FaultKind,
} from './schedule.js';

/** One fresh instance of the application under test. */
export interface IdempotencyApp<S> {
  /** The bus configuration: handlers, resolver, events, middleware… (the transport is the harness's). */
  readonly config: Omit<EventBusConfig, 'transport' | 'transports' | 'routes'>;
  /** Called with the run's bus before it starts: bind it where handlers get it (DI container). */
  bind?(bus: EventBus): void;
  /** The application's state after a run, compared with `isDeepStrictEqual` (sort what has no order). */
  state(): S | Promise<S>;
  /** Release what the instance holds (called after each run, also a failed one). */
  dispose?(): void | Promise<void>;
}

/** Options of {@link proveIdempotent}. */
export interface ProveIdempotentOptions<S> {
  /** A fresh application for every run: state must not leak from one run to the next. */
  readonly app: () => IdempotencyApp<S> | Promise<IdempotencyApp<S>>;
  /** Publish the run's input (in order) through the started bus. */
  readonly input: (bus: EventBus) => Promise<void>;
  /** Seed of the first schedule; schedule `n` uses `seed + n`. Default 1. */
  readonly seed?: number;
  /** How many adversarial schedules to try. Default 50. */
  readonly schedules?: number;
  /** Share of deliveries given a fault (0–1). Default 0.3. */
  readonly faultRate?: number;
  /** Deliveries allowed per run before it is declared a loop. Default 10 000. */
  readonly maxSteps?: number;
}

/** What {@link proveIdempotent} checked. */
export interface IdempotencyReport {
  /** Adversarial schedules run (the clean run not counted). */
  readonly schedules: number;
  /** Deliveries made over all schedules. */
  readonly deliveries: number;
  /** Faults applied over all schedules, by kind. */
  readonly faults: Readonly<Record<Exclude<FaultKind, 'none'>, number>>;
  /** Deliveries made to other than the oldest deliverable message (reorderings across keys). */
  readonly reordered: number;
}

interface RunResult<S> {
  readonly state: S;
  readonly deliveries: readonly ScheduledDelivery[];
  readonly decisions: readonly Decision[];
}

/**
 * Check that an application's real handlers survive at-least-once delivery. Runs the
 * application once cleanly (every message delivered once, in publication order), then under
 * `schedules` seeded adversarial schedules that stay within the delivery contract — duplicates,
 * redelivery after partial effects (a crash at one of the handler's publishes), a crash after
 * the handler but before the ack, reordering across partition keys and groups but never within
 * one key — and compares the application's state after each with the clean run's. A failing
 * schedule is shrunk to a minimal one (fewest deliveries, faults and reorderings that still
 * fail) and reported.
 *
 * Each run builds a fresh application (`app`) and bus on the harness's transport, publishes the
 * `input`, delivers until nothing waits, stops the bus and reads the state. Deterministic for a
 * given seed as long as the handlers are; retry delays are not waited. Faults hit each message
 * at most once per group, on top of the handler's own failures: a handler that needs its very
 * last retry attempt may be dead-lettered in a faulty run.
 * @throws IdempotencyViolation with the minimal schedule and both states when they differ.
 */
export async function proveIdempotent<S>(options: ProveIdempotentOptions<S>): Promise<IdempotencyReport> {
  const seed = options.seed ?? 1;
  const schedules = options.schedules ?? 50;
  const faultRate = options.faultRate ?? 0.3;
  const maxSteps = options.maxSteps ?? 10_000;
  const runWith = (source: DecisionSource): Promise<RunResult<S>> => runOnce(options, source, maxSteps);
  const clean = await runWith(replay([]));
  const faults = { duplicate: 0, 'ack-lost': 0, crash: 0 };
  let deliveries = 0;
  let reordered = 0;
  for (let n = 0; n < schedules; n += 1) {
    const result = await runWith(randomDecisions(seed + n, faultRate));
    deliveries += result.deliveries.length;
    for (const delivery of result.deliveries) {
      if (delivery.fault !== 'none') faults[delivery.fault] += 1;
      if (delivery.pick > 0) reordered += 1;
    }
    if (isDeepStrictEqual(result.state, clean.state)) continue;
    const minimal = await shrink(result, clean.state, runWith);
    throw new IdempotencyViolation({
      seed: seed + n,
      schedule: minimal.decisions,
      deliveries: minimal.deliveries,
      expected: clean.state,
      actual: minimal.state,
    });
  }
  return { schedules, deliveries, faults, reordered };
}

async function runOnce<S>(
  options: ProveIdempotentOptions<S>,
  decisions: DecisionSource,
  maxSteps: number,
): Promise<RunResult<S>> {
  const app = await options.app();
  const transport = new AdversaryTransport();
  const bus = createEventBus({ ...app.config, transport });
  try {
    app.bind?.(bus);
    await bus.start();
    await options.input(bus);
    await transport.drain(decisions, maxSteps);
    await bus.stop({ drainTimeoutMs: 1000 });
    return { state: await app.state(), deliveries: transport.deliveries, decisions: decisions.taken };
  } finally {
    await bus.stop({ drainTimeoutMs: 0 });
    await app.dispose?.();
  }
}

/**
 * The smallest schedule found that still fails: the shortest failing prefix, then each fault
 * removed and each reordering undone where the run still fails, until nothing changes.
 */
async function shrink<S>(
  failing: RunResult<S>,
  expected: S,
  runWith: (source: DecisionSource) => Promise<RunResult<S>>,
): Promise<RunResult<S>> {
  let best = failing;
  const fails = async (decisions: readonly Decision[]): Promise<RunResult<S> | undefined> => {
    const result = await runWith(replay(decisions));
    return isDeepStrictEqual(result.state, expected) ? undefined : result;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (let length = 0; length < best.decisions.length; length += 1) {
      const shorter = await fails(best.decisions.slice(0, length));
      if (shorter !== undefined) {
        best = { ...shorter, decisions: best.decisions.slice(0, length) };
        changed = true;
        break;
      }
    }
    for (let i = 0; i < best.decisions.length; i += 1) {
      const decision = best.decisions[i] as Decision;
      const simpler: Decision[] = [
        ...(decision.fault !== 'none' ? [{ ...decision, fault: 'none' as const }] : []),
        ...(decision.pick !== 0 ? [{ ...decision, pick: 0 }] : []),
        ...(decision.at !== 1 ? [{ ...decision, at: 1 }] : []),
      ];
      for (const candidate of simpler) {
        const decisions = best.decisions.map((d, j) => (j === i ? candidate : d));
        const result = await fails(decisions);
        if (result !== undefined) {
          best = { ...result, decisions };
          changed = true;
          break;
        }
      }
    }
  }
  return { ...best, decisions: trimClean(best.decisions) };
}

function trimClean(decisions: readonly Decision[]): Decision[] {
  const out = [...decisions];
  while (out.length > 0 && isDeepStrictEqual(out[out.length - 1], CLEAN)) out.pop();
  return out;
}
