// Public API of @omnibus/saga. Explicit named exports only.
export { defineSaga, SagaDefinition } from './define-saga.js';
export type {
  SagaCorrelation,
  SagaWhenMissing,
  SagaStep,
  SagaEventOptions,
  SagaEventBinding,
  SagaOptions,
  SagaTimeoutPayload,
} from './define-saga.js';
export type { SagaStepContext, SagaPublishOptions } from './saga-step-context.js';
export { SagaHost } from './saga-host.js';
export type {
  SagaHostOptions,
  SagaResendOptions,
  SagaResendResult,
  SagaSweep,
  SagaSweepOptions,
} from './saga-host.js';
export { SagaRunner, HANDLED_IDS_KEPT } from './saga-runner.js';
export type { SagaPublisher, SagaRunnerOptions } from './saga-runner.js';
export { SagaEmitter } from './saga-events.js';
export type { SagaEvents, SagaEventName, SagaListener, SagaEventBase } from './saga-events.js';
export type {
  SagaRecord,
  SagaStatus,
  SagaMessage,
  SagaTimeout,
  SagaPendingStep,
  SagaHandledMessage,
} from './saga-record.js';
export type { SagaStore, SagaChange, SagaQuery, SagaOutgoing } from './saga-store.js';
export { InMemorySagaStore } from './in-memory-saga-store.js';
export { matchesSagaQuery, DEFAULT_SAGA_QUERY_LIMIT } from './match-saga-query.js';
export { correlationIdOf, SAGA_CORRELATION_MISSING } from './correlate.js';
export { SAGA_EVENT_UNDECLARED, SAGA_TIMEOUT_INVALID } from './step-recorder.js';
