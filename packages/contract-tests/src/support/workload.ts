import { performance } from 'node:perf_hooks';
import type { Delivery, MessageEnvelope, OutgoingMessage, Transport } from '@omnibus/core';
import type { CaseContext, Consumer } from './case-context.js';
import type { SeededRandom } from './seeded-random.js';
import { sameBytes } from './test-envelope.js';
import { waitFor } from './wait-for.js';

/** Timer slack for lower-bound checks (same as the retry cases). */
const CLOCK_TOLERANCE_MS = 2;

/** The shape of one workload run: sizes, mix and parallelism. */
export interface WorkloadPlan {
  readonly messages: number;
  /** Distinct partition keys of keyed messages. */
  readonly keys: number;
  /** Concurrent publishing lanes (a key always publishes from one lane, in order). */
  readonly lanes: number;
  /** Messages per publish call. */
  readonly batch: number;
  /** Competing members (transports) per group. */
  readonly members: number;
  /** Handler concurrency of each member's subscription to each group. */
  readonly concurrency: number;
  /** Share of messages retried before their final attempt (in every group), and how often. */
  readonly retryShare: number;
  readonly maxRetries: number;
  /** Largest retry delay asked for in unordered groups (ordered groups retry in place at 0 ms). */
  readonly maxRetryDelayMs: number;
  /** Share of messages published with a delay (keyless), and the largest delay. */
  readonly delayShare: number;
  readonly maxDelayMs: number;
  /** Share of messages the dead-letter group dead-letters after their retries. */
  readonly deadLetterShare: number;
  /** Payloads near the transport's limit: how many, how large; they are retried and dead-lettered. */
  readonly largeMessages: number;
  readonly largeBytes: number;
}

/** What one message is meant to go through. */
interface MessagePlan {
  readonly envelope: MessageEnvelope;
  readonly key: string | undefined;
  readonly lane: number;
  readonly delayMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly deadLetter: boolean;
}

/** A fault the run injects once, after `afterPublished` messages are confirmed. */
export interface WorkloadFault {
  readonly name: string;
  readonly afterPublished: number;
  readonly inject: () => Promise<void>;
}

/** What the run measured and found. */
export interface WorkloadResult {
  readonly wallMs: number;
  readonly publishMs: number;
  readonly published: number;
  readonly deliveries: number;
  readonly retries: number;
  readonly delayed: number;
  readonly deadLettered: number;
  readonly largePayloadBytes: number;
  readonly groups: number;
  readonly members: number;
  /** Most handlers running at once over all subscriptions. */
  readonly peakInFlight: number;
  /** Deliveries per member, per group. */
  readonly split: readonly string[];
  /** Rule violations, empty when clean. */
  readonly problems: readonly string[];
}

interface GroupRun {
  readonly name: string;
  readonly ordered: boolean;
  readonly deadLetters: boolean;
  readonly consumers: Consumer[];
  /** Per key: ids in the order their handlers started. */
  readonly started: Map<string, string[]>;
  /** Per key: handlers running now. */
  readonly activeByKey: Map<string, number>;
  /** Per id: when the last retry was asked for and with what delay. */
  readonly lastRetry: Map<string, { at: number; delayMs: number }>;
}

/** Build the messages of a plan (deterministic for a given random source). */
function planMessages(ctx: CaseContext, plan: WorkloadPlan, random: SeededRandom): MessagePlan[] {
  const list: MessagePlan[] = [];
  const delayable = ctx.capabilities.delayedDelivery !== false;
  const maxDelay =
    ctx.capabilities.delayedDelivery === false
      ? 0
      : Math.min(plan.maxDelayMs, ctx.capabilities.delayedDelivery.maxDelayMs);
  const maxRetryDelay = Math.min(plan.maxRetryDelayMs, ctx.capabilities.maxRetryDelayMs);
  for (let i = 0; i < plan.messages; i += 1) {
    const large = i < plan.largeMessages;
    const delayed = !large && delayable && random.chance(plan.delayShare);
    const key = delayed || large ? undefined : `k${String(random.int(0, Math.max(0, plan.keys - 1)))}`;
    const retries = large ? 1 : random.chance(plan.retryShare) ? random.int(1, plan.maxRetries) : 0;
    const payload = large
      ? new Uint8Array(plan.largeBytes).map((_, b) => (b * 31 + i) & 0xff)
      : new TextEncoder().encode(JSON.stringify({ n: i, pad: 'x'.repeat(random.int(0, 256)) }));
    const envelope = ctx.envelope({
      payload,
      contentType: large ? 'application/octet-stream' : 'application/json',
      ...(key === undefined ? {} : { partitionKey: key }),
    });
    list.push({
      envelope,
      key,
      lane: key === undefined ? random.int(0, plan.lanes - 1) : Number(key.slice(1)) % plan.lanes,
      delayMs: delayed ? random.int(1, Math.max(1, maxDelay)) : 0,
      retries,
      retryDelayMs: random.int(0, maxRetryDelay),
      deadLetter: large || random.chance(plan.deadLetterShare),
    });
  }
  return list;
}

/**
 * Run one workload on a fresh destination: `plan.members` transports competing in each of up to
 * three groups (the first ordered where per-key ordering is declared, the second dead-lettering),
 * published from concurrent lanes, with retries, delays, dead letters and near-limit payloads.
 * Every delivery goes through the case's ledger; the returned problems cover what the ledger
 * does not: per-key order and exclusivity, retry and publish delays, attempt numbering, the
 * dead-letter destination's content. With `fault`, order and attempt gaps are reported, not
 * judged (at-least-once redelivery after a fault may legitimately repeat or skip).
 */
export async function runWorkload(
  ctx: CaseContext,
  plan: WorkloadPlan,
  random: SeededRandom,
  fault?: WorkloadFault,
): Promise<WorkloadResult> {
  const started = performance.now();
  const problems: string[] = [];
  const note = (problem: string): void => {
    if (problems.length < 50) problems.push(problem);
  };
  const caps = ctx.capabilities;
  const groupCount = caps.fanOut ? 3 : 1;
  const members = caps.competingConsumers ? plan.members : 1;
  const orderedFirst = caps.ordering === 'per-key';
  const publisher = await ctx.transport();
  const flags = [orderedFirst, false, false].slice(0, groupCount);
  const { destination, groups } = await ctx.topology(publisher, { groups: flags });
  const messages = planMessages(ctx, plan, random);
  const byId = new Map(messages.map((m) => [m.envelope.id, m]));
  const deadLetterGroup = groupCount > 1 ? 1 : 0;
  const runs: GroupRun[] = groups.map((name, index) => ({
    name,
    ordered: flags[index] === true,
    deadLetters: index === deadLetterGroup,
    consumers: [],
    started: new Map(),
    activeByKey: new Map(),
    lastRetry: new Map(),
  }));
  const publishedAt = new Map<string, number>();
  // Judged strictly unless this run injects a fault (the ledger's duplicate verdict is the case's).
  const faulty = fault !== undefined;
  let inFlight = 0;
  let peakInFlight = 0;

  const handle = async (run: GroupRun, d: Delivery): Promise<void> => {
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const id = d.envelope.id;
    const message = byId.get(id);
    const now = performance.now();
    try {
      if (message === undefined) return void (await d.ack());
      const previous = run.lastRetry.get(id);
      if (previous !== undefined && now - previous.at < previous.delayMs - CLOCK_TOLERANCE_MS)
        note(
          `[rule 4] ${run.name}/${id} redelivered ${(now - previous.at).toFixed(0)} ms after retry(${String(previous.delayMs)})`,
        );
      const sentAt = publishedAt.get(id);
      if (
        previous === undefined &&
        message.delayMs > 0 &&
        sentAt !== undefined &&
        now - sentAt < message.delayMs - CLOCK_TOLERANCE_MS
      )
        note(
          `[rule 13] ${run.name}/${id} delivered ${(now - sentAt).toFixed(0)} ms after publish with delay ${String(message.delayMs)}`,
        );
      if (message.key !== undefined && run.ordered) {
        const list = run.started.get(message.key) ?? [];
        if (list[list.length - 1] !== id) list.push(id);
        run.started.set(message.key, list);
        const active = (run.activeByKey.get(message.key) ?? 0) + 1;
        run.activeByKey.set(message.key, active);
        if (active > 1 && !faulty)
          note(`[rule 7] ${run.name}: two handlers of key ${message.key} at once (${id})`);
      }
      try {
        if (d.deliveryAttempt <= message.retries) {
          const delayMs = run.ordered ? 0 : message.retryDelayMs;
          run.lastRetry.set(id, { at: performance.now(), delayMs });
          // Only a retry the transport accepted delays the next delivery: one refused after a
          // fault (it rejects) leaves the message unsettled, and it may come back at once.
          await d.retry(delayMs).catch((error: unknown) => {
            run.lastRetry.delete(id);
            throw error;
          });
        } else if (run.deadLetters && message.deadLetter) {
          await d.deadLetter({
            code: 'VOLUME_TEST',
            message: `dead-lettered ${id}`,
            attempts: d.deliveryAttempt,
          });
        } else {
          await d.ack();
        }
      } finally {
        if (message.key !== undefined && run.ordered)
          run.activeByKey.set(message.key, (run.activeByKey.get(message.key) ?? 1) - 1);
      }
    } catch (error) {
      // A settlement refused after an injected fault is redelivered; anything else fails the run.
      if (!faulty) throw error;
    } finally {
      inFlight -= 1;
    }
  };

  const consumerTransports = await Promise.all(Array.from({ length: members }, () => ctx.transport()));
  for (const run of runs)
    for (const [index, transport] of consumerTransports.entries())
      run.consumers.push(
        await ctx.consume(
          transport,
          {
            destination,
            group: run.name,
            concurrency: plan.concurrency,
            ordered: run.ordered,
            label: `${run.name}#${String(index)}`,
          },
          (d) => handle(run, d),
        ),
      );

  const publishStarted = performance.now();
  let confirmed = 0;
  let faultInjected: Promise<void> | undefined;
  const lanes = Array.from({ length: plan.lanes }, (_, lane) => messages.filter((m) => m.lane === lane));
  const publishLane = async (lane: readonly MessagePlan[]): Promise<void> => {
    for (let i = 0; i < lane.length;) {
      const first = lane[i] as MessagePlan;
      const size = first.envelope.payload.byteLength > 65_536 ? 1 : plan.batch;
      const batch = lane.slice(i, i + size);
      i += batch.length;
      const items: OutgoingMessage[] = batch.map((m) =>
        m.delayMs > 0 ? { envelope: m.envelope, delayMs: m.delayMs } : { envelope: m.envelope },
      );
      const at = performance.now();
      for (const m of batch) publishedAt.set(m.envelope.id, at);
      await publishUnderFault(ctx, publisher, destination, items);
      confirmed += batch.length;
      if (fault !== undefined && faultInjected === undefined && confirmed >= fault.afterPublished) {
        ctx.markFaultInjected();
        faultInjected = fault.inject();
      }
    }
  };
  await Promise.all(lanes.map(publishLane));
  const publishMs = performance.now() - publishStarted;
  if (faultInjected !== undefined) await faultInjected;

  await settledOrStalled(ctx, ctx.ms(60_000 + plan.messages * 30), ctx.ms(30_000));

  // Dead letters: exactly the planned ones, payloads intact (the near-limit ones included).
  const dlRun = runs[deadLetterGroup] as GroupRun;
  const expectedDead = messages.filter(
    (m) =>
      m.deadLetter &&
      ctx.ledger.deliveriesOf(dlRun.name, m.envelope.id).some((d) => d.outcome === 'dead-letter'),
  );
  const dead = await ctx.readDeadLetters(
    destination,
    dlRun.name,
    expectedDead.length,
    30_000 + expectedDead.length * 50,
  );
  // After a fault a message may be dead-lettered twice (at least once: a dead-letter whose answer
  // the fault cut off is redelivered and dead-lettered again), so a read of exactly as many dead
  // letters as expected can be filled by copies while other expected ids are still unread: read on
  // while expected ids are missing and the reads still return something.
  for (let read = 1; faulty && read <= 5; read += 1) {
    const seen = new Set(dead.map((d) => d.envelope.id));
    const missing = expectedDead.filter((m) => !seen.has(m.envelope.id)).length;
    if (missing === 0) break;
    const more = await ctx.readDeadLetters(destination, dlRun.name, missing, 5_000);
    if (more.length === 0) break;
    dead.push(...more);
  }
  const deadIds = new Map(dead.map((d) => [d.envelope.id, d]));
  for (const m of expectedDead) {
    const got = deadIds.get(m.envelope.id);
    if (got === undefined) note(`[rule 5] dead letter of ${m.envelope.id} missing`);
    else if (!sameBytes(got.envelope.payload, m.envelope.payload))
      note(
        `[rule 5] dead letter of ${m.envelope.id}: payload differs (${String(got.envelope.payload.byteLength)} of ${String(m.envelope.payload.byteLength)} bytes)`,
      );
  }
  const extraDead = dead.filter((d) => !byId.get(d.envelope.id)?.deadLetter);
  if (extraDead.length > 0)
    note(
      `[rule 5] ${String(extraDead.length)} unplanned dead letter(s): ${extraDead
        .slice(0, 5)
        .map((d) => d.envelope.id)
        .join(', ')}`,
    );

  // Attempt numbering and per-key order.
  for (const run of runs) {
    for (const m of messages) {
      const records = ctx.ledger.deliveriesOf(run.name, m.envelope.id);
      const attempts = records.map((d) => d.attempt);
      const consecutive = attempts.every((a, i) => a === i + 1);
      const nonDecreasing = attempts.every((a, i) => i === 0 || a >= (attempts[i - 1] as number));
      if (faulty ? !nonDecreasing : !consecutive)
        note(
          `[rule 4] ${run.name}/${m.envelope.id}: attempts ${records
            .map((d) => `${String(d.attempt)} (${d.consumer}: ${d.outcome})`)
            .join(', ')}`,
        );
    }
    if (!run.ordered) continue;
    const expectedByKey = new Map<string, string[]>();
    for (const m of messages)
      if (m.key !== undefined) expectedByKey.set(m.key, [...(expectedByKey.get(m.key) ?? []), m.envelope.id]);
    for (const [key, expected] of expectedByKey) {
      const got = run.started.get(key) ?? [];
      if (got.join() !== expected.join()) {
        const at = got.findIndex((id, i) => id !== expected[i]);
        const detail = `key ${key} out of publish order at position ${String(at)}: got ${String(got[at])}, expected ${String(expected[at])}`;
        if (faulty) ctx.notes.push(`after the fault: ${detail}`);
        else note(`[rule 7] ${run.name}: ${detail}`);
      }
    }
  }
  for (const run of runs)
    for (const consumer of run.consumers)
      if (consumer.maxActive > plan.concurrency)
        note(
          `[rule 8] ${consumer.label}: ${String(consumer.maxActive)} handlers at once, limit ${String(plan.concurrency)}`,
        );

  let retries = 0;
  for (const run of runs)
    for (const m of messages)
      retries += ctx.ledger.deliveriesOf(run.name, m.envelope.id).filter((d) => d.outcome === 'retry').length;
  await Promise.all([publisher, ...consumerTransports].map((t) => t.close(ctx.ms(1_000))));
  const result: WorkloadResult = {
    wallMs: Math.round(performance.now() - started),
    publishMs: Math.round(publishMs),
    published: messages.length,
    deliveries: runs.reduce((sum, run) => sum + run.consumers.reduce((s, c) => s + c.received.length, 0), 0),
    retries,
    delayed: messages.filter((m) => m.delayMs > 0).length,
    deadLettered: dead.length,
    largePayloadBytes: plan.largeMessages > 0 ? plan.largeBytes : 0,
    groups: runs.length,
    members,
    peakInFlight,
    split: runs.map(
      (run) =>
        `${run.ordered ? 'ordered' : run.deadLetters ? 'dead-lettering' : 'plain'} ${run.consumers.map((c) => String(c.received.length)).join('/')}`,
    ),
    problems,
  };
  for (const run of runs) for (const consumer of run.consumers) consumer.received.length = 0;
  return result;
}

/** Publish; after an injected fault a rejected publish (an OmnibusError) is retried until confirmed. */
async function publishUnderFault(
  ctx: CaseContext,
  publisher: Transport,
  destination: string,
  items: readonly OutgoingMessage[],
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ctx.publish(publisher, destination, items);
      return;
    } catch (error) {
      if (!ctx.faultsInjected || attempt >= 30) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * Wait until the ledger is settled; fail early when the number of unsettled (group, message)
 * pairs has not changed for `stallMs` (nothing is moving: the rest will not come), else after
 * `timeoutMs`.
 */
async function settledOrStalled(ctx: CaseContext, timeoutMs: number, stallMs: number): Promise<void> {
  let lastCount = -1;
  let lastChange = performance.now();
  let stalled = false;
  const unsettled = (): readonly string[] => ctx.ledger.summary().lost;
  await waitFor(
    () => {
      const count = unsettled().length;
      if (count === 0) return true;
      const now = performance.now();
      if (count !== lastCount) {
        lastCount = count;
        lastChange = now;
      } else if (now - lastChange > stallMs) {
        stalled = true;
        return true;
      }
      return false;
    },
    'every confirmed message to be settled in every group',
    timeoutMs,
    {
      intervalMs: 250,
      detail: () => `unsettled ${String(unsettled().length)}: ${unsettled().slice(0, 5).join(', ')}`,
    },
  );
  if (stalled) {
    const lost = unsettled();
    const seen = (entry: string): string => {
      const at = entry.lastIndexOf('/');
      const records = ctx.ledger.deliveriesOf(entry.slice(0, at), entry.slice(at + 1));
      return records.length === 0
        ? `${entry} (never delivered)`
        : `${entry} (${records.map((d) => `attempt ${String(d.attempt)} ${d.consumer}: ${d.outcome}`).join(', ')})`;
    };
    throw new Error(
      `[rule 1] no progress for ${String(stallMs)} ms with ${String(lost.length)} confirmed message(s) unsettled: ${lost.slice(0, 10).map(seen).join(', ')}`,
    );
  }
}
