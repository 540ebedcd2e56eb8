import type { EventDefinition, PublishOptions } from '@omnibus/core';
import type { SagaRecord, SagaStatus } from './saga-record.js';

/** A message with its event definition, as handed to a store that writes messages itself. */
export interface SagaOutgoing {
  readonly event: EventDefinition<unknown>;
  readonly payload: unknown;
  readonly options: PublishOptions & { readonly id: string };
}

/** One step's outcome for {@link SagaStore.save}. */
export interface SagaChange {
  /** The record after the step (`version` = `expectedVersion + 1`). */
  readonly record: SagaRecord;
  /** Version read before the step; `0` when the instance is new (insert). */
  readonly expectedVersion: number;
  /**
   * The step's messages. A store with `writesMessages` commits them together with the record
   * (outbox); other stores ignore them (the record's `pending` carries them).
   */
  readonly messages: readonly SagaOutgoing[];
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
  /** Clear `pending` of the record if it is still at `version` (no version change); otherwise do nothing. */
  markDispatched(saga: string, id: string, version: number): Promise<void>;
  /** Instances matching `query`, oldest `updatedAt` first. */
  find(query: SagaQuery): Promise<SagaRecord[]>;
}
