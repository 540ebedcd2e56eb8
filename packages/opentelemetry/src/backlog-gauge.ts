import type { Attributes, Meter, ObservableGauge, ObservableResult } from '@opentelemetry/api';
import type { BacklogOptions, PluginHost } from '@omnibus/core';
import { MessagingAttributes as A, MessagingMetrics } from './messaging-attributes.js';

/**
 * Register the backlog gauge on `meter`: at each collection (and only then) it asks every host
 * (attached bus) for `backlog(options)` — cached, one query per group at most, bounded by
 * `options.timeoutMs` — and observes one point per group that has a reading. Returns the
 * disposer that unregisters the callback.
 */
export function observeBacklog(
  meter: Meter,
  hosts: ReadonlySet<PluginHost>,
  systemName: (transport: string) => string,
  options: BacklogOptions,
): () => void {
  const gauge: ObservableGauge = meter.createObservableGauge(MessagingMetrics.BACKLOG, {
    description:
      'Messages waiting for a consumer group, as the broker reports them (omnibus.backlog.kind says what is counted).',
    unit: '{message}',
  });
  const callback = async (result: ObservableResult): Promise<void> => {
    const all = await Promise.all([...hosts].map((host) => host.backlog(options)));
    for (const entry of all.flat()) {
      const reading = entry.reading;
      if (reading === undefined) continue;
      const attributes: Attributes = {
        [A.SYSTEM]: systemName(entry.transport),
        [A.DESTINATION_NAME]: entry.destination,
        [A.CONSUMER_GROUP_NAME]: entry.group,
        [A.BACKLOG_KIND]: reading.kind,
        [A.BACKLOG_APPROXIMATE]: reading.approximate,
      };
      result.observe(reading.messages, attributes);
    }
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
