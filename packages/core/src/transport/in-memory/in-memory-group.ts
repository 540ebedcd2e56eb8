import { performance } from 'node:perf_hooks';
import { ErrorCodes } from '../../errors/error-codes.js';
import { OmnibusError } from '../../errors/omnibus-error.js';
import { deadLetterWireHeaders, envelopeFromWire, readDeadLetterInfo } from '../../message/wire-headers.js';
import type { DeadLetterReason } from '../delivery.js';
import type { GroupConsumer, InMemoryDeadLetter, Lease, StoredMessage } from './in-memory-message.js';
import { MAX_TIMER_MS } from './in-memory-options.js';

/** One message in a group's dead-letter queue. @internal */
export interface DeadLetterRecord {
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Uint8Array;
  readonly brokerMessageId: string;
  readonly enqueuedAt: Date;
}

/**
 * One consumer group of one destination: a queue sorted by publish order, the leases in flight,
 * and a dead-letter queue. Consumers of the group compete (round-robin, bounded by each
 * consumer's prefetch). When ordered, only the oldest message of a partition key is eligible
 * and only while no other message of that key is in flight, so retries keep their place
 * (head-of-line blocking per key).
 *
 * Timers: one wake-up timer for the earliest delayed message, armed only while a consumer has
 * intake; {@link detach} of the last consumer clears it, so an idle broker holds no handles.
 * Single event loop; the pump runs in a `setImmediate` callback and hands leases out after its
 * loop, so settlement from inside a handler never re-enters it.
 */
export class InMemoryGroup {
  readonly destination: string;
  readonly name: string;
  ordered: boolean;
  /** Messages waiting for delivery, by seq; entries before `#head` were handed out (cleared, compacted lazily). */
  #ready: (StoredMessage | undefined)[] = [];
  #head = 0;
  readonly #inFlight = new Set<Lease>();
  readonly #lockedKeys = new Set<string>();
  readonly #deadLetters: DeadLetterRecord[] = [];
  readonly #deadLetterWaiters = new Set<() => void>();
  readonly #consumers: GroupConsumer[] = [];
  #next = 0;
  #pumpScheduled: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(destination: string, name: string, ordered: boolean) {
    this.destination = destination;
    this.name = name;
    this.ordered = ordered;
  }

  /** Counts for diagnostics and tests. */
  stats(): {
    readonly ready: number;
    readonly inFlight: number;
    readonly deadLettered: number;
    readonly consumers: number;
  } {
    return {
      ready: this.#ready.length - this.#head,
      inFlight: this.#inFlight.size,
      deadLettered: this.#deadLetters.length,
      consumers: this.#consumers.length,
    };
  }

  /** Add a newly published message. */
  enqueue(message: StoredMessage): void {
    this.#insert(message);
    this.#schedulePump();
  }

  /** Start handing messages to `consumer`. */
  attach(consumer: GroupConsumer): void {
    this.#consumers.push(consumer);
    this.#schedulePump();
  }

  /** Stop handing new messages to `consumer`; its leases stay valid. */
  stopIntake(consumer: GroupConsumer): void {
    consumer.intake = false;
    if (!this.#consumers.some(hasIntake)) this.#clearTimer();
  }

  /** Remove `consumer`, releasing its unsettled leases (started ones count as an attempt). */
  detach(consumer: GroupConsumer): void {
    consumer.intake = false;
    const index = this.#consumers.indexOf(consumer);
    if (index >= 0) this.#consumers.splice(index, 1);
    for (const lease of [...this.#inFlight]) {
      if (lease.consumer === consumer) this.release(lease);
    }
    if (!this.#consumers.some(hasIntake)) this.#clearTimer();
    this.#schedulePump();
  }

  /** Remove the message for this group. Throws SETTLEMENT_FAILED for a stale lease. */
  ack(lease: Lease): void {
    this.#finish(lease, 'settled');
  }

  /** Requeue for redelivery no sooner than `delayMs` from now, as the next attempt. */
  retry(lease: Lease, delayMs: number): void {
    this.#finish(lease, 'settled');
    lease.message.deliveryCount += 1;
    lease.message.availableAt = performance.now() + delayMs;
    this.#insert(lease.message);
  }

  /** Move to this group's dead-letter queue with the reason and origin as headers. */
  deadLetter(lease: Lease, reason: DeadLetterReason): void {
    this.#finish(lease, 'settled');
    const message = lease.message;
    this.#deadLetters.push({
      headers: deadLetterWireHeaders(message.headers, reason, {
        destination: this.destination,
        group: this.name,
      }),
      payload: message.payload,
      brokerMessageId: message.brokerMessageId,
      enqueuedAt: message.enqueuedAt,
    });
    for (const wake of [...this.#deadLetterWaiters]) wake();
  }

  /**
   * Give an unsettled lease back for immediate redelivery. A started lease counts as an
   * attempt (`deliveryAttempt + 1` next time); an unstarted (prefetched) one does not.
   * Ignored for a lease that is no longer in flight.
   */
  release(lease: Lease): void {
    if (lease.state !== 'in-flight') return;
    this.#finish(lease, 'released');
    if (lease.started) lease.message.deliveryCount += 1;
    lease.message.availableAt = performance.now();
    this.#insert(lease.message);
  }

  /** Dead-lettered messages, removed from the queue. */
  takeDeadLetters(): InMemoryDeadLetter[] {
    return this.#deadLetters.splice(0).map((record) => {
      const info = readDeadLetterInfo(record.headers);
      return {
        envelope: envelopeFromWire({
          headers: record.headers,
          payload: record.payload.slice(),
          fallbackId: record.brokerMessageId,
          fallbackTime: record.enqueuedAt,
        }),
        info: info ?? {
          code: '',
          message: '',
          attempts: 0,
          destination: this.destination,
          group: this.name,
          at: new Date(0),
        },
        headers: record.headers,
      };
    });
  }

  /** The dead-letter queue as it is now (a copy of the list; records are immutable). */
  deadLetterSnapshot(): readonly DeadLetterRecord[] {
    return [...this.#deadLetters];
  }

  /** Remove one record of the dead-letter queue; false when it is no longer there. */
  removeDeadLetter(record: DeadLetterRecord): boolean {
    const index = this.#deadLetters.indexOf(record);
    if (index < 0) return false;
    this.#deadLetters.splice(index, 1);
    return true;
  }

  /** Resolves once at least `count` messages are dead-lettered, or after `timeoutMs`. */
  waitForDeadLetters(count: number, timeoutMs: number): Promise<void> {
    if (this.#deadLetters.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#deadLetterWaiters.delete(check);
        resolve();
      };
      const check = (): void => {
        if (this.#deadLetters.length >= count) done();
      };
      const timer = setTimeout(done, Math.min(timeoutMs, MAX_TIMER_MS));
      this.#deadLetterWaiters.add(check);
    });
  }

  #finish(lease: Lease, state: 'settled' | 'released'): void {
    if (lease.state !== 'in-flight') {
      throw new OmnibusError(
        ErrorCodes.SETTLEMENT_FAILED,
        `delivery of message ${lease.message.brokerMessageId} on ${this.destination}/${this.name} is no longer held ` +
          `(${lease.state}); it was released for redelivery (subscription closed or connection lost)`,
      );
    }
    lease.state = state;
    this.#inFlight.delete(lease);
    lease.consumer.outstanding -= 1;
    if (this.ordered && lease.message.partitionKey !== undefined)
      this.#lockedKeys.delete(lease.message.partitionKey);
    this.#schedulePump();
  }

  #insert(message: StoredMessage): void {
    const last = this.#ready[this.#ready.length - 1];
    if (last === undefined || this.#ready.length === this.#head || last.seq < message.seq) {
      this.#ready.push(message);
      return;
    }
    let index = this.#ready.length;
    while (index > this.#head && (this.#ready[index - 1] as StoredMessage).seq > message.seq) index -= 1;
    this.#ready.splice(index, 0, message);
  }

  /**
   * Pump on the next turn of the event loop (a macrotask, not a microtask): a handler that
   * retries with no delay forever must not starve timers and I/O. Only scheduled while a
   * consumer has intake, so a group without consumers holds no handle.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled !== undefined || !this.#consumers.some(hasIntake)) return;
    this.#pumpScheduled = setImmediate(() => {
      this.#pumpScheduled = undefined;
      this.#pump();
    });
  }

  #pump(): void {
    if (!this.#consumers.some(hasIntake)) {
      this.#clearTimer();
      return;
    }
    const now = performance.now();
    const handOut: Lease[] = [];
    const seenKeys = this.ordered ? new Set<string>() : undefined;
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = this.#head; i < this.#ready.length;) {
      const message = this.#ready[i] as StoredMessage;
      const key = this.ordered ? message.partitionKey : undefined;
      if (key !== undefined && seenKeys !== undefined) {
        const blocked = seenKeys.has(key) || this.#lockedKeys.has(key);
        seenKeys.add(key);
        if (blocked) {
          i += 1;
          continue;
        }
      }
      if (message.availableAt > now) {
        earliest = Math.min(earliest, message.availableAt);
        i += 1;
        continue;
      }
      const consumer = this.#pickConsumer();
      if (consumer === undefined) break;
      // Taking the head is O(1) (a drained backlog used to cost one O(n) splice per message).
      if (i === this.#head) {
        this.#ready[i] = undefined;
        this.#head += 1;
        i += 1;
      } else this.#ready.splice(i, 1);
      const deliveryAttempt = message.deliveryCount + 1;
      const lease: Lease =
        consumer.lease?.(message, this, consumer, deliveryAttempt) ??
        ({ message, queue: this, consumer, deliveryAttempt, started: false, state: 'in-flight' } satisfies Lease);
      this.#inFlight.add(lease);
      consumer.outstanding += 1;
      if (key !== undefined) this.#lockedKeys.add(key);
      handOut.push(lease);
    }
    this.#compact();
    this.#armTimer(earliest, now);
    for (const lease of handOut) lease.consumer.deliver(lease);
  }

  /** Drop handed-out head slots once they are the larger part of the array (amortised O(1)). */
  #compact(): void {
    if (this.#head === this.#ready.length) {
      this.#ready = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
  }

  #pickConsumer(): GroupConsumer | undefined {
    const count = this.#consumers.length;
    for (let step = 0; step < count; step += 1) {
      const consumer = this.#consumers[(this.#next + step) % count] as GroupConsumer;
      if (consumer.intake && consumer.outstanding < consumer.prefetch) {
        this.#next = (this.#next + step + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  #armTimer(earliest: number, now: number): void {
    if (earliest === Number.POSITIVE_INFINITY) return;
    if (this.#timer !== undefined && this.#timerAt <= earliest) return;
    this.#clearTimer();
    this.#timerAt = earliest;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(earliest - now)));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#pump();
    }, wait);
  }

  #clearTimer(): void {
    if (this.#pumpScheduled !== undefined && !this.#consumers.some(hasIntake)) {
      clearImmediate(this.#pumpScheduled);
      this.#pumpScheduled = undefined;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }
}

/** True for a consumer still taking messages (one function, not a closure per call). */
function hasIntake(consumer: GroupConsumer): boolean {
  return consumer.intake;
}
