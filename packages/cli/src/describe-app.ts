import type { HandlerRegistration, TransportCapabilities } from '@omnibus/core';

/** What one handler needs from a transport, as the CLI reports it. */
export interface HandlerNeeds {
  readonly handler: string;
  readonly event: string;
  readonly destination: string;
  readonly group: string;
  readonly ordered: boolean;
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly retryMaxDelayMs: number;
  readonly deadLetter: boolean;
}

/** The needs of every registration, sorted by handler name. Pure. */
export function handlerNeeds(registrations: readonly HandlerRegistration[]): HandlerNeeds[] {
  return registrations
    .map((r) => ({
      handler: r.handlerName,
      event: r.event.name,
      destination: r.destination,
      group: r.options.group,
      ordered: r.options.ordered,
      concurrency: r.options.concurrency,
      maxAttempts: r.options.retry.maxAttempts,
      retryMaxDelayMs: r.options.retry.maxDelayMs,
      deadLetter: r.options.deadLetter,
    }))
    .sort((a, b) => a.handler.localeCompare(b.handler) || a.event.localeCompare(b.event));
}

/** Capabilities as `[name, text]` rows for a table. Pure. */
export function capabilityRows(capabilities: TransportCapabilities): [string, string][] {
  const delay = capabilities.delayedDelivery;
  return [
    ['ordering', capabilities.ordering],
    [
      'delayedDelivery',
      delay === false ? 'no' : `up to ${String(delay.maxDelayMs)} ms${delay.emulated ? ' (emulated)' : ''}`,
    ],
    ['maxRetryDelayMs', String(capabilities.maxRetryDelayMs)],
    ['maxPayloadBytes', String(capabilities.maxPayloadBytes)],
    ['competingConsumers', yesNo(capabilities.competingConsumers)],
    ['fanOut', yesNo(capabilities.fanOut)],
    ['survivesBrokerRestart', yesNo(capabilities.survivesBrokerRestart)],
    ['noDuplicatesWithoutFaults', yesNo(capabilities.noDuplicatesWithoutFaults)],
    ['publishDeduplication', yesNo(capabilities.publishDeduplication)],
    ['atomicBatchPublish', yesNo(capabilities.atomicBatchPublish)],
    ['deadLetterStore', yesNo(capabilities.deadLetterStore === true)],
  ];
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/**
 * Needs a capability check at bus start does not catch: several groups on one destination
 * need fan-out. One problem text per destination. Pure.
 */
export function fanOutProblems(
  transportName: string,
  capabilities: TransportCapabilities,
  registrations: readonly HandlerRegistration[],
): string[] {
  if (capabilities.fanOut) return [];
  const groups = new Map<string, Set<string>>();
  for (const r of registrations) {
    const set = groups.get(r.destination) ?? new Set<string>();
    set.add(r.options.group);
    groups.set(r.destination, set);
  }
  return [...groups]
    .filter(([, set]) => set.size > 1)
    .map(
      ([destination, set]) =>
        `destination ${destination} is consumed by ${String(set.size)} groups (${[...set].sort().join(', ')}), but transport "${transportName}" has no fan-out`,
    );
}
