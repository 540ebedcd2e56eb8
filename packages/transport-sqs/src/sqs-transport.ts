import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import {
  TransportStatusTracker,
  ErrorCodes,
  OmnibusError,
  type BacklogReading,
  type DeadLetterStore,
  type DeliveryHandler,
  type OutgoingMessage,
  type Subscription,
  type SubscriptionSpec,
  type TopologyInspection,
  type TopologySpec,
  type Transport,
  type TransportCapabilities,
  type TransportStatus,
  type TransportStatusListener,
} from '@omnibus/core';
import { closedTransportError } from '@omnibus/core/adapter-kit';
import { readSqsBacklog } from './sqs-backlog.js';
import { sqsCapabilities } from './sqs-capabilities.js';
import { sqsDeadLetterStore } from './sqs-dead-letters.js';
import { createSqsClients, type SqsClients } from './sqs-clients.js';
import { deleteSqsTopology } from './sqs-delete-topology.js';
import { inspectSqsTopology } from './sqs-inspect-topology.js';
import { SqsDirectory } from './sqs-directory.js';
import { isTransientSqsError, toOmnibusError } from './sqs-error-mapper.js';
import { SqsNaming } from './sqs-naming.js';
import { parseSqsOptions, type SqsTransportOptions } from './sqs-options.js';
import { SqsProvisioner } from './sqs-provisioner.js';
import { SqsPublisher } from './sqs-publisher.js';
import { SqsSubscription } from './sqs-subscription.js';
import { DeadLetterMemory } from './dead-letter-memory.js';
import { ReleaseLedger } from './release-ledger.js';

const DEFAULT_DRAIN_MS = 30_000;

/**
 * Omnibus transport over Amazon SQS (standard or FIFO queues), with fan-out across consumer
 * groups through SNS topics (`fanOut: 'sns'`) or one queue per destination (`fanOut: 'none'`).
 * See docs/transports/sqs.md for how each delivery rule maps onto SQS/SNS.
 *
 * Concurrency: every method may be called concurrently once `connect` resolved. SQS speaks
 * HTTP, so there is no long-lived connection: "reconnecting" is reported while receive calls
 * fail and "ready" again after the next successful one. `connect`, `provision` and `close` are
 * idempotent. Options are validated in the constructor (one `CONFIGURATION_INVALID` error
 * listing every problem).
 */
export class SqsTransport implements Transport {
  readonly name = 'sqs';
  readonly capabilities: TransportCapabilities;
  /** Browse, replay and purge dead letters (standard queues; undefined with `fifo`). */
  readonly deadLetters?: DeadLetterStore;
  readonly #options: SqsTransportOptions;
  readonly #clients: SqsClients;
  readonly #naming: SqsNaming;
  readonly #directory: SqsDirectory;
  readonly #provisioner: SqsProvisioner;
  readonly #publisher: SqsPublisher;
  readonly #tracker = new TransportStatusTracker();
  readonly #subscriptions = new Set<SqsSubscription>();
  /** fanOut "none": the one group consuming each destination through this transport. */
  readonly #soleGroups = new Map<string, string>();
  readonly #ledger = new ReleaseLedger();
  readonly #deadLettered = new DeadLetterMemory();
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: Readonly<Record<string, unknown>> = {}) {
    this.#options = parseSqsOptions(options);
    this.capabilities = sqsCapabilities(this.#options);
    this.#clients = createSqsClients(this.#options);
    this.#naming = new SqsNaming(this.#options);
    this.#directory = new SqsDirectory(this.#clients.sqs, this.#clients.sns);
    this.#provisioner = new SqsProvisioner({
      ...this.#clients,
      naming: this.#naming,
      directory: this.#directory,
      options: this.#options,
    });
    this.#publisher = new SqsPublisher({
      ...this.#clients,
      naming: this.#naming,
      directory: this.#directory,
      options: this.#options,
      capabilities: this.capabilities,
    });
    if (this.capabilities.deadLetterStore === true)
      this.deadLetters = sqsDeadLetterStore({
        sqs: this.#clients.sqs,
        directory: this.#directory,
        queues: (destination, group) =>
          this.#naming.queues(destination, group, this.#options.fanOut === 'sns'),
        assertOpen: () => this.#assertOpen(),
      });
  }

  /** Current lifecycle state. */
  get status(): TransportStatus {
    return this.#tracker.status;
  }

  /** Subscribe to status changes; returns a disposer. */
  onStatusChange(listener: TransportStatusListener): () => void {
    return this.#tracker.onChange(listener);
  }

  /**
   * Check the endpoints answer (ListQueues, and ListTopics with SNS). Any service response,
   * even an authorization error, counts as reachable; network and missing-credential errors
   * reject with `CONNECTION_FAILED`. Idempotent.
   */
  connect(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError());
    this.#connecting ??= this.#connect().catch((error: unknown) => {
      this.#connecting = undefined;
      this.#tracker.set('idle');
      throw error;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    this.#tracker.set('connecting');
    const prefix = this.#options.queuePrefix;
    await Promise.all([
      this.#probe('SQS', () =>
        this.#clients.sqs.send(
          new ListQueuesCommand({ MaxResults: 1, ...(prefix === '' ? {} : { QueueNamePrefix: prefix }) }),
        ),
      ),
      this.#clients.sns === undefined
        ? undefined
        : this.#probe('SNS', () =>
            (this.#clients.sns as NonNullable<SqsClients['sns']>).send(new ListTopicsCommand({})),
          ),
    ]);
    this.#tracker.set('ready');
  }

  async #probe(service: string, call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (typeof status === 'number' && status < 500) return; // the service answered
      throw toOmnibusError(
        error,
        ErrorCodes.CONNECTION_FAILED,
        `Cannot reach ${service} at ${this.#endpointFor(service)}`,
      );
    }
  }

  /** Create or verify queues, dead-letter queues, redrive policies, topics and subscriptions. Idempotent. */
  async provision(topology: TopologySpec): Promise<void> {
    this.#assertOpen();
    if (this.#options.fanOut === 'none') {
      for (const d of topology.destinations) {
        const group = d.groups[0]?.name;
        if (group !== undefined && d.groups.length === 1) this.#claimSoleGroup(d.name, group);
      }
    }
    await this.#provisioner.provision(topology);
    for (const d of topology.destinations) if (d.groups.length > 0) this.#publisher.markSubscribed(d.name);
  }

  /**
   * Delete the queues of `topology`'s groups (and, with fanOut "sns", its topics) with their
   * messages; missing ones are skipped. Used for a bus's per-instance reply destination at stop.
   * See {@link deleteSqsTopology}.
   */
  async deleteTopology(topology: TopologySpec): Promise<void> {
    this.#assertOpen();
    await deleteSqsTopology(
      { ...this.#clients, naming: this.#naming, directory: this.#directory, fanOut: this.#options.fanOut },
      topology,
    );
    if (this.#options.fanOut === 'none')
      for (const d of topology.destinations) this.#soleGroups.delete(d.name);
  }

  /** Which queues (and, with fanOut "sns", topics) of `topology` exist; see {@link inspectSqsTopology}. */
  async inspectTopology(topology: TopologySpec): Promise<TopologyInspection> {
    this.#assertOpen();
    return inspectSqsTopology(
      { sqs: this.#clients.sqs, sns: this.#clients.sns, naming: this.#naming, fanOut: this.#options.fanOut },
      topology,
    );
  }

  /** Publish; resolves when SQS/SNS accepted every message. See {@link SqsPublisher}. */
  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    this.#assertOpen();
    try {
      await this.#publisher.publish(destination, messages);
      if (this.#tracker.status === 'reconnecting') this.#tracker.set('ready');
    } catch (error) {
      if (isTransientSqsError(error)) this.#reconnecting(error);
      throw error;
    }
  }

  /** Start consuming one (destination, group); the queues must have been provisioned. */
  async subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    this.#assertOpen();
    const perGroup = this.#options.fanOut === 'sns';
    if (!perGroup) this.#claimSoleGroup(spec.destination, spec.group);
    const names = this.#naming.queues(spec.destination, spec.group, perGroup);
    const [queueUrl, deadLetterQueueUrl] = await Promise.all([
      this.#directory.queueUrl(names.queue, ErrorCodes.SUBSCRIBE_FAILED),
      this.#directory.queueUrl(names.deadLetterQueue, ErrorCodes.SUBSCRIBE_FAILED),
    ]);
    const subscription = new SqsSubscription({
      sqs: this.#clients.sqs,
      spec,
      options: this.#options,
      target: {
        queueUrl,
        deadLetterQueueUrl,
        fifo: this.#options.fifo,
        settlementRetryMs: this.#options.settlementRetryMs,
      },
      onDelivery,
      ledger: this.#ledger,
      deadLettered: this.#deadLettered,
      health: {
        onReceiveError: (error) => this.#reconnecting(error),
        onReceiveOk: () => {
          if (this.#tracker.status === 'reconnecting') this.#tracker.set('ready');
        },
      },
    });
    this.#subscriptions.add(subscription);
    subscription.start();
    return {
      close: async (drainTimeoutMs: number) => {
        await subscription.close(drainTimeoutMs);
        this.#subscriptions.delete(subscription);
      },
    };
  }

  /** Close every subscription (draining up to `drainTimeoutMs`), then the SDK clients. Idempotent. */
  close(drainTimeoutMs = DEFAULT_DRAIN_MS): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#tracker.set('closing');
    await Promise.all([...this.#subscriptions].map((s) => s.close(drainTimeoutMs)));
    this.#subscriptions.clear();
    this.#clients.sqs.destroy();
    this.#clients.sns?.destroy();
    this.#tracker.set('closed');
  }

  /** The group queue's approximate depth (see `readSqsBacklog`). */
  async readBacklog(destination: string, group: string): Promise<BacklogReading> {
    this.#assertOpen();
    const { queue } = this.#naming.queues(destination, group, this.#options.fanOut === 'sns');
    return readSqsBacklog(this.#clients.sqs, this.#directory, queue, destination, group);
  }

  /** The SDK clients: `{ sqs: SQSClient, sns: SNSClient | undefined }`. */
  raw(): SqsClients {
    return this.#clients;
  }

  #claimSoleGroup(destination: string, group: string): void {
    const current = this.#soleGroups.get(destination);
    if (current !== undefined && current !== group) {
      throw new OmnibusError(
        ErrorCodes.CAPABILITY_MISSING,
        `SQS with fanOut "none" has one queue per destination, already consumed by group "${current}"; group "${group}" on "${destination}" needs fanOut "sns"`,
      );
    }
    this.#soleGroups.set(destination, group);
  }

  #reconnecting(error: unknown): void {
    if (this.#tracker.status === 'ready')
      this.#tracker.set('reconnecting', error instanceof Error ? error : new Error(String(error)));
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw this.#closedError();
  }

  #closedError(): OmnibusError {
    return closedTransportError('SQS');
  }

  #endpointFor(service: string): string {
    const endpoint =
      service === 'SNS' ? (this.#options.snsEndpoint ?? this.#options.endpoint) : this.#options.endpoint;
    return endpoint ?? `the AWS default endpoint (region ${this.#options.region ?? 'from the SDK chain'})`;
  }
}
