import type { EventBus, MessageEnvelope } from '@omnibus/core';

const decoder = new TextDecoder();

/** The `orderId` field of a demo payload, for the trace (the demo's events all carry one). */
export function orderIdOf(envelope: MessageEnvelope): string {
  try {
    const value: unknown = JSON.parse(decoder.decode(envelope.payload));
    if (typeof value === 'object' && value !== null && 'orderId' in value) return String(value.orderId);
  } catch {
    // not JSON: fall through
  }
  return '?';
}

function shortType(type: string): string {
  return type.replace(/^shop\./, '').replace(/\.v\d+$/, '');
}

/**
 * Prints one timed line per publish, retry, dead-letter and ack, so the demo reads as a story.
 * Returns a disposer.
 */
export function printTrace(bus: EventBus, write: (line: string) => void = console.log): () => void {
  const t0 = Date.now();
  const line = (what: string, envelope: MessageEnvelope, detail: string): void => {
    const ms = String(Date.now() - t0).padStart(5);
    write(`+${ms} ms  ${what.padEnd(13)} ${shortType(envelope.type).padEnd(20)} ${orderIdOf(envelope).padEnd(9)} ${detail}`);
  };
  const disposers = [
    bus.on('message.published', (e) => line('published', e.envelope, `→ ${e.destination}`)),
    bus.on('message.settled', (e) => {
      const who = `${e.group} (${e.handler ?? 'no handler'}, attempt ${String(e.attempt)})`;
      if (e.outcome === 'acked') line('handled', e.envelope, who);
      else if (e.outcome === 'retried') line('retry', e.envelope, `${who}: ${e.reason?.message ?? ''}; again in ${String(e.delayMs ?? 0)} ms`);
      else line(e.outcome, e.envelope, `${who}: ${e.reason?.code ?? ''} ${e.reason?.message ?? ''}`);
    }),
  ];
  return () => {
    for (const dispose of disposers) dispose();
  };
}
