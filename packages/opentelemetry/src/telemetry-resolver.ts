import {
  createNoopMeter,
  metrics,
  ProxyTracerProvider,
  trace,
  type Meter,
  type MeterProvider,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { createMessagingInstruments, type MessagingInstruments } from './messaging-instruments.js';

/** A tracer and the metric instruments, when at least one of them records. */
export interface ActiveTelemetry {
  readonly tracer: Tracer;
  readonly instruments: MessagingInstruments;
}

/** Instrumentation scope reported by the plugin. */
export const INSTRUMENTATION_SCOPE = { name: '@omnibus/opentelemetry', version: '0.1.0' } as const;

/**
 * Resolve the tracer and instruments at each operation, cheaply: providers given explicitly are
 * used as they are; otherwise the global ones, looked up each time (so an SDK registered after
 * the bus was created is picked up). Returns `undefined` when both are the API's no-ops (no SDK),
 * so the plugin skips all work. Instruments are created once per meter provider; `onMeter` is
 * called once per recording meter (its disposer when the meter provider changes).
 */
export function telemetryResolver(
  tracerProvider: TracerProvider | undefined,
  meterProvider: MeterProvider | undefined,
  onMeter?: (meter: Meter) => () => void,
): () => ActiveTelemetry | undefined {
  const noopTracerProvider = new ProxyTracerProvider().getDelegate();
  const noopMeter = createNoopMeter();
  let lastTracerProvider: TracerProvider | undefined;
  let lastMeterProvider: MeterProvider | undefined;
  let lastMeterProviderSeen: MeterProvider | undefined;
  let active: ActiveTelemetry | undefined;
  let disposeMeter: (() => void) | undefined;
  return () => {
    const traces = unwrap(tracerProvider ?? trace.getTracerProvider());
    const meters = meterProvider ?? metrics.getMeterProvider();
    if (traces === lastTracerProvider && meters === lastMeterProvider) return active;
    lastTracerProvider = traces;
    lastMeterProvider = meters;
    const meter = meters.getMeter(INSTRUMENTATION_SCOPE.name, INSTRUMENTATION_SCOPE.version);
    if (onMeter !== undefined && meters !== lastMeterProviderSeen) {
      lastMeterProviderSeen = meters;
      disposeMeter?.();
      disposeMeter = meter === noopMeter ? undefined : onMeter(meter);
    }
    active =
      traces === noopTracerProvider && meter === noopMeter
        ? undefined
        : {
            tracer: traces.getTracer(INSTRUMENTATION_SCOPE.name, INSTRUMENTATION_SCOPE.version),
            instruments: createMessagingInstruments(meter),
          };
    return active;
  };
}

/** The provider behind the API's global proxy (duck-typed: duplicate API copies break instanceof). */
function unwrap(provider: TracerProvider): TracerProvider {
  const proxy = provider as Partial<ProxyTracerProvider>;
  return typeof proxy.getDelegate === 'function' ? proxy.getDelegate() : provider;
}
