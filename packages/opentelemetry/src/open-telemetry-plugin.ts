import {
  context as otelContext,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type MeterProvider,
  type Span,
  type TracerProvider,
} from '@opentelemetry/api';
import {
  isOmnibusError,
  withHeaders,
  type Delivery,
  type DeliveryInterceptor,
  type DeliveryReport,
  type EventBusPlugin,
  type MessageEnvelope,
  type OutgoingMessage,
  type PublishContext,
  type PublishMiddleware,
  type SubscriptionInfo,
  type BacklogOptions,
  type PluginHost,
} from '@omnibus/core';
import { observeBacklog } from './backlog-gauge.js';
import { MessagingAttributes as A, messagingSystem } from './messaging-attributes.js';
import type { MessagingInstruments } from './messaging-instruments.js';
import { telemetryResolver, type ActiveTelemetry } from './telemetry-resolver.js';
import { extractSpanContext, injectSpanContext } from './trace-context-carrier.js';

/** Options of {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider;
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProvider;
  /**
   * How a consumer span relates to the producer's context carried by the message:
   * `parent` (default) continues the producer's trace, so one order is one trace across
   * services; `link` starts a new trace per delivery attempt with a link to the producer span
   * (for long-lived or batch-like flows). The conventions allow both for single-message
   * processing; the creation context is always reachable.
   */
  readonly consumerContext?: 'parent' | 'link';
  /** `messaging.system` for a transport name. Default {@link messagingSystem}. */
  readonly systemName?: (transport: string) => string;
  /**
   * The `omnibus.consumer.backlog` gauge: read from the broker (`bus.backlog()`) only when a
   * metric reader collects, with these bounds (default: readings reused for 5 s, at most 2 s
   * waited per collection). `false` leaves it out. Needs a meter provider at bus construction
   * (the global one registered before `createEventBus`, or `meterProvider`).
   */
  readonly backlog?: false | BacklogOptions;
}

/**
 * OpenTelemetry traces and metrics for an Omnibus bus, per the messaging semantic conventions:
 * a PRODUCER span per publish (`send <destination>`; a batch gets one `create` span per message
 * and one CLIENT `send` span linking them), its context written to the message's `traceparent`
 * / `tracestate`; a CONSUMER span per delivery attempt (`process <destination>`) that continues
 * the carried context (parent or link), is the active context while the handler runs (nested
 * spans and publishes chain under it) and records the settlement (`omnibus.settlement.outcome`,
 * retry delay, dead-letter reason, `error.type`). Metrics: sent, consumed, operation and process
 * durations, retries, dead letters by reason, in-flight handlers, and the consumer backlog
 * (an observable gauge read from the broker only when collected).
 *
 * Depends only on `@opentelemetry/api`: without an SDK every call is a no-op. Never fails a
 * publish or a delivery because of telemetry; a malformed `traceparent` starts a new trace.
 *
 * @example
 * ```ts
 * const bus = createEventBus({ handlers: [Billing], plugins: [openTelemetry()] });
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): EventBusPlugin {
  const systemName = options.systemName ?? messagingSystem;
  const hosts = new Set<PluginHost>();
  const backlog = options.backlog;
  const resolve = telemetryResolver(
    options.tracerProvider,
    options.meterProvider,
    backlog === false ? undefined : (meter) => observeBacklog(meter, hosts, systemName, backlog ?? {}),
  );
  const link = options.consumerContext === 'link';
  return {
    name: 'opentelemetry',
    attach: (host) => {
      hosts.add(host);
      resolve();
      return () => hosts.delete(host);
    },
    active: () => resolve() !== undefined,
    publish: publishMiddleware(resolve, systemName),
    deliver: deliveryInterceptor(resolve, systemName, link),
  };
}

type Tracer = ReturnType<TracerProvider['getTracer']>;

function messageAttributes(envelope: MessageEnvelope, system: string): Attributes {
  const attributes: Attributes = {
    [A.MESSAGE_ID]: envelope.id,
    [A.BODY_SIZE]: envelope.payload.byteLength,
    [A.CLOUDEVENTS_EVENT_TYPE]: envelope.type,
  };
  if (envelope.correlationId !== undefined) attributes[A.CONVERSATION_ID] = envelope.correlationId;
  if (envelope.partitionKey !== undefined) {
    attributes[A.PARTITION_KEY] = envelope.partitionKey;
    if (system === 'kafka') attributes[A.KAFKA_MESSAGE_KEY] = envelope.partitionKey;
  }
  return attributes;
}

/** `error.type`: an Omnibus error's code, else a string `code` (Node system errors), else the class name. */
function errorType(error: unknown): string {
  if (isOmnibusError(error)) return error.code;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    return error.name === 'Error' ? error.constructor.name : error.name;
  }
  return '_OTHER';
}

function publishMiddleware(
  resolve: () => ActiveTelemetry | undefined,
  systemName: (transport: string) => string,
): PublishMiddleware {
  return async (publish: PublishContext, next) => {
    const telemetry = resolve();
    if (telemetry === undefined) return next();
    const { tracer, instruments } = telemetry;
    const system = systemName(publish.transport);
    const common: Attributes = {
      [A.SYSTEM]: system,
      [A.DESTINATION_NAME]: publish.destination,
      [A.OPERATION_NAME]: 'send',
      [A.OPERATION_TYPE]: 'send',
    };
    const active = otelContext.active();
    const single = publish.messages.length === 1;
    const creates: Span[] = [];
    const send = single
      ? startProducer(tracer, `send ${publish.destination}`, common, publish.messages[0], system, active)
      : undefined;
    if (!single) {
      for (const message of publish.messages) {
        creates.push(
          startProducer(
            tracer,
            `create ${publish.destination}`,
            { ...common, [A.OPERATION_NAME]: 'create', [A.OPERATION_TYPE]: 'create' },
            message,
            system,
            active,
          ),
        );
      }
    }
    const producers = send === undefined ? creates : [send];
    const batchSpan =
      send === undefined
        ? tracer.startSpan(
            `send ${publish.destination}`,
            {
              kind: SpanKind.CLIENT,
              attributes: { ...common, [A.BATCH_MESSAGE_COUNT]: publish.messages.length },
              links: creates.map((s): Link => ({ context: s.spanContext() })),
            },
            active,
          )
        : undefined;
    publish.messages = publish.messages.map((message, index) => inject(message, producers[index]));
    const started = performance.now();
    let failure: unknown;
    try {
      await next();
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      const metricAttributes: Attributes =
        failure === undefined ? common : { ...common, [A.ERROR_TYPE]: errorType(failure) };
      instruments.operationDuration.record((performance.now() - started) / 1000, metricAttributes);
      instruments.sent.add(publish.messages.length, metricAttributes);
      for (const span of batchSpan === undefined ? producers : [...producers, batchSpan]) {
        if (failure !== undefined) fail(span, failure);
        span.end();
      }
    }
  };
}

function startProducer(
  tracer: Tracer,
  name: string,
  common: Attributes,
  message: OutgoingMessage | undefined,
  system: string,
  active: Context,
): Span {
  const attributes: Attributes =
    message === undefined ? { ...common } : { ...common, ...messageAttributes(message.envelope, system) };
  if (message?.delayMs !== undefined) attributes[A.DELAY_MS] = message.delayMs;
  return tracer.startSpan(name, { kind: SpanKind.PRODUCER, attributes }, active);
}

function inject(message: OutgoingMessage, span: Span | undefined): OutgoingMessage {
  const spanContext = span?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return message;
  return withHeaders(message, injectSpanContext(spanContext));
}

function fail(span: Span, error: unknown): void {
  span.setAttribute(A.ERROR_TYPE, errorType(error));
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

function deliveryInterceptor(
  resolve: () => ActiveTelemetry | undefined,
  systemName: (transport: string) => string,
  link: boolean,
): DeliveryInterceptor {
  const metricAttributesBySubscription = new WeakMap<SubscriptionInfo, Attributes>();
  return async (delivery: Delivery, next, subscription) => {
    const telemetry = resolve();
    if (telemetry === undefined) return next();
    const { tracer, instruments } = telemetry;
    const system = systemName(subscription.transport);
    let metricAttributes = metricAttributesBySubscription.get(subscription);
    if (metricAttributes === undefined) {
      metricAttributes = {
        [A.SYSTEM]: system,
        [A.DESTINATION_NAME]: subscription.destination,
        [A.CONSUMER_GROUP_NAME]: subscription.group,
        [A.OPERATION_NAME]: 'process',
        [A.OPERATION_TYPE]: 'process',
      };
      metricAttributesBySubscription.set(subscription, metricAttributes);
    }
    const { envelope } = delivery;
    const carried = extractSpanContext(envelope.headers);
    const parent = carried === undefined || link ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, carried);
    const span = tracer.startSpan(
      `process ${subscription.destination}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...metricAttributes,
          ...messageAttributes(envelope, system),
          [A.DELIVERY_ATTEMPT]: delivery.deliveryAttempt,
        },
        ...(carried !== undefined && link ? { links: [{ context: carried }] } : {}),
      },
      parent,
    );
    instruments.consumed.add(1, metricAttributes);
    instruments.inFlight.add(1, metricAttributes);
    const started = performance.now();
    let report: DeliveryReport | undefined;
    try {
      report = await otelContext.with(trace.setSpan(parent, span), next);
      return report;
    } finally {
      instruments.inFlight.add(-1, metricAttributes);
      settle(span, report, instruments, metricAttributes, (performance.now() - started) / 1000);
    }
  };
}

function settle(
  span: Span,
  report: DeliveryReport | undefined,
  instruments: MessagingInstruments,
  metricAttributes: Attributes,
  seconds: number,
): void {
  try {
    const outcome = report?.outcome;
    const attributes: Attributes = {};
    if (outcome !== undefined) attributes[A.SETTLEMENT_OUTCOME] = outcome;
    if (report?.handler !== undefined) attributes[A.HANDLER] = report.handler;
    if (report?.reason !== undefined) attributes[A.SETTLEMENT_REASON] = report.reason.code;
    if (report?.delayMs !== undefined) attributes[A.RETRY_DELAY_MS] = report.delayMs;
    const failed = report?.error !== undefined || outcome === 'dead-lettered' || report?.settled === false;
    const type =
      report?.error !== undefined
        ? errorType(report.error)
        : report?.settled === false
          ? 'SETTLEMENT_FAILED'
          : outcome === 'dead-lettered' || outcome === 'discarded'
            ? report?.reason?.code
            : undefined;
    if (type !== undefined) attributes[A.ERROR_TYPE] = type;
    span.setAttributes(attributes);
    if (report?.error instanceof Error) span.recordException(report.error);
    if (failed)
      span.setStatus({ code: SpanStatusCode.ERROR, message: report?.reason?.message ?? type ?? 'failed' });
    const pointAttributes: Attributes = { ...metricAttributes };
    if (outcome !== undefined) pointAttributes[A.SETTLEMENT_OUTCOME] = outcome;
    if (type !== undefined) pointAttributes[A.ERROR_TYPE] = type;
    instruments.processDuration.record(seconds, pointAttributes);
    if (outcome === 'retried' && report?.settled === true) instruments.retries.add(1, pointAttributes);
    if (outcome === 'dead-lettered' && report?.settled === true)
      instruments.deadLetters.add(1, {
        ...metricAttributes,
        [A.SETTLEMENT_REASON]: report.reason?.code ?? 'UNKNOWN',
      });
  } finally {
    span.end();
  }
}
