// The OpenTelemetry SDK wired for one test: in-memory span exporter, on-demand metric reader,
// AsyncLocalStorage context manager (global while the fixture is open).
import { context, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { toSpanRecord, type SpanRecord } from '../src/index.js';

class ManualReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface SdkFixture {
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  spans(): SpanRecord[];
  /** `name{k=v,…}` → sum (counters) or count (histograms). */
  points(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export function openSdk(): SdkFixture {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans().map(toSpanRecord),
    async points() {
      const out = new Map<string, number>();
      const { resourceMetrics } = await reader.collect();
      for (const scope of resourceMetrics.scopeMetrics)
        for (const metric of scope.metrics)
          for (const point of metric.dataPoints as { attributes: Attributes; value: unknown }[]) {
            const keys = Object.entries(point.attributes)
              .map(([k, v]) => `${k}=${String(v)}`)
              .sort()
              .join(',');
            out.set(
              `${metric.descriptor.name}{${keys}}`,
              metric.dataPointType === DataPointType.HISTOGRAM
                ? (point.value as { count: number }).count
                : (point.value as number),
            );
          }
      return out;
    },
    async close() {
      context.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
