import type { ReceivedRecord } from './kafka-client-port.js';
import type { PartitionWatermark } from './partition-watermark.js';

/** A record in the subscription's custody, from intake until it is settled. */
export interface CustodyItem {
  readonly record: ReceivedRecord;
  /** `record.offset`, parsed once (the watermark calls take it). */
  readonly offset: bigint;
  readonly watermark: PartitionWatermark;
  /** The attempt carried in the record's headers (1 on the main topic). */
  readonly headerAttempt: number;
  /** Attempt of the first delivery in this process (header or committed metadata). */
  readonly firstAttempt: number;
}

/**
 * How long a record whose settlement failed (the retry or dead-letter copy could not be
 * produced) waits before it is run again with the same attempt: it stays in custody, so nothing
 * is lost and nothing later in its partition is committed past it.
 */
export const RELEASE_DELAY_MS = 1000;
