import { performance } from 'node:perf_hooks';
import { ErrorCodes } from '../../errors/error-codes.js';
import { OmnibusError } from '../../errors/omnibus-error.js';
import type { MessageEnvelope } from '../../message/envelope.js';
import { isReservedHeader, WireHeaders } from '../../message/wire-headers.js';
import { noSubscribersError } from '../subscriber-check.js';
import type { TopologySpec } from '../topology.js';
import { InMemoryConnection } from './in-memory-connection.js';
import { InMemoryGroup } from './in-memory-group.js';
import { copyBytes } from './byte-slab.js';
import { StoredEntry, type InMemoryDeadLetter } from './in-memory-message.js';
import { MAX_TIMER_MS } from './in-memory-options.js';

/** A message as handed to {@link InMemoryBroker.publish}: wire headers, payload, optional delay. */
export interface BrokerMessage {
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Uint8Array;
  readonly delayMs?: number;
}

/**
 * A frozen copy of `envelope` equal to what a round trip through the wire headers gives
 * (reserved header names dropped, `occurredAt` to the millisecond), with its own payload copy.
 */
function snapshotEnvelope(envelope: MessageEnvelope): MessageEnvelope {
  const headers = sharedHeaders(envelope.headers);
  const time = envelope.occurredAt.getTime();
  if (Number.isNaN(time)) {
    throw new OmnibusError(ErrorCodes.PUBLISH_FAILED, `message ${envelope.id} has an invalid occurredAt`);
  }
  const snapshot: { -readonly [K in keyof MessageEnvelope]: MessageEnvelope[K] } = {
    id: envelope.id,
    type: envelope.type,
    payload: copyBytes(envelope.payload),
    contentType: envelope.contentType,
    headers,
    occurredAt: new Date(time),
  };
  if (envelope.correlationId !== undefined) snapshot.correlationId = envelope.correlationId;
  if (envelope.causationId !== undefined) snapshot.causationId = envelope.causationId;
  if (envelope.partitionKey !== undefined) snapshot.partitionKey = envelope.partitionKey;
  if (envelope.version !== undefined) snapshot.version = envelope.version;
  if (envelope.replyTo !== undefined) snapshot.replyTo = envelope.replyTo;
  return Object.freeze(snapshot);
}

/** The envelope's headers as is when frozen and free of reserved names (what the bus builds), else a frozen filtered copy. */
function sharedHeaders(source: MessageEnvelope['headers']): MessageEnvelope['headers'] {
  let clean = Object.isFrozen(source);
  if (clean) {
    for (const name in source) {
      if (isReservedHeader(name)) {
        clean = false;
        break;
      }
    }
  }
  if (clean) return source;
  const headers: Record<string, string> = {};
  for (const name in source) {
    if (!isReservedHeader(name)) headers[name] = source[name] as string;
  }
  return Object.freeze(headers);
}

/** Counts of one group, for diagnostics and tests. */
export interface InMemoryGroupStats {
  /** Waiting (including delayed and retrying) messages. */
  readonly ready: number;
  /** Delivered, not yet settled. */
  readonly inFlight: number;
  /** In the dead-letter queue. */
  readonly deadLettered: number;
  /** Attached consumers (subscriptions). */
  readonly consumers: number;
}

/**
 * The in-process "broker" behind {@link InMemoryTransport}. Several transports attached to one
 * broker behave like several processes on one real broker: consumers in a group compete, groups
 * fan out, and a consumer that goes away has its unsettled messages redelivered to the others.
 *
 * State (queues, dead letters, delivery counts) lives as long as the broker object and survives
 * {@link simulateRestart} and {@link dropConnections}, which exercise the transports' reconnect
 * path without a real broker. An idle broker (no subscriptions attached) holds no timers or
 * other handles. All methods are synchronous or resolve without I/O; single event loop only.
 */
export class InMemoryBroker {
  readonly #destinations = new Map<string, Map<string, InMemoryGroup>>();
  readonly #connections = new Set<InMemoryConnection>();
  readonly #upWaiters = new Set<() => void>();
  readonly #recentIds = new Map<string, Map<string, number>>();
  #up = true;
  #seq = 0;

  /** False while {@link simulateRestart} keeps the broker down. */
  get isUp(): boolean {
    return this.#up;
  }

  /**
   * Create destinations and groups (with their dead-letter queues). Idempotent; a group
   * provisioned again as ordered becomes ordered. Throws PROVISIONING_FAILED for empty names.
   */
  provision(topology: TopologySpec): void {
    for (const destination of topology.destinations) {
      if (typeof destination.name !== 'string' || destination.name === '') {
        throw new OmnibusError(ErrorCodes.PROVISIONING_FAILED, 'destination names must be non-empty strings');
      }
      for (const group of destination.groups) {
        if (typeof group.name !== 'string' || group.name === '') {
          throw new OmnibusError(
            ErrorCodes.PROVISIONING_FAILED,
            `group names of ${destination.name} must be non-empty strings`,
          );
        }
      }
    }
    for (const destination of topology.destinations) {
      let groups = this.#destinations.get(destination.name);
      if (groups === undefined) {
        groups = new Map();
        this.#destinations.set(destination.name, groups);
      }
      for (const spec of destination.groups) {
        const existing = groups.get(spec.name);
        if (existing === undefined)
          groups.set(spec.name, new InMemoryGroup(destination.name, spec.name, spec.ordered));
        else existing.ordered ||= spec.ordered;
      }
    }
  }

  /** Delete destinations (every group and its messages) or single groups. Idempotent. */
  deleteTopology(topology: TopologySpec): void {
    for (const destination of topology.destinations) {
      const groups = this.#destinations.get(destination.name);
      if (groups === undefined) continue;
      for (const group of destination.groups) groups.delete(group.name);
      if (groups.size === 0 || destination.groups.length === 0) this.#destinations.delete(destination.name);
    }
  }

  /** True when `destination` was provisioned. */
  hasDestination(destination: string): boolean {
    return this.#destinations.has(destination);
  }

  /**
   * Store messages for every group of `destination` (all or nothing). Messages published
   * before a group was provisioned are not delivered to it. With `deduplicationWindowMs` > 0,
   * a message whose `ce-id` was published to the destination within the window is dropped.
   * Throws PUBLISH_FAILED when the destination is not provisioned or the broker is down, and
   * NO_SUBSCRIBERS (storing nothing) when it has no group yet (ADR 0005).
   */
  publish(
    destination: string,
    messages: readonly BrokerMessage[],
    options: { readonly deduplicationWindowMs?: number } = {},
  ): void {
    const stored = messages.map((message) => {
      const headers = Object.freeze({ ...message.headers });
      return { headers, payload: copyBytes(message.payload), delayMs: message.delayMs };
    });
    const groups = this.#groupsOf(destination);
    const clock = this.#clock();
    for (const { headers, payload, delayMs } of stored)
      this.#enqueue(
        destination,
        groups,
        clock,
        options.deduplicationWindowMs ?? 0,
        headers[WireHeaders.id],
        undefined,
        headers,
        payload,
        headers[WireHeaders.partitionKey],
        delayMs,
      );
  }

  /**
   * Store Omnibus envelopes (what {@link InMemoryTransport} publishes): like {@link publish},
   * but the envelope is kept as a frozen snapshot (payload copied once) that deliveries hand
   * out as is, and the wire headers are built only if something reads them. All or nothing:
   * every snapshot is taken before anything is stored. @internal
   */
  publishEnvelopes(
    destination: string,
    messages: readonly { readonly envelope: MessageEnvelope; readonly delayMs?: number }[],
    deduplicationWindowMs: number,
  ): void {
    const snapshots = messages.map(({ envelope }) => snapshotEnvelope(envelope));
    const groups = this.#groupsOf(destination);
    const clock = this.#clock();
    for (let i = 0; i < snapshots.length; i += 1) {
      const snapshot = snapshots[i] as MessageEnvelope;
      this.#enqueue(
        destination,
        groups,
        clock,
        deduplicationWindowMs,
        snapshot.id,
        snapshot,
        undefined,
        snapshot.payload,
        snapshot.partitionKey,
        messages[i]?.delayMs,
      );
    }
  }

  /** The groups of a destination that can take a publish (PUBLISH_FAILED / NO_SUBSCRIBERS otherwise). */
  #groupsOf(destination: string): Map<string, InMemoryGroup> {
    if (!this.#up)
      throw new OmnibusError(ErrorCodes.PUBLISH_FAILED, 'in-memory broker is down', { retriable: true });
    const groups = this.#destinations.get(destination);
    if (groups === undefined) {
      throw new OmnibusError(ErrorCodes.PUBLISH_FAILED, `destination "${destination}" is not provisioned`);
    }
    if (groups.size === 0) throw noSubscribersError('in-memory broker', destination);
    return groups;
  }

  /** The clock of one publish call: one reading shared by all its messages. */
  #clock(): { readonly now: number; readonly enqueuedAt: Date } {
    return { now: performance.now(), enqueuedAt: new Date() };
  }

  /** Store one message for every group (unless it is a duplicate within the window). */
  #enqueue(
    destination: string,
    groups: Map<string, InMemoryGroup>,
    clock: { readonly now: number; readonly enqueuedAt: Date },
    deduplicationWindowMs: number,
    id: string | undefined,
    envelope: MessageEnvelope | undefined,
    headers: Readonly<Record<string, string>> | undefined,
    payload: Uint8Array,
    partitionKey: string | undefined,
    delayMs: number | undefined,
  ): void {
    if (this.#isDuplicate(destination, id, deduplicationWindowMs, clock.now)) return;
    this.#seq += 1;
    const delay = delayMs !== undefined && delayMs > 0 ? delayMs : 0;
    for (const group of groups.values()) {
      group.enqueue(
        new StoredEntry(
          this.#seq,
          envelope,
          headers,
          payload,
          partitionKey,
          clock.enqueuedAt,
          clock.now + delay,
        ),
      );
    }
  }

  /**
   * Publish a foreign message: raw bytes and raw headers, no Omnibus envelope (what another
   * system would send). Consumers receive it with `type: ''` and the broker's message id.
   */
  publishForeign(
    destination: string,
    body: Uint8Array,
    headers: Readonly<Record<string, string | number | boolean>> = {},
  ): Promise<void> {
    try {
      // Like every broker adapter, non-string values from a foreign producer arrive as their text.
      const text: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) text[name] = String(value);
      this.publish(destination, [{ headers: text, payload: body }]);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('non-Error thrown', { cause: error }));
    }
  }

  /** True when the destination (and, when given, its group) is provisioned. */
  has(destination: string, group?: string): boolean {
    const groups = this.#destinations.get(destination);
    return groups !== undefined && (group === undefined || groups.has(group));
  }

  /**
   * Enqueue a message for one group only (a dead-letter replay), as a first attempt after
   * every message already queued. Throws when the broker is down or the group is unknown.
   */
  enqueueForGroup(
    destination: string,
    group: string,
    headers: Readonly<Record<string, string>>,
    payload: Uint8Array,
  ): void {
    if (!this.#up)
      throw new OmnibusError(ErrorCodes.PUBLISH_FAILED, 'in-memory broker is down', { retriable: true });
    const target = this.#group(destination, group);
    this.#seq += 1;
    const frozen = Object.freeze({ ...headers });
    target.enqueue(
      new StoredEntry(
        this.#seq,
        undefined,
        frozen,
        payload.slice(),
        frozen[WireHeaders.partitionKey],
        new Date(),
        performance.now(),
      ),
    );
  }

  /** Read and remove the dead-lettered messages of one group (out of band). */
  readDeadLetters(destination: string, group: string): InMemoryDeadLetter[] {
    return this.#group(destination, group).takeDeadLetters();
  }

  /**
   * Wait up to `timeoutMs` for at least `count` dead-lettered messages of one group, then read
   * and remove all of them (possibly fewer than `count` after a timeout).
   */
  async waitForDeadLetters(
    destination: string,
    group: string,
    count: number,
    timeoutMs: number,
  ): Promise<InMemoryDeadLetter[]> {
    const target = this.#group(destination, group);
    await target.waitForDeadLetters(count, timeoutMs);
    return target.takeDeadLetters();
  }

  /** Counts of one group. Throws when it is not provisioned. */
  stats(destination: string, group: string): InMemoryGroupStats {
    return this.#group(destination, group).stats();
  }

  /**
   * Fault injection: drop every transport's connection. Unsettled messages are released for
   * redelivery (started ones as a new attempt), stale settlements reject, and each transport
   * goes `reconnecting` and re-attaches on its own.
   */
  dropConnections(): void {
    const error = new OmnibusError(
      ErrorCodes.CONNECTION_FAILED,
      'connection dropped by the in-memory broker',
      { retriable: true },
    );
    for (const connection of [...this.#connections]) connection.lose(error);
  }

  /**
   * Fault injection: take the broker down for `downtimeMs` (connections dropped, connects and
   * publishes refused), then bring it back with its state intact. Resolves once it is up.
   */
  simulateRestart(downtimeMs = 25): Promise<void> {
    this.#up = false;
    this.dropConnections();
    return new Promise((resolve) => {
      setTimeout(
        () => {
          this.#up = true;
          for (const wake of [...this.#upWaiters]) wake();
          resolve();
        },
        Math.min(Math.max(0, downtimeMs), MAX_TIMER_MS),
      );
    });
  }

  /**
   * Open a connection (used by {@link InMemoryTransport}; not for application code).
   * Throws CONNECTION_FAILED (retriable) while the broker is down.
   */
  connect(onLost: (error: Error) => void): InMemoryConnection {
    if (!this.#up)
      throw new OmnibusError(ErrorCodes.CONNECTION_FAILED, 'in-memory broker is down', { retriable: true });
    const connection = new InMemoryConnection(this, onLost, (c) => this.#connections.delete(c));
    this.#connections.add(connection);
    return connection;
  }

  /** Call `listener` when the broker comes back up. Returns a disposer. */
  onUp(listener: () => void): () => void {
    const once = (): void => {
      this.#upWaiters.delete(once);
      listener();
    };
    this.#upWaiters.add(once);
    return () => this.#upWaiters.delete(once);
  }

  /** The group, or SUBSCRIBE_FAILED when not provisioned. @internal */
  group(destination: string, group: string): InMemoryGroup {
    return this.#group(destination, group);
  }

  #group(destination: string, group: string): InMemoryGroup {
    const found = this.#destinations.get(destination)?.get(group);
    if (found === undefined) {
      throw new OmnibusError(
        ErrorCodes.SUBSCRIBE_FAILED,
        `group "${group}" of destination "${destination}" is not provisioned`,
      );
    }
    return found;
  }

  #isDuplicate(destination: string, id: string | undefined, windowMs: number, now: number): boolean {
    if (windowMs <= 0 || id === undefined) return false;
    let recent = this.#recentIds.get(destination);
    if (recent === undefined) {
      recent = new Map();
      this.#recentIds.set(destination, recent);
    }
    for (const [seen, expiresAt] of recent) {
      if (expiresAt > now) break;
      recent.delete(seen);
    }
    const expiresAt = recent.get(id);
    if (expiresAt !== undefined && expiresAt > now) return true;
    recent.delete(id);
    recent.set(id, now + windowMs);
    return false;
  }
}
