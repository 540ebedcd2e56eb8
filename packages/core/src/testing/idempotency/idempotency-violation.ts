import type { ScheduledDelivery } from './adversary-transport.js';
import type { Decision } from './schedule.js';
import { inspect } from 'node:util';

/** What {@link IdempotencyViolation} reports. */
export interface IdempotencyViolationDetails {
  /** Seed of the adversarial schedule that failed first. */
  readonly seed: number;
  /** The minimal schedule: replaying it fails the same way. */
  readonly schedule: readonly Decision[];
  /** The deliveries of the minimal schedule, in order. */
  readonly deliveries: readonly ScheduledDelivery[];
  /** State after the clean single-delivery run. */
  readonly expected: unknown;
  /** State after the minimal schedule. */
  readonly actual: unknown;
}

const FAULT_TEXT = {
  duplicate: 'delivered again after its ack (a duplicate)',
  'ack-lost': 'the process died before the ack: redelivered',
  crash: 'the process died during the handler: redelivered',
} as const;

/**
 * Thrown by `proveIdempotent` when the application's state under an adversarial schedule
 * differs from its state after a clean single-delivery run: some handler is not idempotent
 * (or depends on an order the delivery contract does not give). The message lists the minimal
 * schedule's deliveries — faults and reorderings marked — and both states.
 */
export class IdempotencyViolation extends Error {
  readonly details: IdempotencyViolationDetails;

  constructor(details: IdempotencyViolationDetails) {
    super(describe(details));
    this.name = 'IdempotencyViolation';
    this.details = details;
  }
}

function describe(details: IdempotencyViolationDetails): string {
  const lines = details.deliveries.map((d) => {
    const marks: string[] = [];
    if (d.pick > 0)
      marks.push(
        `taken before ${String(d.pick)} older deliverable message${d.pick === 1 ? '' : 's'} (reordered across keys)`,
      );
    if (d.fault === 'crash')
      marks.push(
        d.at === 0
          ? 'the process died after the handler, before the ack: redelivered'
          : `the process died at the handler's publish #${String(d.at)}: redelivered`,
      );
    else if (d.fault !== 'none') marks.push(FAULT_TEXT[d.fault]);
    const flag = marks.length > 0 ? ' ◀ ' + marks.join('; ') : '';
    return `  ${String(d.step)}. ${d.type} ${d.id.slice(0, 8)}${d.key === undefined ? '' : ` (key ${d.key})`} → group "${d.group}", attempt ${String(d.attempt)}: ${d.outcome}${flag}`;
  });
  const faults = details.deliveries.filter((d) => d.fault !== 'none' || d.pick > 0).length;
  const show = (value: unknown): string =>
    inspect(value, { depth: 8, sorted: true, breakLength: 100 })
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n');
  return [
    `the application's state differs from a clean single-delivery run: a handler is not idempotent (schedule seed ${String(details.seed)}, shrunk to ${String(faults)} fault${faults === 1 ? '' : 's'} or reordering${faults === 1 ? '' : 's'} in ${String(details.deliveries.length)} deliveries)`,
    ...lines,
    'state after a clean run:',
    show(details.expected),
    'state under this schedule:',
    show(details.actual),
  ].join('\n');
}
