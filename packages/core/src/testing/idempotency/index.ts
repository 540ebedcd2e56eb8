export { proveIdempotent } from './prove-idempotent.js';
export type { IdempotencyApp, IdempotencyReport, ProveIdempotentOptions } from './prove-idempotent.js';
export { IdempotencyViolation } from './idempotency-violation.js';
export type { IdempotencyViolationDetails } from './idempotency-violation.js';
export { AdversaryTransport } from './adversary-transport.js';
export type { ScheduledDelivery } from './adversary-transport.js';
export type { Decision, FaultKind } from './schedule.js';
