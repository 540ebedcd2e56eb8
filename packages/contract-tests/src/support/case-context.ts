import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type {
  Delivery,
  GroupSpec,
  MessageEnvelope,
  OutgoingMessage,
  Subscription,
  Transport,
  TransportCapabilities,
} from '@omnibus/core';
import type { DeadLetteredMessage, TransportContractOptions } from '../contract-options.js';
import { Ledger, type LedgerDelivery } from './ledger.js';
import { buildTestEnvelope, type TestEnvelopeOverrides } from './test-envelope.js';
import { gate, waitFor, within } from './wait-for.js';

/** What a case asks of {@link CaseContext.consume}. */
export interface ConsumeOptions {
  readonly destination: string;
  readonly group: string;
  readonly concurrency?: number;
  readonly ordered?: boolean;
  readonly handlerTimeoutMs?: number;
  /** Name in ledger and messages; default `consumer-<n>`. */
  readonly label?: string;
}

/** One message being handled by a blocked handler (see {@link CaseContext.holdOneDelivery}). */
export interface HeldDelivery {
  readonly destination: string;
  readonly group: string;
  readonly consumer: Consumer;
  readonly sent: MessageEnvelope;
  /** Let the blocked handler return (without settling). */
  readonly release: () => void;
}

/** A case's handler: receives the ledger-tracked delivery and must settle it (or hold it). */
export type CaseHandler = (delivery: Delivery, consumer: Consumer) => Promise<void>;

/** One delivery as seen by a {@link Consumer}. */
export interface Received {
  readonly delivery: Delivery;
  /** `performance.now()` when the handler was invoked. */
  readonly at: number;
}

/** A subscription opened by a case, with what it received and how many handlers ran at once. */
export interface Consumer {
  readonly label: string;
  readonly subscription: Subscription;
  readonly received: Received[];
  /** Handlers running right now / at most so far. */
  readonly active: number;
  readonly maxActive: number;
  /** Ids received, in arrival order (with repeats). */
  ids(): string[];
  /** Close the subscription (drain up to `drainMs`). */
  close(drainMs: number): Promise<void>;
}

/** One named destination and its groups, provisioned for a case. */
export interface CaseTopology {
  readonly destination: string;
  readonly groups: readonly string[];
}

/** One outcome of a case run, kept for the conformance report. */
export interface CaseNotes {
  /** Free-form observations (e.g. duplicates under faults), printed in the report. */
  readonly notes: string[];
}

/**
 * Everything a contract case needs: transports (created, connected and closed for it), unique
 * names, test envelopes, a ledger that every publish and delivery goes through, and waits that
 * scale with `timeScale`. One per test; {@link dispose} closes everything it opened (bounded).
 */
export class CaseContext {
  readonly caseId: string;
  readonly options: TransportContractOptions;
  readonly capabilities: TransportCapabilities;
  readonly timeScale: number;
  readonly ledger = new Ledger();
  readonly notes: string[] = [];
  /** Errors thrown inside case handlers (assertions included): the case fails with them. */
  readonly handlerErrors: unknown[] = [];
  readonly #suffix = randomBytes(4).toString('hex');
  readonly #transports: Transport[] = [];
  readonly #consumers: Consumer[] = [];
  #messages = 0;
  #consumerCount = 0;
  #nameCount = 0;
  #faultsInjected = false;

  constructor(caseId: string, options: TransportContractOptions, capabilities: TransportCapabilities) {
    this.caseId = caseId;
    this.options = options;
    this.capabilities = capabilities;
    this.timeScale = options.timeScale ?? 1;
  }

  /** True once the case injected a fault (duplicates are then counted, not failed). */
  get faultsInjected(): boolean {
    return this.#faultsInjected;
  }

  /** Declare that a fault was injected from here on. */
  markFaultInjected(): void {
    this.#faultsInjected = true;
  }

  /** `baseMs × timeScale`. */
  ms(baseMs: number): number {
    return Math.round(baseMs * this.timeScale);
  }

  /** A unique broker-safe name: lowercase letters, digits and dashes, ≤ 32 characters. */
  name(kind: string): string {
    this.#nameCount += 1;
    return `ct-${this.caseId.toLowerCase()}-${kind}${String(this.#nameCount)}-${this.#suffix}`;
  }

  /** A fresh transport from the adapter's factory, connected; closed by {@link dispose}. */
  async transport(): Promise<Transport> {
    const transport = await this.options.createTransport();
    this.#transports.push(transport);
    await transport.connect();
    return transport;
  }

  /** Track a transport created elsewhere (e.g. handed to an EventBus) so {@link dispose} closes it too. */
  adopt(transport: Transport): void {
    this.#transports.push(transport);
  }

  /**
   * Provision one destination with `groups` consumer groups (names generated) and register
   * them with the ledger as expected to settle every confirmed message.
   */
  async topology(
    transport: Transport,
    spec: { readonly groups: number | readonly boolean[]; readonly ordered?: boolean } = { groups: 1 },
  ): Promise<CaseTopology> {
    const destination = this.name('d');
    const orderedFlags =
      typeof spec.groups === 'number'
        ? Array.from({ length: spec.groups }, () => spec.ordered ?? false)
        : spec.groups;
    const groups: GroupSpec[] = orderedFlags.map((ordered) => ({ name: this.name('g'), ordered }));
    await transport.provision({ destinations: [{ name: destination, groups }] });
    this.ledger.expectGroups(
      destination,
      groups.map((g) => g.name),
    );
    return { destination, groups: groups.map((g) => g.name) };
  }

  /** A test envelope with a unique id (see {@link buildTestEnvelope}). */
  envelope(overrides: TestEnvelopeOverrides = {}): MessageEnvelope {
    this.#messages += 1;
    return buildTestEnvelope(
      `${this.caseId.toLowerCase()}-${this.#suffix}-${String(this.#messages)}`,
      this.caseId,
      overrides,
    );
  }

  /** `count` test envelopes. */
  envelopes(
    count: number,
    overrides: (index: number) => TestEnvelopeOverrides = () => ({}),
  ): MessageEnvelope[] {
    return Array.from({ length: count }, (_, index) => this.envelope(overrides(index)));
  }

  /**
   * One `transport.publish` call with all `items`, recorded in the ledger (confirmed when it
   * resolves, failed when it rejects; the rejection is re-thrown).
   */
  async publish(
    transport: Transport,
    destination: string,
    items: readonly (MessageEnvelope | OutgoingMessage)[],
    options: { readonly deduplicated?: boolean } = {},
  ): Promise<void> {
    const messages: OutgoingMessage[] = items.map((item) => ('envelope' in item ? item : { envelope: item }));
    const done = messages.map((m) => this.ledger.beginPublish(destination, m.envelope, options));
    try {
      await transport.publish(destination, messages);
    } catch (error) {
      for (const finish of done) finish(false);
      throw error;
    }
    for (const finish of done) finish(true);
  }

  /** Publish each envelope with its own awaited call, in order (defines publish order). */
  async publishInOrder(
    transport: Transport,
    destination: string,
    envelopes: readonly MessageEnvelope[],
  ): Promise<void> {
    for (const envelope of envelopes) await this.publish(transport, destination, [envelope]);
  }

  /**
   * Subscribe with a ledger-tracked handler (default: ack). Errors thrown by `handler` are kept
   * in {@link handlerErrors} so the case fails with them.
   */
  async consume(
    transport: Transport,
    options: ConsumeOptions,
    handler: CaseHandler = (d) => d.ack(),
  ): Promise<Consumer> {
    this.#consumerCount += 1;
    const label = options.label ?? `consumer-${String(this.#consumerCount)}`;
    const received: Received[] = [];
    let active = 0;
    let maxActive = 0;
    const ledger = this.ledger;
    const errors = this.handlerErrors;
    const consumer: { -readonly [K in keyof Consumer]: Consumer[K] } = {
      label,
      subscription: undefined as unknown as Subscription,
      received,
      get active() {
        return active;
      },
      get maxActive() {
        return maxActive;
      },
      ids: () => received.map((r) => r.delivery.envelope.id),
      close: (drainMs: number) => consumer.subscription.close(drainMs),
    };
    consumer.subscription = await transport.subscribe(
      {
        destination: options.destination,
        group: options.group,
        concurrency: options.concurrency ?? 1,
        ordered: options.ordered ?? false,
        handlerTimeoutMs: options.handlerTimeoutMs ?? this.ms(30_000),
      },
      async (raw) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        const entry = ledger.recordDelivery(raw, label);
        const delivery = trackSettlement(raw, entry);
        received.push({ delivery, at: performance.now() });
        try {
          await handler(delivery, consumer);
        } catch (error) {
          errors.push(error);
        } finally {
          active -= 1;
        }
      },
    );
    this.#consumers.push(consumer);
    return consumer;
  }

  /** {@link waitFor} with `timeoutMs × timeScale` (default 5 s). */
  waitFor(
    condition: () => boolean | Promise<boolean>,
    description: string,
    timeoutMs = 5_000,
    detail?: () => string,
  ): Promise<void> {
    return waitFor(condition, description, this.ms(timeoutMs), detail === undefined ? {} : { detail });
  }

  /** Wait until `consumer` has received (at least once) every id in `ids`. */
  waitForIds(
    consumers: Consumer | readonly Consumer[],
    ids: readonly string[],
    description: string,
    timeoutMs = 5_000,
  ): Promise<void> {
    const list = Array.isArray(consumers) ? (consumers as readonly Consumer[]) : [consumers as Consumer];
    const missing = (): string[] => {
      const seen = new Set(list.flatMap((c) => c.ids()));
      return ids.filter((id) => !seen.has(id));
    };
    return this.waitFor(
      () => missing().length === 0,
      description,
      timeoutMs,
      () => `missing ${String(missing().length)}: ${missing().slice(0, 5).join(', ')}`,
    );
  }

  /**
   * Provision a destination, subscribe on `consumerTransport` with a handler that blocks until
   * `release()`, publish one message through `publisher` and wait until it is being handled.
   */
  async holdOneDelivery(
    consumerTransport: Transport,
    publisher: Transport = consumerTransport,
  ): Promise<HeldDelivery> {
    const { destination, groups } = await this.topology(consumerTransport);
    const group = groups[0] as string;
    const blocked = gate();
    const consumer = await this.consume(consumerTransport, { destination, group }, () => blocked.promise);
    const sent = this.envelope();
    await this.publish(publisher, destination, [sent]);
    await this.waitForIds(consumer, [sent.id], 'the held delivery');
    return { destination, group, consumer, sent, release: blocked.open };
  }

  /**
   * Wait until `consumer` received `id`, then assert it came as a redelivery: its first delivery
   * there carries `deliveryAttempt` ≥ 2 (the earlier attempt was not settled).
   */
  async expectRedelivery(
    consumer: Consumer,
    id: string,
    description: string,
    timeoutMs = 5_000,
  ): Promise<void> {
    await this.waitForIds(consumer, [id], description, timeoutMs);
    const attempt =
      consumer.received.find((r) => r.delivery.envelope.id === id)?.delivery.deliveryAttempt ?? 0;
    expect(attempt, `deliveryAttempt of ${description}`).to.be.at.least(2);
  }

  /** Wait until the ledger shows every confirmed message settled in every expected group. */
  waitForLedger(description = 'every confirmed message to be settled', timeoutMs = 5_000): Promise<void> {
    return this.waitFor(
      () => this.ledger.isSettled(),
      description,
      timeoutMs,
      () => `unsettled: ${this.ledger.summary().lost.slice(0, 5).join(', ')}`,
    );
  }

  /** The adapter's out-of-band dead-letter reader, with a scaled timeout. */
  readDeadLetters(
    destination: string,
    group: string,
    count: number,
    timeoutMs = 5_000,
  ): Promise<DeadLetteredMessage[]> {
    return this.options.readDeadLetters(destination, group, count, this.ms(timeoutMs));
  }

  /**
   * Close every consumer and transport this case opened (drain 200 ms × timeScale each),
   * bounded overall; resolves with the transports whose close did not finish in time.
   */
  async dispose(): Promise<string[]> {
    const problems: string[] = [];
    const transports = this.#transports.splice(0);
    const closing = transports.map(async (transport, index) => {
      const result = await within(
        transport.close(this.ms(200)).then(
          () => 'ok',
          (error: unknown) => `close rejected: ${String(error)}`,
        ),
        this.ms(10_000),
      );
      if (!result.settled)
        problems.push(
          `transport #${String(index)} close did not finish within ${String(this.ms(10_000))} ms`,
        );
      else if (result.value !== 'ok') problems.push(`transport #${String(index)} ${result.value}`);
    });
    await Promise.all(closing);
    this.#consumers.splice(0);
    return problems;
  }
}

/** Wrap a delivery so its settlement outcome lands in the ledger entry (first success wins). */
function trackSettlement(delivery: Delivery, entry: LedgerDelivery): Delivery {
  const track = (outcome: 'ack' | 'retry' | 'dead-letter', operation: () => Promise<void>): Promise<void> => {
    let pending: Promise<void>;
    try {
      pending = operation();
    } catch (error) {
      if (entry.outcome === 'none') entry.outcome = 'settle-failed';
      return Promise.reject(error instanceof Error ? error : new Error('non-Error thrown', { cause: error }));
    }
    return pending.then(
      () => {
        if (entry.outcome === 'none' || entry.outcome === 'settle-failed') entry.outcome = outcome;
      },
      (error: unknown) => {
        if (entry.outcome === 'none') entry.outcome = 'settle-failed';
        throw error;
      },
    );
  };
  return {
    envelope: delivery.envelope,
    deliveryAttempt: delivery.deliveryAttempt,
    receivedAt: delivery.receivedAt,
    destination: delivery.destination,
    group: delivery.group,
    raw: delivery.raw,
    ack: () => track('ack', () => delivery.ack()),
    retry: (delayMs: number) => track('retry', () => delivery.retry(delayMs)),
    deadLetter: (reason) => track('dead-letter', () => delivery.deadLetter(reason)),
  };
}
