import type { TransportCapabilities } from '../capabilities.js';

const WEAKEST_PUBLISH_RULE = ['unchecked', 'retained', 'rejects'] as const;

/**
 * What several transports guarantee together: each flag only when every one of them has it,
 * each limit the smallest. Used as the capabilities of a {@link RoutedTransport} as a whole;
 * the bus checks and publishes against each destination's own transport instead. Pure.
 */
export function mergeCapabilities(all: readonly TransportCapabilities[]): TransportCapabilities {
  const every = (flag: (c: TransportCapabilities) => boolean | undefined): boolean =>
    all.length > 0 && all.every((c) => flag(c) === true);
  const min = (limit: (c: TransportCapabilities) => number): number => Math.min(...all.map(limit));
  const delays = all.flatMap((c) => (c.delayedDelivery === false ? [] : [c.delayedDelivery]));
  const backlogs = all.map((c) => c.backlog);
  const firstBacklog = backlogs[0];
  const rules = all.map((c) => WEAKEST_PUBLISH_RULE.indexOf(c.publishWithoutSubscribers ?? 'unchecked'));
  return {
    ordering: every((c) => c.ordering === 'per-key') ? 'per-key' : 'none',
    delayedDelivery:
      all.length > 0 && delays.length === all.length
        ? {
            maxDelayMs: Math.min(...delays.map((d) => d.maxDelayMs)),
            emulated: delays.some((d) => d.emulated),
          }
        : false,
    maxRetryDelayMs: min((c) => c.maxRetryDelayMs),
    maxPayloadBytes: min((c) => c.maxPayloadBytes),
    competingConsumers: every((c) => c.competingConsumers),
    fanOut: every((c) => c.fanOut),
    survivesBrokerRestart: every((c) => c.survivesBrokerRestart),
    noDuplicatesWithoutFaults: every((c) => c.noDuplicatesWithoutFaults),
    publishDeduplication: every((c) => c.publishDeduplication),
    atomicBatchPublish: every((c) => c.atomicBatchPublish),
    deadLetterStore: every((c) => c.deadLetterStore),
    deadLetterOnce: every((c) => c.deadLetterOnce),
    ...(firstBacklog !== undefined && backlogs.every((b) => b !== undefined)
      ? {
          backlog: {
            kind: backlogs.every((b) => b?.kind === firstBacklog.kind) ? firstBacklog.kind : 'approximate',
            approximate: backlogs.some((b) => b?.approximate === true),
          },
        }
      : {}),
    publishWithoutSubscribers: WEAKEST_PUBLISH_RULE[Math.min(...rules)] ?? 'unchecked',
    // Pushed down only when every transport does; otherwise the combination forwards no filters.
    ...(every((c) => c.headerFilters === 'broker') ? { headerFilters: 'broker' as const } : {}),
  };
}
