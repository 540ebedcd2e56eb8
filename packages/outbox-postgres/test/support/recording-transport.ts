import type { MessageEnvelope, OutgoingMessage, Transport } from '@omnibus/core';

/** A transport that records every published envelope (in call order) and delegates to `inner`. */
export interface RecordingTransport extends Transport {
  readonly published: { destination: string; envelope: MessageEnvelope }[];
  /** Make the next `n` publish calls reject. */
  failNext(n: number): void;
}

export function recordingTransport(inner: Transport): RecordingTransport {
  const published: { destination: string; envelope: MessageEnvelope }[] = [];
  let failures = 0;
  return {
    get name() {
      return inner.name;
    },
    get capabilities() {
      return inner.capabilities;
    },
    get status() {
      return inner.status;
    },
    published,
    failNext(n) {
      failures = n;
    },
    onStatusChange: (listener) => inner.onStatusChange(listener),
    connect: () => inner.connect(),
    provision: (topology) => inner.provision(topology),
    async publish(destination: string, messages: readonly OutgoingMessage[]) {
      if (failures > 0) {
        failures -= 1;
        throw new Error('broker unavailable (test)');
      }
      await inner.publish(destination, messages);
      for (const m of messages) published.push({ destination, envelope: m.envelope });
    },
    subscribe: (spec, onDelivery) => inner.subscribe(spec, onDelivery),
    close: (ms) => inner.close(ms),
    raw: () => inner.raw(),
  };
}
