import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { MessagingMetrics } from './messaging-attributes.js';

/** The metric instruments of the plugin, created once per meter. */
export interface MessagingInstruments {
  readonly sent: Counter;
  readonly operationDuration: Histogram;
  readonly consumed: Counter;
  readonly processDuration: Histogram;
  readonly retries: Counter;
  readonly deadLetters: Counter;
  readonly inFlight: UpDownCounter;
}

/** Bucket boundaries (s) for messaging durations, as the conventions advise. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Create every instrument on `meter`. */
export function createMessagingInstruments(meter: Meter): MessagingInstruments {
  const duration = (name: string, description: string): Histogram =>
    meter.createHistogram(name, {
      description,
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
  return {
    sent: meter.createCounter(MessagingMetrics.SENT_MESSAGES, {
      description: 'Messages a producer attempted to send to the broker.',
      unit: '{message}',
    }),
    operationDuration: duration(
      MessagingMetrics.OPERATION_DURATION,
      'Duration of messaging send operations.',
    ),
    consumed: meter.createCounter(MessagingMetrics.CONSUMED_MESSAGES, {
      description: 'Messages delivered to the application by a consumer.',
      unit: '{message}',
    }),
    processDuration: duration(
      MessagingMetrics.PROCESS_DURATION,
      'Duration of processing one delivery attempt, receipt to settlement.',
    ),
    retries: meter.createCounter(MessagingMetrics.RETRIES, {
      description: 'Delivery attempts settled as retried.',
      unit: '{message}',
    }),
    deadLetters: meter.createCounter(MessagingMetrics.DEAD_LETTERS, {
      description: 'Messages moved to a dead-letter destination, by reason code.',
      unit: '{message}',
    }),
    inFlight: meter.createUpDownCounter(MessagingMetrics.IN_FLIGHT, {
      description: 'Handler attempts running now.',
      unit: '{handler}',
    }),
  };
}
