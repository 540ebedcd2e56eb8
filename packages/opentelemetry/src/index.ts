// Public API of @omnibus/opentelemetry. Explicit named exports only.
export { openTelemetry } from './open-telemetry-plugin.js';
export { INSTRUMENTATION_SCOPE } from './telemetry-resolver.js';
export type { OpenTelemetryOptions } from './open-telemetry-plugin.js';
export {
  MessagingAttributes,
  MessagingMetrics,
  MESSAGING_SYSTEMS,
  messagingSystem,
} from './messaging-attributes.js';
export { DURATION_BUCKETS_S } from './messaging-instruments.js';
export {
  extractSpanContext,
  injectSpanContext,
  MAX_TRACEPARENT_LENGTH,
  MAX_TRACESTATE_LENGTH,
} from './trace-context-carrier.js';
export { toSpanRecord, buildSpanTree, formatSpanTree } from './span-tree.js';
export type { SpanRecord, SpanTreeNode, ReadableSpanLike, FormatSpanTreeOptions } from './span-tree.js';
