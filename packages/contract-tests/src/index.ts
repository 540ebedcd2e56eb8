// Public API of @omnibus/contract-tests. Explicit named exports only.
export type {
  TransportContractOptions,
  ContractFaults,
  DeadLetteredMessage,
  ForeignHeaders,
} from './contract-options.js';
export { describeTransportContract } from './describe-transport-contract.js';
export { allCaseGroups } from './cases/all-cases.js';
export { caseTitle } from './contract-case.js';
export { DELIVERY_RULES } from './delivery-rules.js';
export type { DeliveryRule } from './delivery-rules.js';
export type { ContractCase, ContractCaseGroup, FaultHook } from './contract-case.js';
export { Ledger } from './support/ledger.js';
export type {
  DeliveryOutcome,
  LedgerDelivery,
  LedgerSummary,
  LedgerVerdictOptions,
} from './support/ledger.js';
export { CaseContext } from './support/case-context.js';
export type {
  CaseHandler,
  CaseTopology,
  ConsumeOptions,
  Consumer,
  Received,
} from './support/case-context.js';
export {
  ConformanceRecorder,
  conformanceDir,
  failureDifference,
  reportFileName,
} from './support/conformance-report.js';
export type {
  ConformanceCaseResult,
  ConformanceReport,
  FailureDifference,
} from './support/conformance-report.js';
export { waitFor, WaitTimeoutError } from './support/wait-for.js';
export type { ChildConsumerReport, ChildConsumerRequest } from './child/sigkill-consumer.js';
export type {
  TelemetryHarness,
  TelemetrySession,
  TelemetrySpan,
  TelemetryPoint,
} from './telemetry/telemetry-harness.js';
export { spanTreeLines, metricLines, T1_EXPECTED_TREE, T1_EXPECTED_METRICS } from './cases/telemetry.js';
export {
  describeStartUpFailure,
  startAgainstUnreachableBroker,
} from './start-up/start-against-unreachable.js';
export type { UnreachableStartResult } from './start-up/start-against-unreachable.js';
export { FaultProxy } from './fault-proxy/fault-proxy.js';
export type { FaultProxyOptions, FaultProxyStats } from './fault-proxy/fault-proxy.js';
export { collectDeadLetters } from './support/collect-dead-letters.js';
