import type { MessageEnvelope } from '../message/envelope.js';
import type { DeadLetterInfo } from '../message/wire-headers.js';

/**
 * Which dead letters of one (destination, group) an operation applies to. Every filter given
 * must match (AND); a list filter matches when any of its values matches.
 */
export interface DeadLetterQuery {
  /** The destination the messages were dead-lettered from. */
  readonly destination: string;
  /** The consumer group that dead-lettered them. */
  readonly group: string;
  /** Only these reason codes (e.g. `HANDLER_FAILED`, `DECODE_FAILED`). */
  readonly codes?: readonly string[];
  /** Only these event types (`ce-type`). */
  readonly types?: readonly string[];
  /** Only these message ids. */
  readonly ids?: readonly string[];
  /** Only messages dead-lettered at or after this time. */
  readonly since?: Date;
  /** Only messages dead-lettered before this time. */
  readonly until?: Date;
  /** At most this many matches (in the dead-letter destination's order). */
  readonly limit?: number;
}

/** One dead-lettered message, as read back from the dead-letter destination. */
export interface DeadLetterRecord {
  /** The original envelope: id, type, payload and user headers as published. */
  readonly envelope: MessageEnvelope;
  /** Reason code and message, attempts, original destination and group, and when. */
  readonly info: DeadLetterInfo;
  /** How many times this message was already replayed (0 for a first-time dead letter). */
  readonly replayCount: number;
}

/** Options of {@link DeadLetterStore.replay}. */
export interface ReplayOptions {
  /** Report what would be replayed without changing anything. */
  readonly dryRun?: boolean;
  /**
   * Loop guard override. By default a message that was already replayed once and dead-lettered
   * again is skipped (reported with reason `LOOP_GUARD`); `true` replays it anyway.
   */
  readonly includeReplayed?: boolean;
  /** Called after each message is replayed (or would be, in a dry run). */
  readonly onProgress?: (done: number, record: DeadLetterRecord) => void;
}

/** Outcome of {@link DeadLetterStore.replay}. */
export interface ReplayResult {
  /** Replayed messages (or, in a dry run, the ones that would be). */
  readonly replayed: readonly DeadLetterRecord[];
  /** Matches left in the dead-letter destination, with the reason (e.g. `LOOP_GUARD`). */
  readonly skipped: readonly { readonly record: DeadLetterRecord; readonly reason: string }[];
}

/** Outcome of {@link DeadLetterStore.purge}. */
export interface PurgeResult {
  /** Messages removed for good (or, in a dry run, the ones that would be). */
  readonly purged: readonly DeadLetterRecord[];
}

/**
 * Browse, replay and purge the dead letters of a transport (delivery contract rules 5 and 17, docs/concepts/delivery-contract.md), through the
 * broker's native dead-letter destination. Exposed as `transport.deadLetters` by transports
 * that declare the `deadLetterStore` capability; the transport must be connected.
 *
 * - `list` never removes anything.
 * - `replay` sends each match back to the group that dead-lettered it (not to other groups of
 *   the destination) with its original id, payload and headers, plus
 *   {@link REPLAY_COUNT_HEADER} and {@link REPLAYED_AT_HEADER}; only once the broker accepted
 *   the copy is the dead letter removed (may duplicate on a crash in between, never loses).
 * - `purge` removes the matches for good.
 *
 * Concurrency: operations on one (destination, group) should not run at once: a message held
 * by one scan is invisible to another. Failure: rejects with an `OmnibusError`
 * (`DEAD_LETTER_FAILED`, or `DEAD_LETTER_QUERY_INVALID` for a bad query) and leaves every
 * message not yet handled in the dead-letter destination.
 */
export interface DeadLetterStore {
  /** The matches, in the dead-letter destination's order; removes nothing. */
  list(query: DeadLetterQuery): Promise<DeadLetterRecord[]>;
  /** Send the matches back to their group (loop guard applies) and remove them once the copy is durable. */
  replay(query: DeadLetterQuery, options?: ReplayOptions): Promise<ReplayResult>;
  /** Remove the matches for good (`dryRun`: only report them). */
  purge(query: DeadLetterQuery, options?: { readonly dryRun?: boolean }): Promise<PurgeResult>;
}

/** Header counting the replays of a message; visible to handlers (`envelope.headers`). */
export const REPLAY_COUNT_HEADER = 'x-omnibus-replay-count';
/** Header holding the ISO time of the latest replay. */
export const REPLAYED_AT_HEADER = 'x-omnibus-replayed-at';
/** Skip reason of a match the loop guard kept back. */
export const LOOP_GUARD = 'LOOP_GUARD';
