import type { Delivery, MessageEnvelope } from '@omnibus/core';
import { sameBytes } from './test-envelope.js';

/** How one delivery ended, as seen by the test's handler. */
export type DeliveryOutcome = 'ack' | 'retry' | 'dead-letter' | 'none' | 'settle-failed';

/** One delivery of one message to one group. */
export interface LedgerDelivery {
  readonly id: string;
  readonly group: string;
  readonly attempt: number;
  readonly consumer: string;
  /** Delivered after the group had already acked/dead-lettered every stored copy (rule 3). */
  readonly afterTerminal: boolean;
  outcome: DeliveryOutcome;
}

/** Totals and problems of one test's ledger; written into the conformance report. */
export interface LedgerSummary {
  readonly published: number;
  readonly confirmed: number;
  readonly failedPublishes: number;
  readonly delivered: number;
  readonly acked: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Confirmed messages never acked or dead-lettered by an expected group (`group/id`). */
  readonly lost: readonly string[];
  /** Settled more often than stored (`group/id ×n`). */
  readonly duplicates: readonly string[];
  readonly duplicateCount: number;
  /** Delivered again after the group acked/dead-lettered it (`group/id`). */
  readonly afterTerminal: readonly string[];
  /** Delivered but never published by this test (`group/id`). */
  readonly unexpected: readonly string[];
  /** Delivered with a payload or type different from every published copy (`group/id`). */
  readonly corrupted: readonly string[];
}

/** How strictly {@link Ledger.problems} judges duplicates. */
export interface LedgerVerdictOptions {
  /** Faults were injected (broker restart, dropped connections, killed consumer). */
  readonly faultsInjected: boolean;
  /** The transport declares `noDuplicatesWithoutFaults`. */
  readonly noDuplicatesWithoutFaults: boolean;
}

interface PublishedRecord {
  readonly destination: string;
  readonly payloads: Uint8Array[];
  readonly type: string;
  pending: number;
  confirmed: number;
  failed: number;
  deduplicated: number;
}

/**
 * Per-message accounting for one contract case (delivery contract rules 1–3, docs/concepts/delivery-contract.md): for every message id,
 * the publishes the broker confirmed, every delivery per group with its attempt and outcome,
 * and the acks/dead-letters. At the end of every case {@link problems} reports lost messages
 * (always a failure), duplicates (a failure when fault-free and the transport declares
 * `noDuplicatesWithoutFaults`; counted, reported and bounded under faults), redeliveries after
 * an ack (a failure when fault-free), unexpected ids and corrupted payloads (always failures).
 *
 * Not thread-safe beyond one event loop (which is all mocha has).
 */
export class Ledger {
  readonly #published = new Map<string, PublishedRecord>();
  readonly #expectedGroups = new Map<string, Set<string>>();
  readonly #deliveries = new Map<string, LedgerDelivery[]>();
  readonly #maybeLost = new Set<string>();
  /** Replays of a dead letter to one group (`group/id` → count): each is one more expected terminal there. */
  readonly #replays = new Map<string, number>();
  readonly #unexpected: string[] = [];
  readonly #corrupted: string[] = [];
  #acceptForeign: (delivery: Delivery) => boolean = () => false;

  /** Every confirmed message published to `destination` must reach a terminal outcome in each of `groups`. */
  expectGroups(destination: string, groups: readonly string[]): void {
    const set = this.#expectedGroups.get(destination) ?? new Set<string>();
    for (const group of groups) set.add(group);
    this.#expectedGroups.set(destination, set);
  }

  /** Stop expecting `group` to settle messages of `destination` (e.g. a group the case abandons). */
  unexpectGroup(destination: string, group: string): void {
    this.#expectedGroups.get(destination)?.delete(group);
  }

  /** Deliveries matching `predicate` that were not published by the test (foreign messages) are accepted. */
  acceptForeign(predicate: (delivery: Delivery) => boolean): void {
    this.#acceptForeign = predicate;
  }

  /** These ids may legitimately be lost (e.g. published before a restart of a non-durable broker). */
  allowLoss(ids: Iterable<string>): void {
    for (const id of ids) this.#maybeLost.add(id);
  }

  /**
   * A dead letter of `id` in `group` was replayed (through a dead-letter store) to that group
   * only: one more delivery and terminal outcome are expected there, none elsewhere.
   */
  expectReplay(group: string, id: string): void {
    const key = `${group}/${id}`;
    this.#replays.set(key, (this.#replays.get(key) ?? 0) + 1);
  }

  /** Call before `publish`; returns the function to call with the publish outcome. */
  beginPublish(
    destination: string,
    envelope: MessageEnvelope,
    options: { readonly deduplicated?: boolean } = {},
  ): (confirmed: boolean) => void {
    let record = this.#published.get(envelope.id);
    if (record === undefined) {
      record = {
        destination,
        payloads: [],
        type: envelope.type,
        pending: 0,
        confirmed: 0,
        failed: 0,
        deduplicated: 0,
      };
      this.#published.set(envelope.id, record);
    }
    record.payloads.push(envelope.payload.slice());
    record.pending += 1;
    const target = record;
    let done = false;
    return (confirmed: boolean) => {
      if (done) return;
      done = true;
      target.pending -= 1;
      if (!confirmed) target.failed += 1;
      else if (options.deduplicated === true) target.deduplicated += 1;
      else target.confirmed += 1;
    };
  }

  /** Record a delivery; the returned entry's `outcome` is updated by the settlement wrapper. */
  recordDelivery(delivery: Delivery, consumer: string): LedgerDelivery {
    const id = delivery.envelope.id;
    const key = `${delivery.group}/${id}`;
    const published = this.#published.get(id);
    if (published === undefined) {
      if (!this.#acceptForeign(delivery)) this.#unexpected.push(key);
    } else if (
      published.type !== delivery.envelope.type ||
      !published.payloads.some((payload) => sameBytes(payload, delivery.envelope.payload))
    ) {
      this.#corrupted.push(key);
    }
    const list = this.#deliveries.get(key) ?? [];
    const terminals = list.filter((d) => d.outcome === 'ack' || d.outcome === 'dead-letter').length;
    const copies =
      (published === undefined ? 1 : published.confirmed + published.pending + published.failed) +
      (this.#replays.get(key) ?? 0);
    const entry: LedgerDelivery = {
      id,
      group: delivery.group,
      attempt: delivery.deliveryAttempt,
      consumer,
      afterTerminal: terminals > 0 && terminals >= copies,
      outcome: 'none',
    };
    list.push(entry);
    this.#deliveries.set(key, list);
    return entry;
  }

  /** Record a delivery that happened elsewhere (a child process), settled or not. */
  recordRemoteDelivery(group: string, id: string, attempt: number, consumer: string): void {
    const key = `${group}/${id}`;
    const list = this.#deliveries.get(key) ?? [];
    list.push({ id, group, attempt, consumer, afterTerminal: false, outcome: 'none' });
    this.#deliveries.set(key, list);
  }

  /** All deliveries of `id` to `group`, in arrival order. */
  deliveriesOf(group: string, id: string): readonly LedgerDelivery[] {
    return this.#deliveries.get(`${group}/${id}`) ?? [];
  }

  /** True when every confirmed message reached a terminal outcome in each expected group. */
  isSettled(): boolean {
    return this.#lost().length === 0;
  }

  /** Totals and problem lists. */
  summary(): LedgerSummary {
    let delivered = 0;
    let acked = 0;
    let retried = 0;
    let deadLettered = 0;
    const duplicates: string[] = [];
    let duplicateCount = 0;
    const afterTerminal: string[] = [];
    for (const [key, list] of this.#deliveries) {
      delivered += list.length;
      const terminals = list.filter((d) => d.outcome === 'ack' || d.outcome === 'dead-letter').length;
      acked += list.filter((d) => d.outcome === 'ack').length;
      retried += list.filter((d) => d.outcome === 'retry').length;
      deadLettered += list.filter((d) => d.outcome === 'dead-letter').length;
      if (list.some((d) => d.afterTerminal)) afterTerminal.push(key);
      const published = this.#published.get((list[0] as LedgerDelivery).id);
      const copies =
        (published === undefined ? 1 : Math.max(1, published.confirmed + published.failed)) +
        (this.#replays.get(key) ?? 0);
      const extra =
        Math.max(0, terminals - copies) +
        list.filter((d) => d.afterTerminal && d.outcome !== 'ack' && d.outcome !== 'dead-letter').length;
      if (extra > 0) {
        duplicates.push(`${key} ×${String(extra + copies)}`);
        duplicateCount += extra;
      }
    }
    let published = 0;
    let confirmed = 0;
    let failedPublishes = 0;
    for (const record of this.#published.values()) {
      published += record.confirmed + record.failed + record.pending + record.deduplicated;
      confirmed += record.confirmed;
      failedPublishes += record.failed;
    }
    return {
      published,
      confirmed,
      failedPublishes,
      delivered,
      acked,
      retried,
      deadLettered,
      lost: this.#lost(),
      duplicates,
      duplicateCount,
      afterTerminal,
      unexpected: [...this.#unexpected],
      corrupted: [...this.#corrupted],
    };
  }

  /** Human-readable problems; empty when the ledger is clean under `options`. */
  problems(options: LedgerVerdictOptions): string[] {
    const s = this.summary();
    const problems: string[] = [];
    const list = (items: readonly string[]): string =>
      items.slice(0, 10).join(', ') + (items.length > 10 ? `, … (${String(items.length)} in all)` : '');
    if (s.lost.length > 0)
      problems.push(`[rule 1] ${String(s.lost.length)} confirmed message(s) lost: ${list(s.lost)}`);
    if (s.unexpected.length > 0)
      problems.push(
        `${String(s.unexpected.length)} unexpected delivery(ies) of ids never published here: ${list(s.unexpected)}`,
      );
    if (s.corrupted.length > 0)
      problems.push(
        `[rule 9] ${String(s.corrupted.length)} delivery(ies) with a payload/type differing from what was published: ${list(s.corrupted)}`,
      );
    if (!options.faultsInjected) {
      if (s.afterTerminal.length > 0)
        problems.push(`[rule 3] delivered again after ack/dead-letter: ${list(s.afterTerminal)}`);
      if (options.noDuplicatesWithoutFaults && s.duplicateCount > 0) {
        problems.push(
          `[rule 3] ${String(s.duplicateCount)} duplicate(s) without faults although noDuplicatesWithoutFaults is declared: ${list(s.duplicates)}`,
        );
      }
    }
    const bound = Math.max(10, s.confirmed);
    if (s.duplicateCount > bound)
      problems.push(
        `${String(s.duplicateCount)} duplicates exceed the bound of ${String(bound)}: ${list(s.duplicates)}`,
      );
    return problems;
  }

  #lost(): string[] {
    const lost: string[] = [];
    for (const [id, record] of this.#published) {
      if (record.confirmed === 0 || this.#maybeLost.has(id)) continue;
      for (const group of this.#expectedGroups.get(record.destination) ?? []) {
        const list = this.#deliveries.get(`${group}/${id}`) ?? [];
        const terminals = list.filter((d) => d.outcome === 'ack' || d.outcome === 'dead-letter').length;
        const expected = record.confirmed + (this.#replays.get(`${group}/${id}`) ?? 0);
        if (terminals < expected) lost.push(`${group}/${id}`);
      }
    }
    return lost;
  }
}
