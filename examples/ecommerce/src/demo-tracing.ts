import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { EventBusPlugin } from '@omnibus/core';
import {
  buildSpanTree,
  formatSpanTree,
  openTelemetry,
  toSpanRecord,
  type SpanRecord,
} from '@omnibus/opentelemetry';
import { writeFileSync } from 'node:fs';
import { renderTraceSvg } from './trace-svg.js';

class CollectOnDemand extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The demo's OpenTelemetry wiring (`OMNIBUS_DEMO_TRACE=1`): SDK with in-memory exporters. */
export interface DemoTracing {
  readonly plugin: EventBusPlugin;
  /** Print the trace of the order whose OrderPlaced message has `messageId`; write the SVG when asked. */
  report(messageId: string, orderId: string): Promise<void>;
}

/** Wire the OpenTelemetry SDK (in-memory span exporter, on-demand metric reader) for the demo. */
export function startDemoTracing(svgPath: string | undefined): DemoTracing {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new CollectOnDemand();
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // Global, so the application's own spans (the payment gateway's) are recorded too.
  trace.setGlobalTracerProvider(tracerProvider);
  return {
    plugin: openTelemetry({ tracerProvider, meterProvider }),
    async report(messageId, orderId) {
      const spans = exporter.getFinishedSpans().map(toSpanRecord);
      const first = spans.find((s) => s.attributes['messaging.message.id'] === messageId);
      const orderSpans: SpanRecord[] = spans.filter((s) => s.traceId === first?.traceId);
      console.log(
        `\nTrace ${first?.traceId ?? '?'} of order ${orderId} (${String(orderSpans.length)} spans):`,
      );
      console.log(formatSpanTree(buildSpanTree(orderSpans)));
      const { resourceMetrics } = await reader.collect();
      const names = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
      console.log(`Metrics recorded: ${[...new Set(names)].sort().join(', ')}`);
      if (svgPath !== undefined) {
        writeFileSync(
          svgPath,
          renderTraceSvg(
            buildSpanTree(orderSpans),
            `Order ${orderId.replace(/-[0-9a-f]{4}$/, '')}: one trace across billing, shipping and notifications`,
          ),
        );
        console.log(`Wrote ${svgPath}`);
      }
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      context.disable();
      trace.disable();
    },
  };
}
