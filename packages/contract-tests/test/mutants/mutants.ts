import { ErrorCodes, isOmnibusError, OmnibusError } from '@omnibus/core';
import type {
  Delivery,
  DeliveryHandler,
  MessageEnvelope,
  OutgoingMessage,
  Subscription,
  Transport,
} from '@omnibus/core';
import { patchDelivery, WrappedTransport, type TransportOverrides } from './wrapped-transport.js';

/** A deliberately broken variant of the in-memory transport and the cases expected to notice. */
export interface Mutant {
  readonly name: string;
  /** The defect, in one line. */
  readonly defect: string;
  /** Case ids run against it (a subset keeps the self-test fast); the suite must fail at least one. */
  readonly cases: readonly string[];
  /** Wrap a correct transport into the broken one. */
  wrap(inner: Transport): Transport;
  /** Environment for its run (e.g. the soak mode's duration and seed). */
  readonly env?: Readonly<Record<string, string>>;
}

const noop = (): Promise<void> => Promise.resolve();

function wrap(overrides: TransportOverrides): (inner: Transport) => Transport {
  return (inner) => new WrappedTransport(inner, overrides);
}

function withEnvelope(message: OutgoingMessage, envelope: MessageEnvelope): OutgoingMessage {
  return message.delayMs === undefined ? { envelope } : { envelope, delayMs: message.delayMs };
}

/** Subscribe with every delivery mapped through `map` before it reaches the router. */
function mapDeliveries(
  map: (delivery: Delivery, onDelivery: DeliveryHandler) => Promise<void>,
): TransportOverrides {
  return { subscribe: (inner, spec, onDelivery) => inner.subscribe(spec, (d) => map(d, onDelivery)) };
}

let publishedCount = 0;

/** Ack every `n`-th delivery (counted over every transport of the run) without running the handler. */
function losesOneIn(n: number): (inner: Transport) => Transport {
  let deliveries = 0;
  return (inner) => {
    return new WrappedTransport(
      inner,
      mapDeliveries(async (d, onDelivery) => {
        deliveries += 1;
        if (deliveries % n === 0) await d.ack();
        else await onDelivery(d);
      }),
    );
  };
}
/** destination → the one group every group of it is folded into (shared by all wrapped transports). */
const sharedGroups = new Map<string, string>();

/** Every mutant of the self-test. Names are stable (they select the mutant in the child run). */
export const mutants: readonly Mutant[] = [
  {
    name: 'drops-one-message',
    defect: 'publish resolves but silently drops the 3rd message it is given',
    cases: ['A2', 'P1'],
    wrap: wrap({
      publish: (inner, destination, messages) =>
        inner.publish(
          destination,
          messages.filter(() => {
            publishedCount += 1;
            return publishedCount !== 3;
          }),
        ),
    }),
  },
  {
    name: 'delivers-twice-after-ack',
    defect: 'after the first successful ack, hands the same message to the handler once more',
    cases: ['A1', 'C3'],
    wrap: (inner) => {
      let replayed = false;
      return new WrappedTransport(
        inner,
        mapDeliveries(async (d, onDelivery) => {
          const replay = async (): Promise<void> => {
            await d.ack();
            if (!replayed) {
              replayed = true;
              setTimeout(
                () => void onDelivery(patchDelivery(d, { ack: noop, retry: noop, deadLetter: noop })),
                5,
              );
            }
          };
          await onDelivery(patchDelivery(d, { ack: replay }));
        }),
      );
    },
  },
  {
    name: 'acks-before-handler',
    defect:
      'acks each message on receipt, before the handler ran (auto-ack); settlement by the handler is a no-op',
    cases: ['C4', 'C5', 'E1', 'C8'],
    wrap: wrap(
      mapDeliveries(async (d, onDelivery) => {
        await d.ack();
        await onDelivery(patchDelivery(d, { ack: noop, retry: noop, deadLetter: noop }));
      }),
    ),
  },
  {
    name: 'ignores-retry-delay',
    defect: 'retry(delayMs) redelivers at once',
    cases: ['D1', 'D2'],
    wrap: wrap(mapDeliveries((d, onDelivery) => onDelivery(patchDelivery(d, { retry: () => d.retry(0) })))),
  },
  {
    name: 'retry-acks',
    defect: 'retry() acknowledges instead of requeueing (nack ignored)',
    cases: ['C1', 'C4'],
    wrap: wrap(mapDeliveries((d, onDelivery) => onDelivery(patchDelivery(d, { retry: () => d.ack() })))),
  },
  {
    name: 'loses-empty-header',
    defect: 'headers with an empty-string value are not carried',
    cases: ['B1', 'B2'],
    wrap: wrap({
      publish: (inner, destination, messages) =>
        inner.publish(
          destination,
          messages.map((m) =>
            withEnvelope(m, {
              ...m.envelope,
              headers: Object.fromEntries(
                Object.entries(m.envelope.headers).filter(([, value]) => value !== ''),
              ),
            }),
          ),
        ),
    }),
  },
  {
    name: 'reorders-partition-key',
    defect:
      'ignores ordering (provisions and subscribes unordered) and the first message of each key is slow to start',
    cases: ['F1', 'F2', 'F3'],
    wrap: wrap({
      provision: (inner, topology) =>
        inner.provision({
          destinations: topology.destinations.map((d) => ({
            name: d.name,
            groups: d.groups.map((g) => ({ name: g.name, ordered: false })),
          })),
        }),
      subscribe: (inner, spec, onDelivery) => {
        const seen = new Set<string>();
        return inner.subscribe(
          { ...spec, ordered: false, concurrency: Math.max(2, spec.concurrency) },
          async (d) => {
            const key = d.envelope.partitionKey;
            if (key !== undefined && !seen.has(key)) {
              seen.add(key);
              await new Promise((resolve) => setTimeout(resolve, 30));
            }
            await onDelivery(d);
          },
        );
      },
    }),
  },
  {
    name: 'exceeds-concurrency',
    defect: 'runs two more handlers at once than the subscription’s concurrency',
    cases: ['H1', 'H2'],
    wrap: wrap({
      subscribe: (inner, spec, onDelivery) =>
        inner.subscribe({ ...spec, concurrency: spec.concurrency + 2 }, onDelivery),
    }),
  },
  {
    name: 'closes-without-draining',
    defect: 'close() returns at once, not waiting for in-flight handlers',
    cases: ['K1', 'K2'],
    wrap: wrap({
      subscribe: async (inner, spec, onDelivery) => {
        const subscription = await inner.subscribe(spec, onDelivery);
        return { close: () => subscription.close(0) };
      },
      close: (inner) => inner.close(0),
    }),
  },
  {
    name: 'close-acks-unsettled',
    defect: 'on close, acks the deliveries still in flight instead of releasing them for redelivery',
    cases: ['C5', 'K3'],
    wrap: wrap({
      subscribe: async (inner, spec, onDelivery) => {
        const held = new Set<Delivery>();
        const subscription = await inner.subscribe(spec, async (d) => {
          held.add(d);
          try {
            await onDelivery(d);
          } finally {
            held.delete(d);
          }
        });
        return {
          close: async (drainMs: number) => {
            await Promise.all([...held].map((d) => d.ack().catch(() => undefined)));
            await subscription.close(drainMs);
          },
        };
      },
      close: async (inner, drainMs) => {
        await inner.close(drainMs);
      },
    }),
  },
  {
    name: 'hoards-prefetched-on-close',
    defect:
      'buffers deliveries client-side and only releases the unstarted ones after in-flight handlers finish',
    cases: ['K5'],
    wrap: wrap({
      subscribe: async (inner, spec, onDelivery) => {
        const queue: Delivery[] = [];
        let running = 0;
        let closing = false;
        const idle: (() => void)[] = [];
        const pump = (): void => {
          while (!closing && running < spec.concurrency && queue.length > 0) {
            const d = queue.shift() as Delivery;
            running += 1;
            void onDelivery(d).finally(() => {
              running -= 1;
              if (running === 0) for (const wake of idle.splice(0)) wake();
              pump();
            });
          }
        };
        const subscription = await inner.subscribe({ ...spec, concurrency: spec.concurrency + 8 }, (d) => {
          queue.push(d);
          pump();
          return new Promise<void>(() => undefined);
        });
        return {
          close: async (drainMs: number) => {
            closing = true;
            if (running > 0) await new Promise<void>((resolve) => idle.push(resolve));
            await subscription.close(Math.min(drainMs, 10));
          },
        } satisfies Subscription;
      },
    }),
  },
  {
    name: 'swallows-publish-error',
    defect: 'publish resolves even when the broker rejected the message',
    cases: ['M2', 'K4', 'A4'],
    wrap: wrap({
      publish: (inner, destination, messages) => inner.publish(destination, messages).catch(() => undefined),
    }),
  },
  {
    name: 'attempt-not-incremented',
    defect: 'deliveryAttempt is always 1',
    cases: ['C4', 'C5'],
    wrap: wrap(mapDeliveries((d, onDelivery) => onDelivery(patchDelivery(d, { deliveryAttempt: 1 })))),
  },
  {
    name: 'leaks-timer-after-close',
    defect: 'close() leaves a (referenced) interval timer running',
    cases: ['K7'],
    wrap: wrap({
      close: async (inner, drainMs) => {
        await inner.close(drainMs);
        setInterval(() => undefined, 60_000);
      },
    }),
  },
  {
    name: 'dead-letter-loses-reason',
    defect: 'dead-letters without the failure reason message',
    cases: ['E1', 'E2', 'L1'],
    wrap: wrap(
      mapDeliveries((d, onDelivery) =>
        onDelivery(patchDelivery(d, { deadLetter: (reason) => d.deadLetter({ ...reason, message: '' }) })),
      ),
    ),
  },
  {
    name: 'dead-letter-discards',
    defect: 'deadLetter() acks the message: nothing reaches the dead-letter destination',
    cases: ['E1', 'L1'],
    wrap: wrap(mapDeliveries((d, onDelivery) => onDelivery(patchDelivery(d, { deadLetter: () => d.ack() })))),
  },
  {
    name: 'groups-compete-instead-of-fan-out',
    defect:
      'all groups of a destination share one queue, so groups compete instead of each receiving everything',
    cases: ['G1', 'E4'],
    wrap: (inner) => {
      const shared = sharedGroups;
      return new WrappedTransport(inner, {
        provision: (i, topology) => {
          for (const d of topology.destinations) {
            const first = d.groups[0]?.name;
            if (first !== undefined && !shared.has(d.name)) shared.set(d.name, first);
          }
          return i.provision(topology);
        },
        subscribe: (i, spec, onDelivery) =>
          i.subscribe({ ...spec, group: shared.get(spec.destination) ?? spec.group }, onDelivery),
      });
    },
  },
  {
    name: 'delivers-delayed-early',
    defect: 'ignores delayMs at publish',
    cases: ['N1'],
    wrap: wrap({
      publish: (inner, destination, messages) =>
        inner.publish(
          destination,
          messages.map((m) => ({ envelope: m.envelope })),
        ),
    }),
  },
  {
    name: 'normalises-header-text',
    defect: 'header values, correlation id and partition key are published in Unicode NFC form',
    cases: ['B2', 'B5'],
    wrap: wrap({
      publish: (inner, destination, messages) =>
        inner.publish(
          destination,
          messages.map((m) => {
            const e = m.envelope;
            return withEnvelope(m, {
              ...e,
              headers: Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k, v.normalize('NFC')])),
              ...(e.correlationId === undefined ? {} : { correlationId: e.correlationId.normalize('NFC') }),
              ...(e.partitionKey === undefined ? {} : { partitionKey: e.partitionKey.normalize('NFC') }),
            });
          }),
        ),
    }),
  },
  {
    name: 'provisions-groups-lazily',
    defect:
      'provision creates only the destination; a group is created when its first consumer subscribes, so it misses what was published before',
    cases: ['G3', 'G5'],
    wrap: wrap({
      provision: (inner, topology) =>
        inner.provision({ destinations: topology.destinations.map((d) => ({ name: d.name, groups: [] })) }),
      subscribe: async (inner, spec, onDelivery) => {
        await inner.provision({
          destinations: [{ name: spec.destination, groups: [{ name: spec.group, ordered: spec.ordered }] }],
        });
        return inner.subscribe(spec, onDelivery);
      },
    }),
  },
  {
    name: 'settles-after-close-silently',
    defect:
      'a settlement attempted after its subscription closed resolves without doing anything (the message is released, the caller believes it settled)',
    cases: ['C5', 'C9'],
    wrap: wrap({
      subscribe: async (inner, spec, onDelivery) => {
        let closed = false;
        const subscription = await inner.subscribe(spec, (d) =>
          onDelivery(
            patchDelivery(d, {
              ack: () => (closed ? noop() : d.ack()),
              retry: (delayMs: number) => (closed ? noop() : d.retry(delayMs)),
              deadLetter: (reason) => (closed ? noop() : d.deadLetter(reason)),
            }),
          ),
        );
        return {
          close: async (drainMs: number) => {
            await subscription.close(drainMs);
            closed = true;
          },
        };
      },
    }),
  },
  {
    name: 'counts-attempts-in-memory',
    defect:
      'deliveryAttempt is counted by the consumer process (per transport instance), not kept by the broker: it starts again at 1 after a restart',
    cases: ['J4'],
    wrap: (inner) => {
      const seen = new Map<string, number>();
      return new WrappedTransport(
        inner,
        mapDeliveries((d, onDelivery) => {
          const key = `${d.group}/${d.envelope.id}`;
          const attempt = (seen.get(key) ?? 0) + 1;
          seen.set(key, attempt);
          return onDelivery(patchDelivery(d, { deliveryAttempt: attempt }));
        }),
      );
    },
  },
  {
    name: 'drops-causation',
    defect: 'causationId is not carried (publish leaves it out)',
    cases: ['Z4'],
    wrap: wrap({
      publish: (inner, destination, messages) =>
        inner.publish(
          destination,
          messages.map((m) => {
            const { causationId: _dropped, ...rest } = m.envelope;
            return withEnvelope(m, rest);
          }),
        ),
    }),
  },
  {
    name: 'new-id-on-redelivery',
    defect: 'a redelivered message (retry, replay) arrives under a new id',
    cases: ['Z5'],
    wrap: wrap(
      mapDeliveries((d, onDelivery) =>
        onDelivery(
          d.deliveryAttempt === 1
            ? d
            : patchDelivery(d, {
                envelope: { ...d.envelope, id: `${d.envelope.id}-${String(d.deliveryAttempt)}` },
              }),
        ),
      ),
    ),
  },
  {
    name: 'loses-one-in-thousands',
    defect:
      'acks every 2,500th delivery without handing it to the handler: a loss no case of a few hundred messages sees',
    cases: ['A2', 'O1', 'V1'],
    wrap: losesOneIn(2_500),
  },
  {
    name: 'loses-one-in-thousands-soak',
    defect: 'the same rare loss, found by a short seeded soak (15 s, seed 7)',
    cases: ['S1'],
    env: { OMNIBUS_SOAK_MS: '15000', OMNIBUS_SOAK_SEED: '7' },
    wrap: losesOneIn(2_500),
  },
  {
    name: 'drops-without-subscribers',
    defect: 'a publish to a destination without groups resolves (the message is dropped)',
    cases: ['U1'],
    wrap: wrap({
      publish: (inner, destination, messages) =>
        inner.publish(destination, messages).catch((error: unknown) => {
          if (isOmnibusError(error) && error.code === ErrorCodes.NO_SUBSCRIBERS) return undefined;
          throw error;
        }),
    }),
  },
  {
    name: 'drops-delayed-without-subscribers',
    defect:
      'a delayed publish to a destination without groups resolves and the message is dropped when its delay ends (undelayed publishes still reject)',
    cases: ['U3'],
    wrap: wrap({
      publish: (inner, destination, messages) =>
        inner.publish(destination, messages).catch((error: unknown) => {
          const delayed = messages.some((m) => (m.delayMs ?? 0) > 0);
          if (delayed && isOmnibusError(error) && error.code === ErrorCodes.NO_SUBSCRIBERS) return undefined;
          throw error;
        }),
    }),
  },
  {
    name: 'remembers-no-subscribers',
    defect: 'remembers a NO_SUBSCRIBERS answer, so publishes keep failing after a group appears',
    cases: ['U1'],
    wrap: (inner) => {
      const refused = new Set<string>();
      return new WrappedTransport(inner, {
        publish: async (i, destination, messages) => {
          if (refused.has(destination))
            throw new OmnibusError(
              ErrorCodes.NO_SUBSCRIBERS,
              `remembered: nobody subscribes to ${destination}`,
              {
                retriable: true,
              },
            );
          try {
            await i.publish(destination, messages);
          } catch (error) {
            if (isOmnibusError(error) && error.code === ErrorCodes.NO_SUBSCRIBERS) refused.add(destination);
            throw error;
          }
        },
      });
    },
  },
];

/** The unmutated wrapper, used as the self-test's control. */
export const control: Mutant = {
  name: 'none',
  defect: 'none (control)',
  cases: [...new Set(mutants.flatMap((m) => m.cases))],
  env: Object.assign({}, ...mutants.map((m) => m.env ?? {})) as Record<string, string>,
  wrap: wrap({}),
};

/** Find a mutant (or the control) by name; throws for unknown names. */
export function findMutant(name: string): Mutant {
  const found = name === control.name ? control : mutants.find((m) => m.name === name);
  if (found === undefined)
    throw new Error(`unknown mutant "${name}" (known: ${mutants.map((m) => m.name).join(', ')})`);
  return found;
}
