import type { EventDefinition, PublishOptions } from '@omnibus/core';
import type { SagaMessage, SagaRecord, SagaStatus } from './saga-record.js';

/** A message with its event definition, as handed to a store that writes messages itself. */
export interface SagaOutgoing {
  readonly event: EventDefinition<unknown>;
  readonly payload: unknown;
  readonly options: PublishOptions & { readonly id: string };
}

/** One step's outcome for {@link SagaStore.save}. */
export interface SagaChange {
  /** The record after the step (`version` = `expectedVersion + 1`); its `pending` is ignored (the store keeps its own). */
  readonly record: SagaRecord;
  /** Version read before the step; `0` when the instance is new (insert). */
  readonly expectedVersion: number;
  /** The step's messages, for a store with `writesMessages`: committed with the record (outbox). */
  readonly messages: readonly SagaOutgoing[];
  /**
   * The step's messages, for a store without `writesMessages`: appended to the stored `pending`
   * as `{ version: record.version, messages }` (when non-empty), atomically with the record,
   * never overwriting other steps' pending entries.
   */
  readonly pending: readonly SagaMessage[];
}

/** Filter of {@link SagaStore.find}. Every given field must match. */
export interface SagaQuery {
  /** Saga name. */
  readonly saga?: string;
  /** Correlation id. */
  readonly id?: string;
  readonly status?: SagaStatus | readonly SagaStatus[];
  /** Last step committed before this time (stuck instances: `status: 'active'` + `updatedBefore`). */
  readonly updatedBefore?: Date;
  /** Has an armed timeout due before this time (overdue: the timeout has not been handled yet). */
  readonly timeoutDueBefore?: Date;
  /** A timeout fired on the instance. */
  readonly timedOut?: boolean;
  /**
   * Has (`true`) or has no (`false`) steps whose messages are not confirmed published (see
   * {@link SagaRecord.pending}; always none when the store writes messages to an outbox).
   */
  readonly pending?: boolean;
  /** Most records returned (default 100), oldest `updatedAt` first. */
  readonly limit?: number;
}

/**
 * Persistence port of sagas, with optimistic concurrency: `save` succeeds only when the stored
 * version still equals `expectedVersion` (or, for `0`, when no record exists), atomically.
 * Implementations: {@link InMemorySagaStore} (default, one process) and `PostgresSagaStore`
 * (`@omnibus/outbox-postgres`). Every method may be called concurrently.
 */
export interface SagaStore {
  /**
   * True when `save` commits `change.messages` in the same transaction as the record (an
   * outbox): the saga then never publishes a step's messages itself.
   */
  readonly writesMessages: boolean;
  /** The instance, or `undefined`. Returns a copy: mutating it changes nothing stored. */
  load(saga: string, id: string): Promise<SagaRecord | undefined>;
  /** Commit a step: `saved`, or `conflict` when another step committed first (nothing written). */
  save(change: SagaChange): Promise<'saved' | 'conflict'>;
  /** Remove the pending entry of the step that committed `version` (no version change); nothing when absent. */
  markDispatched(saga: string, id: string, version: number): Promise<void>;
  /** Instances matching `query`, oldest `updatedAt` first. */
  find(query: SagaQuery): Promise<SagaRecord[]>;
}
