import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import type { TransportContractOptions } from '../contract-options.js';
import type { CaseContext } from '../support/case-context.js';
import { numberFromEnv, seededRandom, type SeededRandom } from '../support/seeded-random.js';
import {
  runWorkload,
  type WorkloadFault,
  type WorkloadPlan,
  type WorkloadResult,
} from '../support/workload.js';

/** Default size of V1 (messages published once, each consumed by up to three groups). */
export const DEFAULT_VOLUME_MESSAGES = 10_000;

/** Environment variables of the volume case and the soak mode. */
export const VOLUME_ENV = {
  /** Messages of V1 (overrides `options.volume.messages`). */
  messages: 'OMNIBUS_VOLUME_MESSAGES',
  /** Seed of V1's message mix (default 23). */
  seed: 'OMNIBUS_VOLUME_SEED',
  /** Soak duration in ms; the soak case S1 runs only when it is set. */
  soakMs: 'OMNIBUS_SOAK_MS',
  /** Soak seed (default: random, printed); the same seed replays the same rounds and faults. */
  soakSeed: 'OMNIBUS_SOAK_SEED',
  /** `0`: the soak draws no faults even where the harness has hooks (a shared broker without its lock). */
  soakFaults: 'OMNIBUS_SOAK_FAULTS',
} as const;

/** Largest near-limit payload the volume and soak runs send (memory: every copy is kept). */
const LARGE_PAYLOAD_CAP = 1024 * 1024;

function volumeMessages(options: TransportContractOptions): number {
  return numberFromEnv(VOLUME_ENV.messages, options.volume?.messages ?? DEFAULT_VOLUME_MESSAGES);
}

function describeResult(result: WorkloadResult, maxPayloadBytes: number): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  return (
    `${n(result.published)} messages × ${String(result.groups)} group(s) × ${String(result.members)} member(s): ` +
    `${n(result.deliveries)} deliveries, ${n(result.retries)} retries, ${n(result.delayed)} delayed, ` +
    `${n(result.deadLettered)} dead letters` +
    (result.largePayloadBytes > 0
      ? ` (near-limit payloads ${n(result.largePayloadBytes)} B of maxPayloadBytes ${n(maxPayloadBytes)})`
      : '') +
    `, peak ${n(result.peakInFlight)} handlers in flight, ${(result.wallMs / 1000).toFixed(1)} s ` +
    `(publishing ${(result.publishMs / 1000).toFixed(1)} s); split per group: ${result.split.join('; ')}`
  );
}

/** Lost and duplicated (group, message) pairs over the whole case, from its ledger. */
function ledgerVerdict(ctx: CaseContext): string {
  const summary = ctx.ledger.summary();
  return `ledger: ${String(summary.lost.length)} lost, ${String(summary.duplicateCount)} duplicate(s), ${String(summary.afterTerminal.length)} delivered again after settling`;
}

function announce(ctx: CaseContext, line: string): void {
  ctx.notes.push(line);
  process.stderr.write(`[contract ${ctx.caseId} ${ctx.options.name}] ${line}\n`);
}

/** The fault hooks this run may draw from (none when fault cases are off). */
function faultHooks(ctx: CaseContext): { name: string; inject: () => Promise<void> }[] {
  const faults = ctx.options.faults;
  if (ctx.options.runFaultCases === false || faults === undefined) return [];
  if (process.env[VOLUME_ENV.soakFaults] === '0') return [];
  const hooks: { name: string; inject: () => Promise<void> }[] = [];
  if (faults.restartBroker !== undefined)
    hooks.push({
      name: 'restartBroker',
      inject: () => (faults.restartBroker as () => Promise<void>).call(faults),
    });
  if (faults.dropConnections !== undefined)
    hooks.push({
      name: 'dropConnections',
      inject: () => (faults.dropConnections as () => Promise<void>).call(faults),
    });
  return hooks;
}

/** A random round of the soak. */
function soakPlan(random: SeededRandom, maxPayloadBytes: number): WorkloadPlan {
  return {
    messages: random.int(100, 1_500),
    keys: random.int(1, 50),
    lanes: random.int(1, 8),
    batch: random.int(1, 50),
    members: random.int(1, 3),
    concurrency: random.int(1, 32),
    retryShare: random.next() * 0.4,
    maxRetries: random.int(1, 3),
    maxRetryDelayMs: random.int(0, 500),
    delayShare: random.next() * 0.3,
    maxDelayMs: random.int(10, 2_000),
    deadLetterShare: random.next() * 0.1,
    largeMessages: random.chance(0.2) ? random.int(1, 2) : 0,
    largeBytes: Math.min(maxPayloadBytes, random.int(64 * 1024, LARGE_PAYLOAD_CAP)),
  };
}

/** V. Volume and soak: every dimension of the other cases, scaled up, on one ledger. */
export const volumeCases: ContractCaseGroup = {
  letter: 'V',
  title: 'volume and soak',
  cases: [
    {
      id: 'V1',
      rules: [1, 3, 4, 5, 6, 7, 8, 13],
      title:
        'volume: 10,000 messages (configurable) to 3 groups of 3 competing members, hundreds in flight, keyed order, thousands of retries and delayed messages, near-limit payloads through retry and dead-letter: 0 lost, order per key, duplicates judged by the capability',
      requires: (_capabilities, options) => {
        const forced = (process.env[VOLUME_ENV.messages] ?? '') !== '';
        if (options.volume?.off !== undefined && !forced)
          return `volume case off: ${options.volume.off} (set ${VOLUME_ENV.messages} to run it)`;
        return volumeMessages(options) === 0
          ? 'volume case off for this configuration (options.volume.messages = 0: it runs once per transport)'
          : undefined;
      },
      timeoutFor: (options) => 90_000 + volumeMessages(options) * 40,
      async run(ctx) {
        const messages = volumeMessages(ctx.options);
        const seed = numberFromEnv(VOLUME_ENV.seed, 23);
        const plan: WorkloadPlan = {
          messages,
          keys: 200,
          lanes: 8,
          batch: 50,
          members: 3,
          concurrency: 64,
          retryShare: 0.2,
          maxRetries: 2,
          maxRetryDelayMs: 250,
          delayShare: 0.2,
          maxDelayMs: 3_000,
          deadLetterShare: 0.02,
          largeMessages: 4,
          largeBytes: Math.min(ctx.capabilities.maxPayloadBytes, LARGE_PAYLOAD_CAP),
        };
        if (messages < DEFAULT_VOLUME_MESSAGES)
          announce(
            ctx,
            `size ${messages.toLocaleString('en-US')} (below the default ${DEFAULT_VOLUME_MESSAGES.toLocaleString('en-US')}: set ${VOLUME_ENV.messages} for a full-size run)`,
          );
        const result = await runWorkload(ctx, plan, seededRandom(seed));
        announce(
          ctx,
          `seed ${String(seed)}: ${describeResult(result, ctx.capabilities.maxPayloadBytes)}; ${ledgerVerdict(ctx)}`,
        );
        expect(result.problems, 'rule violations found by the volume run').to.deep.equal([]);
      },
    },
    {
      id: 'S1',
      rules: [1, 3, 4, 5, 6, 7, 8, 11, 13],
      title:
        'soak: seeded random rounds (sizes, keys, retries, delays, dead letters, members, faults drawn from the hooks given) for OMNIBUS_SOAK_MS, each checked on the ledger; the seed is printed to replay',
      requires: () =>
        process.env[VOLUME_ENV.soakMs] === undefined || process.env[VOLUME_ENV.soakMs] === ''
          ? `soak mode off (set ${VOLUME_ENV.soakMs}, and ${VOLUME_ENV.soakSeed} to replay)`
          : undefined,
      timeoutFor: () => numberFromEnv(VOLUME_ENV.soakMs, 0) + 600_000,
      async run(ctx) {
        const durationMs = numberFromEnv(VOLUME_ENV.soakMs, 0);
        const seed = numberFromEnv(VOLUME_ENV.soakSeed, randomInt(0, 2 ** 31));
        const random = seededRandom(seed);
        const hooks = faultHooks(ctx);
        announce(
          ctx,
          `seed ${String(seed)} (replay: ${VOLUME_ENV.soakSeed}=${String(seed)}), ${String(durationMs)} ms, faults from: ${hooks.map((h) => h.name).join(', ') || 'none'}`,
        );
        const started = Date.now();
        let totals = {
          rounds: 0,
          messages: 0,
          deliveries: 0,
          retries: 0,
          delayed: 0,
          deadLettered: 0,
          faults: 0,
        };
        for (let round = 1; Date.now() - started < durationMs; round += 1) {
          const plan = soakPlan(random, ctx.capabilities.maxPayloadBytes);
          const hook = hooks.length > 0 && random.chance(0.3) ? random.pick(hooks) : undefined;
          const fault: WorkloadFault | undefined =
            hook === undefined
              ? undefined
              : { name: hook.name, afterPublished: random.int(1, plan.messages - 1), inject: hook.inject };
          const result = await runWorkload(ctx, plan, random, fault);
          totals = {
            rounds: round,
            messages: totals.messages + result.published,
            deliveries: totals.deliveries + result.deliveries,
            retries: totals.retries + result.retries,
            delayed: totals.delayed + result.delayed,
            deadLettered: totals.deadLettered + result.deadLettered,
            faults: totals.faults + (fault === undefined ? 0 : 1),
          };
          const line = `round ${String(round)}${fault === undefined ? '' : ` (${fault.name} after ${String(fault.afterPublished)})`}: ${describeResult(result, ctx.capabilities.maxPayloadBytes)}`;
          if (ctx.notes.length < 40) ctx.notes.push(line);
          expect(result.problems, `seed ${String(seed)}, ${line}`).to.deep.equal([]);
        }
        announce(
          ctx,
          `seed ${String(seed)}: ${String(totals.rounds)} rounds in ${((Date.now() - started) / 1000).toFixed(0)} s, ${totals.messages.toLocaleString('en-US')} messages, ${totals.deliveries.toLocaleString('en-US')} deliveries, ${totals.retries.toLocaleString('en-US')} retries, ${totals.delayed.toLocaleString('en-US')} delayed, ${totals.deadLettered.toLocaleString('en-US')} dead letters, ${String(totals.faults)} fault(s) injected; ${ledgerVerdict(ctx)}`,
        );
      },
    },
  ],
};
