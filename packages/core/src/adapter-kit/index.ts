// Public API of @omnibus/core/adapter-kit: the building blocks transport adapters share
// (settlement bookkeeping, publish checks, ordered in-place retries, timing). Not for
// application code; see docs/guides/writing-a-transport.md.
export { SettleOnceDelivery } from './settle-once-delivery.js';
export type { SettlementKind, SettlementPort } from './settle-once-delivery.js';
export { retryInPlace } from './retry-in-place.js';
export type { InPlaceEnd, InPlaceSteps } from './retry-in-place.js';
export { checkPublish, checkPayloadSize, checkPublishDelay } from './check-publish.js';
export type { PublishLimits } from './check-publish.js';
export { sleep } from './sleep.js';
export { withTimeout } from './with-timeout.js';
export type { TimeoutResult } from './with-timeout.js';
export { waitFor, WaitTimeoutError } from './wait-for.js';
export type { WaitForOptions } from './wait-for.js';
export { publishDeadline, resendUntil } from './resend-until.js';
export type { PublishDeadline, ResendOptions } from './resend-until.js';
export { closedTransportError, describeError, redactedError, wrapError } from './error-helpers.js';
