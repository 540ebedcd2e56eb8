// Public API of @omnibus/core/testing: helpers for application tests.
export { MessageSpy } from './message-spy.js';
export type {
  MessageSpyOptions,
  SpyRecord,
  SpyCriteria,
  SpyCounts,
  InstrumentationSource,
} from './message-spy.js';
export { waitFor, WaitTimeoutError } from './wait-for.js';
export { seededRandom } from './seeded-random.js';
export type { SeededRandom } from './seeded-random.js';
export type { WaitForOptions } from './wait-for.js';
export { proveIdempotent, IdempotencyViolation, AdversaryTransport } from './idempotency/index.js';
export type {
  IdempotencyApp,
  IdempotencyReport,
  ProveIdempotentOptions,
  IdempotencyViolationDetails,
  ScheduledDelivery,
  Decision,
  FaultKind,
} from './idempotency/index.js';
