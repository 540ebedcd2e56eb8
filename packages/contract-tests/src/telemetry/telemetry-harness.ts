import type { EventBusPlugin } from '@omnibus/core';

/** A finished span as the telemetry case reads it (an OpenTelemetry span reduced to plain data). */
export interface TelemetrySpan {
  readonly name: string;
  readonly kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: 'unset' | 'ok' | 'error';
}

/** One metric data point: counters and up-down counters give their sum, histograms their count. */
export interface TelemetryPoint {
  readonly name: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly value: number;
}

/** One telemetry session: a plugin wired to in-memory exporters, opened per case. */
export interface TelemetrySession {
  /** The bus plugin to install (`plugins: [session.plugin]`). */
  readonly plugin: EventBusPlugin;
  /** Run `fn` inside a new INTERNAL span (the active context while it runs). */
  inSpan<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Every span finished so far. */
  spans(): readonly TelemetrySpan[];
  /** Collect the current cumulative metric points. */
  metrics(): Promise<readonly TelemetryPoint[]>;
  /** Release global registrations (context manager) and shut the providers down. */
  close(): Promise<void>;
}

/**
 * Optional telemetry hook of the contract suite: opens a session around the OpenTelemetry
 * SDK's in-memory exporters. `@omnibus/contract-tests/telemetry` exports one
 * (`openTelemetryHarness()`), built on `@omnibus/opentelemetry`; give it as
 * `TransportContractOptions.telemetry` to run case T1 on your transport.
 */
export interface TelemetryHarness {
  /** Start a fresh session (exporters empty) for one case. */
  open(): Promise<TelemetrySession>;
}
