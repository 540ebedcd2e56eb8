/** One rule of the delivery contract (docs/concepts/delivery-contract.md). */
export interface DeliveryRule {
  /** The number contract cases name in their `rules` (and their titles). */
  readonly number: number;
  /** Short name, as in the capability matrix and the contract page's headings. */
  readonly name: string;
}

/**
 * The delivery contract's rules, numbered as the cases tag them. 1–13 are the original thirteen;
 * 14 and later were added as the suite grew. Stated in full, with the cases that prove each, in
 * docs/concepts/delivery-contract.md (generated cross-reference: `node scripts/delivery-contract.mjs`).
 */
export const DELIVERY_RULES: readonly DeliveryRule[] = [
  { number: 1, name: 'At-least-once' },
  { number: 2, name: 'Durable publish' },
  { number: 3, name: 'Ack is final' },
  { number: 4, name: 'Retry with backoff' },
  { number: 5, name: 'Dead-letter' },
  { number: 6, name: 'Groups' },
  { number: 7, name: 'Ordering' },
  { number: 8, name: 'Concurrency' },
  { number: 9, name: 'Headers round-trip' },
  { number: 10, name: 'Close drains' },
  { number: 11, name: 'Reconnect' },
  { number: 12, name: 'Bad input' },
  { number: 13, name: 'Delayed delivery' },
  { number: 14, name: 'Argument checks' },
  { number: 15, name: 'Foreign header values' },
  { number: 16, name: 'Telemetry parity' },
  { number: 17, name: 'Dead-letter store' },
  { number: 18, name: 'Backlog' },
];
