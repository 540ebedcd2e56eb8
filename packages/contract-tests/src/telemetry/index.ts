// `@omnibus/contract-tests/telemetry`: the OpenTelemetry SDK harness for case T1. Needs
// @omnibus/opentelemetry, @opentelemetry/api, sdk-trace-base, sdk-metrics and context-async-hooks.
export { openTelemetryHarness } from './open-telemetry-harness.js';
