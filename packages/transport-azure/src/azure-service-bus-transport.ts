import { randomUUID } from 'node:crypto';
import { ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusMessage, ServiceBusMessageBatch, ServiceBusSender } from '@azure/service-bus';
import {
  ErrorCodes,
  OmnibusError,
  SubscriberCheck,
  TransportStatusTracker,
  isOmnibusError,
} from '@omnibus/core';
import type {
  BacklogReading,
  DeliveryHandler,
  OutgoingMessage,
  Subscription,
  SubscriptionSpec,
  GroupSpec,
  TopologyInspection,
  TopologyItem,
  TopologySpec,
  DeadLetterStore,
  Transport,
  TransportCapabilities,
  TransportStatus,
  TransportStatusListener,
} from '@omnibus/core';
import { closedTransportError, publishDeadline, resendUntil } from '@omnibus/core/adapter-kit';
import type { ResendOptions } from '@omnibus/core/adapter-kit';
import { mapAzureError } from './azure-error-mapper.js';
import { HEADER_ALLOWANCE_BYTES, describeEndpoint, resolveAzureOptions } from './azure-options.js';
import type { AzureServiceBusOptions, AzureServiceBusOptionsInput } from './azure-options.js';
import type { Consumer, ConsumerContext } from './consumers/consumer-context.js';
import { PullConsumer } from './consumers/pull-consumer.js';
import { SessionConsumer } from './consumers/session-consumer.js';
import { StreamConsumer } from './consumers/stream-consumer.js';
import { subscriptionName, topicName } from './entity-names.js';
import { azureBacklogCapability, readAzureBacklog } from './azure-backlog.js';
import { azureDeadLetterStore } from './azure-dead-letters.js';
import { RETRY_TARGET_PROPERTY, toServiceBusMessage } from './message-mapper.js';
import { createProvisioner } from './provisioning/create-provisioner.js';
import type { EntityProvisioner, SubscriptionSettings } from './provisioning/entity-provisioner.js';

/** Longest delay (publish delay or retry delay) this transport accepts: 7 days. */
export const AZURE_MAX_DELAY_MS = 7 * 24 * 60 * 60 * 1000;

/** Drain time used by {@link AzureServiceBusTransport.close} when none is given. */
const DEFAULT_DRAIN_MS = 10_000;

/**
 * Omnibus transport on Azure Service Bus (`@azure/service-bus` 7.x, AMQP 1.0).
 *
 * Mapping: every destination is a topic (`prefix + destination`), every consumer group a
 * subscription on it (members of a group compete on the subscription, groups fan out). Ordered
 * groups get session-enabled subscriptions and every message carries its partition key as
 * session id. Receiving is peek-lock with settlement after the handler; retries are scheduled
 * copies (unordered) or in-session abandons after the delay (ordered); dead letters go to the
 * subscription's native `$DeadLetterQueue` with reason and description.
 *
 * Concurrency: every method may be called concurrently once {@link connect} resolved.
 * {@link connect}, {@link provision} and {@link close} are idempotent.
 */
export class AzureServiceBusTransport implements Transport {
  /** Registry name. */
  readonly name = 'azure';
  /** See the package docs (docs/transports/azure-service-bus.md) for why each value holds. */
  readonly capabilities: TransportCapabilities;
  /** Browse, replay and purge dead letters (each subscription's `$DeadLetterQueue`); after `connect()`. */
  readonly deadLetters: DeadLetterStore;
  /**
   * The group subscription's active message count (see `readAzureBacklog`); present with
   * `admin-client` and `emulator` provisioning, absent with `none`.
   */
  readonly readBacklog?: (destination: string, group: string) => Promise<BacklogReading>;
  readonly #options: AzureServiceBusOptions;
  readonly #provisioner: EntityProvisioner;
  readonly #tracker = new TransportStatusTracker();
  readonly #senders = new Map<string, ServiceBusSender>();
  readonly #ensured = new Map<string, Promise<void>>();
  /** The rule each subscription was last provisioned with (by `#ensured` key). */
  readonly #rules = new Map<string, string | undefined>();
  readonly #consumers = new Set<Consumer>();
  /** Absent with `provisioning: 'none'` (no management rights to count subscriptions). */
  readonly #subscribers: SubscriberCheck | undefined;
  #client: ServiceBusClient | undefined;
  /** Separate connection for session receivers, with the short `sessionAcceptTimeoutMs` operation timeout. */
  #sessionClient: ServiceBusClient | undefined;
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** Validates options at once (throws `CONFIGURATION_INVALID` listing every problem); connects in {@link connect}. */
  constructor(options: AzureServiceBusOptionsInput | Readonly<Record<string, unknown>>) {
    this.#options = resolveAzureOptions(options);
    this.#provisioner = createProvisioner(this.#options);
    this.capabilities = {
      ordering: 'per-key',
      delayedDelivery: { maxDelayMs: AZURE_MAX_DELAY_MS, emulated: false },
      maxRetryDelayMs: AZURE_MAX_DELAY_MS,
      maxPayloadBytes: this.#options.maxMessageSizeBytes - HEADER_ALLOWANCE_BYTES,
      competingConsumers: true,
      fanOut: true,
      survivesBrokerRestart: true,
      noDuplicatesWithoutFaults: true,
      publishDeduplication: false,
      atomicBatchPublish: false,
      deadLetterStore: true,
      publishWithoutSubscribers: this.#provisioner.hasSubscriptions === undefined ? 'unchecked' : 'rejects',
      // Pushed down into each subscription's `$Default` SQL rule where the provisioner owns it.
      headerFilters: this.#provisioner.managesRules === true ? 'broker' : 'router',
    };
    const backlog = azureBacklogCapability(this.#provisioner, this.#options.provisioning);
    if (backlog !== undefined) {
      this.capabilities = { ...this.capabilities, backlog };
      this.readBacklog = async (destination, group) => {
        await this.connect();
        const topic = this.#topic(destination);
        return readAzureBacklog(
          this.#provisioner,
          backlog,
          topic,
          subscriptionName(group),
          destination,
          group,
        );
      };
    }
    const hasSubscriptions = this.#provisioner.hasSubscriptions?.bind(this.#provisioner);
    this.#subscribers =
      hasSubscriptions === undefined
        ? undefined
        : new SubscriberCheck('Azure Service Bus', (destination) =>
            hasSubscriptions(this.#topic(destination)),
          );
    this.deadLetters = azureDeadLetterStore({
      client: () => this.#requireClient(),
      topic: (destination) => this.#topic(destination),
      sender: (client, topic) => this.#sender(client, topic),
    });
  }

  /** Current lifecycle state. */
  get status(): TransportStatus {
    return this.#tracker.status;
  }

  /** Listen to status changes; returns a disposer. */
  onStatusChange(listener: TransportStatusListener): () => void {
    return this.#tracker.onChange(listener);
  }

  /**
   * Create the client and check that the namespace answers (an AMQP link attach; "entity not
   * found" counts as reachable). Rejects with `CONNECTION_FAILED` otherwise. Idempotent.
   */
  connect(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(closedError());
    this.#connecting ??= this.#connect().catch((error: unknown) => {
      this.#connecting = undefined;
      this.#tracker.set('idle');
      throw error;
    });
    return this.#connecting;
  }

  /**
   * Ensure a topic per destination and a subscription per group (session-enabled for ordered
   * groups) through the configured provisioner. Idempotent; concurrent calls share the work.
   */
  async provision(topology: TopologySpec): Promise<void> {
    const work: Promise<void>[] = [];
    for (const destination of topology.destinations) {
      const topic = this.#topic(destination.name);
      work.push(this.#ensureTopic(topic));
      for (const group of destination.groups) {
        work.push(
          this.#ensureSubscription(
            topic,
            subscriptionName(group.name),
            group.ordered,
            this.capabilities.headerFilters === 'broker' ? group.headerFilters : undefined,
          ),
        );
      }
    }
    await Promise.all(work);
    for (const destination of topology.destinations)
      if (destination.groups.length > 0) this.#subscribers?.markSubscribed(destination.name);
  }

  /**
   * Send to the destination's topic in size-limited batches; resolves when Service Bus accepted
   * every message. Payloads over `capabilities.maxPayloadBytes` (or messages the link refuses as
   * too large) reject with `PAYLOAD_TOO_LARGE` before anything of the call is sent; delays beyond
   * 7 days with `DELAY_OUT_OF_RANGE`; a topic that was never provisioned with `PUBLISH_FAILED`
   * (publish never creates entities); a topic without subscriptions with `NO_SUBSCRIBERS` before
   * anything is sent (asked through the management API until one is seen, then remembered; not
   * checked with `provisioning: 'none'`). While the namespace is unreachable (transient SDK
   * errors) the messages not yet accepted are re-sent until `publishTimeoutMs` from the call,
   * then the call rejects with a retriable `PUBLISH_FAILED`. Not atomic across batches: a
   * rejected call may have stored some batches, and a re-sent batch may be stored twice.
   */
  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const client = this.#requireClient();
    this.#validate(destination, messages);
    if (messages.length === 0) return;
    const topic = this.#topic(destination);
    const subscribed = this.#subscribers?.require(destination);
    if (subscribed !== undefined) await subscribed;
    const sender = this.#sender(client, topic);
    const now = Date.now();
    let unsent = messages.map((message) => toServiceBusMessage(message, now));
    const deadline = publishDeadline(this.#options.publishTimeoutMs);
    // While the namespace is unreachable, re-send what is not confirmed yet until the deadline
    // (core's resendUntil, the behaviour every transport shares); batches are rebuilt each time.
    await resendUntil(deadline, this.#resendOptions(destination), async (abortSignal) => {
      try {
        for (const batch of await buildBatches(sender, unsent, destination, abortSignal)) {
          await sender.sendMessages(batch, { abortSignal });
          unsent = unsent.slice(batch.count);
        }
      } catch (error) {
        throw mapAzureError(error, 'publish', `to topic "${topic}"`);
      }
    });
  }

  #resendOptions(destination: string): ResendOptions {
    return {
      transport: 'Azure Service Bus',
      destination,
      isTransient: (error) => isOmnibusError(error) && error.retriable,
    };
  }

  /**
   * Which topics and subscriptions of `topology` exist, asked through the provisioning port's
   * management access (admin client, or the emulator's admin API); creates nothing. A group's
   * dead letters live in its subscription's `$DeadLetterQueue`, present exactly when the
   * subscription is. Rejects with `PROVISIONING_FAILED` with `provisioning: 'none'` (no
   * management access) or when the management endpoint cannot be asked.
   */
  async inspectTopology(topology: TopologySpec): Promise<TopologyInspection> {
    if (this.#closing !== undefined) throw closedError();
    const provisioner = this.#provisioner;
    if (provisioner.exists === undefined) {
      throw new OmnibusError(
        ErrorCodes.PROVISIONING_FAILED,
        "Azure Service Bus: cannot inspect the topology with provisioning 'none' (no management access); use 'admin-client' or 'emulator'",
      );
    }
    const exists = provisioner.exists.bind(provisioner);
    const state = (present: boolean): TopologyItem['state'] => (present ? 'present' : 'missing');
    const items: TopologyItem[] = [];
    for (const { name: destination, groups } of topology.destinations) {
      const topic = this.#topic(destination);
      const topicPresent = await exists(topic);
      items.push({ kind: 'destination', destination, nativeName: topic, state: state(topicPresent) });
      for (const { name: group } of groups) {
        const subscription = subscriptionName(group);
        const present = topicPresent && (await exists(topic, subscription));
        const nativeName = `${topic}/Subscriptions/${subscription}`;
        items.push({ kind: 'group', destination, group, nativeName, state: state(present) });
        items.push({
          kind: 'dead-letter',
          destination,
          group,
          nativeName: `${nativeName}/$DeadLetterQueue`,
          state: state(present),
        });
      }
    }
    return { items };
  }

  /**
   * Delete the subscriptions of `topology`'s groups and then their topics, with their messages
   * (used for a bus's per-instance reply destination at stop); missing entities are skipped. With
   * `provisioning: 'none'` entities are managed elsewhere and nothing is deleted.
   */
  async deleteTopology(topology: TopologySpec): Promise<void> {
    if (this.#closing !== undefined) throw closedError();
    const provisioner = this.#provisioner;
    if (provisioner.deleteTopic === undefined || provisioner.deleteSubscription === undefined) return;
    for (const destination of topology.destinations) {
      const topic = this.#topic(destination.name);
      for (const group of destination.groups) {
        const subscription = subscriptionName(group.name);
        this.#ensured.delete(`subscription:${topic}/${subscription}`);
        this.#rules.delete(`subscription:${topic}/${subscription}`);
        await provisioner.deleteSubscription(topic, subscription);
      }
      const sender = this.#senders.get(topic);
      this.#senders.delete(topic);
      await sender?.close().catch(() => undefined);
      this.#ensured.delete(`topic:${topic}`);
      await provisioner.deleteTopic(topic);
    }
  }

  /**
   * Start consuming one group. The subscription must exist (see {@link provision}); it is checked
   * over AMQP first, so a missing one rejects with `SUBSCRIBE_FAILED`. Ordered specs use session
   * receivers, others a peek-lock pull loop (or, with the experimental `receiver: 'stream'`, the
   * SDK's streaming receiver); see {@link SessionConsumer}, {@link PullConsumer} and {@link StreamConsumer}.
   */
  async subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    const client = this.#requireClient();
    if (!Number.isInteger(spec.concurrency) || spec.concurrency < 1) {
      throw new OmnibusError(
        ErrorCodes.SUBSCRIBE_FAILED,
        `concurrency must be an integer ≥ 1, got ${String(spec.concurrency)}`,
      );
    }
    const topic = this.#topic(spec.destination);
    const subscription = subscriptionName(spec.group);
    const sessionClient = spec.ordered ? this.#sessionClientFor() : undefined;
    await verifySubscription(sessionClient ?? client, topic, subscription, spec.ordered);
    const context: ConsumerContext = {
      client: sessionClient ?? client,
      topic,
      subscription,
      spec,
      onDelivery,
      receiveWaitMs: this.#options.receiveWaitMs,
      operationTimeoutMs: this.#options.operationTimeoutMs,
      maxRetryDelayMs: this.capabilities.maxRetryDelayMs,
      sendCopy: (copy) => this.#sendCopy(client, topic, copy),
      onError: (error) => this.#tracker.set('reconnecting', error),
      onHealthy: () => this.#tracker.set('ready'),
    };
    const consumer = spec.ordered
      ? new SessionConsumer(context, this.#options.lockDurationMs, this.#options.sessionAcceptTimeoutMs)
      : this.#options.receiver === 'stream'
        ? new StreamConsumer(context, this.#options.lockDurationMs)
        : new PullConsumer(context, this.#options.lockDurationMs);
    this.#consumers.add(consumer);
    consumer.start();
    return {
      close: async (drainTimeoutMs: number) => {
        await consumer.close(drainTimeoutMs);
        this.#consumers.delete(consumer);
      },
    };
  }

  /** Close every subscription (draining up to `drainTimeoutMs`), the senders and the connection. Idempotent. */
  close(drainTimeoutMs: number = DEFAULT_DRAIN_MS): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  /** The `ServiceBusClient` (after {@link connect}), for broker-specific needs. */
  raw(): ServiceBusClient | undefined {
    return this.#client;
  }

  #newClient(timeoutInMs: number): ServiceBusClient {
    return new ServiceBusClient(this.#options.connectionString, {
      retryOptions: {
        maxRetries: this.#options.maxRetries,
        timeoutInMs,
        retryDelayInMs: 300,
        maxRetryDelayInMs: 5_000,
      },
    });
  }

  #sessionClientFor(): ServiceBusClient {
    this.#sessionClient ??= this.#newClient(this.#options.sessionAcceptTimeoutMs);
    return this.#sessionClient;
  }

  async #connect(): Promise<void> {
    this.#tracker.set('connecting');
    const client = this.#newClient(this.#options.operationTimeoutMs);
    try {
      await probe(client, this.#topic('omnibus-connection-probe'));
    } catch (error) {
      await client.close().catch(() => undefined);
      throw mapAzureError(error, 'connect', `to ${describeEndpoint(this.#options.connectionString)}`);
    }
    this.#client = client;
    this.#tracker.set('ready');
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    await this.#connecting?.catch(() => undefined);
    this.#tracker.set('closing');
    await Promise.all([...this.#consumers].map((consumer) => consumer.close(drainTimeoutMs)));
    this.#consumers.clear();
    await Promise.all([...this.#senders.values()].map((sender) => sender.close().catch(() => undefined)));
    this.#senders.clear();
    const clients = [this.#client, this.#sessionClient].filter((c): c is ServiceBusClient => c !== undefined);
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await this.#provisioner.close();
    this.#tracker.set('closed');
  }

  #validate(destination: string, messages: readonly OutgoingMessage[]): void {
    for (const { envelope, delayMs } of messages) {
      if (envelope.payload.byteLength > this.capabilities.maxPayloadBytes) {
        throw new OmnibusError(
          ErrorCodes.PAYLOAD_TOO_LARGE,
          `Message ${envelope.id} to "${destination}" has a ${String(envelope.payload.byteLength)}-byte payload; Azure Service Bus accepts at most ${String(this.capabilities.maxPayloadBytes)} bytes here (maxMessageSizeBytes ${String(this.#options.maxMessageSizeBytes)} minus ${String(HEADER_ALLOWANCE_BYTES)} for properties)`,
        );
      }
      if (
        delayMs !== undefined &&
        (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > AZURE_MAX_DELAY_MS)
      ) {
        throw new OmnibusError(
          ErrorCodes.DELAY_OUT_OF_RANGE,
          `Message ${envelope.id} to "${destination}" has delay ${String(delayMs)} ms; Azure Service Bus transport accepts 0…${String(AZURE_MAX_DELAY_MS)} ms`,
        );
      }
    }
  }

  #requireClient(): ServiceBusClient {
    if (this.#closing !== undefined) throw closedError();
    if (this.#client === undefined) {
      throw new OmnibusError(
        ErrorCodes.BUS_NOT_STARTED,
        'Azure Service Bus transport is not connected: call connect() first',
      );
    }
    return this.#client;
  }

  #topic(destination: string): string {
    return topicName(this.#options.prefix, destination);
  }

  #sender(client: ServiceBusClient, topic: string): ServiceBusSender {
    let sender = this.#senders.get(topic);
    if (sender === undefined) {
      sender = client.createSender(topic);
      this.#senders.set(topic, sender);
    }
    return sender;
  }

  async #sendCopy(client: ServiceBusClient, topic: string, copy: ServiceBusMessage): Promise<void> {
    try {
      await this.#sender(client, topic).sendMessages(copy);
    } catch (error) {
      throw mapAzureError(error, 'settle', `retry copy to topic "${topic}"`);
    }
  }

  #ensureTopic(topic: string): Promise<void> {
    return this.#once(`topic:${topic}`, () => this.#provisioner.ensureTopic(topic));
  }

  #ensureSubscription(
    topic: string,
    subscription: string,
    ordered: boolean,
    headerFilters: GroupSpec['headerFilters'],
  ): Promise<void> {
    const settings: SubscriptionSettings = {
      requiresSession: ordered,
      lockDurationMs: this.#options.lockDurationMs,
      maxDeliveryCount: this.#options.maxDeliveryCount,
      sqlFilter: subscriptionFilter(subscription, headerFilters),
    };
    const key = `subscription:${topic}/${subscription}`;
    // Provisioning the group again with other header filters brings the rule up to date.
    if (this.#rules.get(key) !== settings.sqlFilter) {
      this.#ensured.delete(key);
      this.#rules.set(key, settings.sqlFilter);
    }
    return this.#once(key, () => this.#provisioner.ensureSubscription(topic, subscription, settings));
  }

  /** Run `work` once per key; a failure is forgotten so the next call tries again. */
  #once(key: string, work: () => Promise<void>): Promise<void> {
    let pending = this.#ensured.get(key);
    if (pending === undefined) {
      pending = work().catch((error: unknown) => {
        this.#ensured.delete(key);
        throw error;
      });
      this.#ensured.set(key, pending);
    }
    return pending;
  }
}

/**
 * Subscription rule that keeps retry copies addressed to other subscriptions out (copies are
 * scheduled on the topic, which fans out). Applied where SQL filters exist (admin client); the
 * consumer drops such copies as well.
 */
export function retryFilter(subscription: string): string {
  return `[${RETRY_TARGET_PROPERTY}] IS NULL OR [${RETRY_TARGET_PROPERTY}] = '${sqlText(subscription)}'`;
}

/**
 * The SQL rule of a group's subscription: {@link retryFilter}, and with header filters (filter
 * push-down) only the original messages whose application properties match one of them — every
 * listed header equal to its value — while retry copies addressed to the group always pass:
 * `[r] IS NULL AND [region] = 'eu' OR … OR [r] = 'billing'` (AND binds before OR, no
 * parentheses needed). A header name that cannot be written as a bracketed SQL identifier (it
 * contains `[` or `]`) leaves the group without push-down (the router still filters). Pure.
 */
export function subscriptionFilter(
  subscription: string,
  headerFilters: readonly Readonly<Record<string, string>>[] | undefined,
): string {
  if (headerFilters === undefined || headerFilters.length === 0) return retryFilter(subscription);
  const names = headerFilters.flatMap((f) => Object.keys(f));
  if (names.length === 0 || names.some((name) => /[[\]]/.test(name))) return retryFilter(subscription);
  const original = headerFilters.map((filter) =>
    [
      `[${RETRY_TARGET_PROPERTY}] IS NULL`,
      ...Object.entries(filter).map(([name, value]) => `[${name}] = '${sqlText(value)}'`),
    ].join(' AND '),
  );
  return [...original, `[${RETRY_TARGET_PROPERTY}] = '${sqlText(subscription)}'`].join(' OR ');
}

/** A SQL string literal's content: quotes doubled. */
function sqlText(value: string): string {
  return value.replace(/'/g, "''");
}

/** Split messages into batches the sender's link accepts; one that fits in no batch is too large. */
async function buildBatches(
  sender: ServiceBusSender,
  messages: readonly ServiceBusMessage[],
  destination: string,
  abortSignal?: AbortSignal,
): Promise<ServiceBusMessageBatch[]> {
  const batches: ServiceBusMessageBatch[] = [];
  const options = abortSignal === undefined ? {} : { abortSignal };
  let batch = await sender.createMessageBatch(options);
  for (const message of messages) {
    if (batch.tryAddMessage(message)) continue;
    if (batch.count > 0) {
      batches.push(batch);
      batch = await sender.createMessageBatch(options);
      if (batch.tryAddMessage(message)) continue;
    }
    throw new OmnibusError(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `Message ${String(message.messageId)} to "${destination}" exceeds the ${String(batch.maxSizeInBytes)}-byte message size Azure Service Bus accepts (payload plus properties)`,
    );
  }
  if (batch.count > 0) batches.push(batch);
  return batches;
}

/**
 * Check over AMQP that a subscription exists (and, for ordered groups, accepts session
 * receivers), whatever the provisioning mode: a peek for plain subscriptions, accepting (and
 * at once releasing) a fresh, empty session for session-enabled ones.
 */
async function verifySubscription(
  client: ServiceBusClient,
  topic: string,
  subscription: string,
  ordered: boolean,
): Promise<void> {
  const subject = `subscription "${topic}/${subscription}"`;
  try {
    if (ordered) {
      const probeSession = await client.acceptSession(topic, subscription, `omnibus-probe-${randomUUID()}`, {
        maxAutoLockRenewalDurationInMs: 0,
      });
      await probeSession.close();
      return;
    }
    const receiver = client.createReceiver(topic, subscription);
    try {
      await receiver.peekMessages(1);
    } finally {
      await receiver.close().catch(() => undefined);
    }
  } catch (error) {
    throw mapAzureError(error, 'subscribe', subject);
  }
}

/** Open a sender link on a name that normally does not exist: any answer from the service proves the namespace is reachable. */
async function probe(client: ServiceBusClient, entity: string): Promise<void> {
  const sender = client.createSender(entity);
  try {
    await sender.createMessageBatch();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'MessagingEntityNotFound') throw error;
  } finally {
    await sender.close().catch(() => undefined);
  }
}

function closedError(): OmnibusError {
  return closedTransportError('Azure Service Bus');
}
