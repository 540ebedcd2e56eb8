import { context, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, DataPointType } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { openTelemetry, toSpanRecord, type OpenTelemetryOptions } from '@omnibus/opentelemetry';
import type { TelemetryHarness, TelemetryPoint, TelemetrySession } from './telemetry-harness.js';

/** A reader that only collects on demand (no timers). */
class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A {@link TelemetryHarness} on the OpenTelemetry SDK: a tracer provider with an
 * `InMemorySpanExporter` (simple processor), a meter provider with an on-demand reader, an
 * AsyncLocalStorage context manager registered globally for the session, and
 * `openTelemetry()` from `@omnibus/opentelemetry` wired to both providers. One session at a time
 * per process (the context manager is global).
 */
export function openTelemetryHarness(
  options: Omit<OpenTelemetryOptions, 'tracerProvider' | 'meterProvider'> = {},
): TelemetryHarness {
  return {
    open(): Promise<TelemetrySession> {
      const exporter = new InMemorySpanExporter();
      const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      const reader = new OnDemandReader();
      const meterProvider = new MeterProvider({ readers: [reader] });
      const manager = new AsyncLocalStorageContextManager().enable();
      if (!context.setGlobalContextManager(manager))
        throw new Error(
          'another OpenTelemetry context manager is registered; close the previous session first',
        );
      const tracer = tracerProvider.getTracer('contract-tests');
      const session: TelemetrySession = {
        plugin: openTelemetry({ ...options, tracerProvider, meterProvider }),
        inSpan: (name, fn) =>
          tracer.startActiveSpan(name, async (span) => {
            try {
              return await fn();
            } finally {
              span.end();
            }
          }),
        spans: () => exporter.getFinishedSpans().map(toSpanRecord),
        async metrics() {
          const { resourceMetrics } = await reader.collect();
          const points: TelemetryPoint[] = [];
          for (const scope of resourceMetrics.scopeMetrics)
            for (const metric of scope.metrics)
              for (const point of metric.dataPoints as { attributes: Attributes; value: unknown }[]) {
                const value =
                  metric.dataPointType === DataPointType.HISTOGRAM
                    ? (point.value as { count: number }).count
                    : (point.value as number);
                points.push({ name: metric.descriptor.name, attributes: point.attributes, value });
              }
          return points;
        },
        async close() {
          context.disable();
          await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
        },
      };
      return Promise.resolve(session);
    },
  };
}
