import type { EventDefinition } from '../events/event-definition.js';
import type { EventHandlerOptions } from '../handler/event-handler-options.js';
import { EventHandler } from '../handler/event-handler.decorator.js';
import type { HandlerContext } from '../handler/handler-context.js';
import type { HandlerFilter } from '../handler/handler-filter.js';
import type { Constructor } from '../handler/handler-metadata.js';
import type { MessageEnvelope } from '../message/envelope.js';

/**
 * A declarative forwarding flow: consume `from` in `group`, keep what matches `filter`, turn
 * each payload into a `to` payload with `map`, publish it. Registered with
 * `createEventBus({ flows: [...] })`. At least once: the forwarded publish is confirmed by the
 * broker before the source message is acked (a failed publish retries the source per `options.retry`);
 * correlation and causation are carried (the forwarded message's causation is the source id,
 * its correlation the source's correlation or id) and the source's partition key is kept.
 */
export interface ForwardingFlow<A = unknown, B = unknown> {
  /** Names the flow in logs and handler names (`<name>.forward`). Same rules as group names. */
  readonly name: string;
  readonly from: EventDefinition<A>;
  readonly to: EventDefinition<B>;
  /** Consumer group of the flow (every flow needs its own, or shares one with other handlers of `from`'s destination). */
  readonly group: string;
  /** Content-based filter on the source (non-matching messages are acked as `filtered`). */
  readonly filter?: HandlerFilter<A>;
  /** The transformation; throw to fail the attempt (retried, then dead-lettered). */
  readonly map: (payload: A, context: HandlerContext) => B | Promise<B>;
  /** Other handler options of the flow's consumer (retry, concurrency, ordered, timeoutMs, …). */
  readonly options?: Omit<EventHandlerOptions<A>, 'group' | 'filter' | 'batch'>;
}

/** A declared flow, ready for `createEventBus({ flows: [...] })` (payload types erased). */
export interface Flow {
  readonly name: string;
  readonly group: string;
  /** The declaration as given. */
  readonly spec: ForwardingFlow;
}

/** Declare a forwarding flow (see {@link ForwardingFlow}). Pure: checked when the bus starts. */
export function defineFlow<A, B>(flow: ForwardingFlow<A, B>): Flow {
  return Object.freeze({ name: flow.name, group: flow.group, spec: flow as unknown as ForwardingFlow });
}

/** What a flow's handler needs from the bus: a confirmed publish. @internal */
export type FlowPublisher = (
  event: EventDefinition<unknown>,
  payload: unknown,
  options: { readonly partitionKey?: string },
) => Promise<MessageEnvelope>;

/**
 * The handler class of a flow, publishing through `publish` (the bus's own, so the handler
 * context stamps correlation and causation). @internal
 */
export function flowHandlerClass(flow: ForwardingFlow, publish: FlowPublisher): Constructor {
  const name = String(flow.name);
  const holder = {
    [name]: class {
      async forward(payload: unknown, context: HandlerContext): Promise<void> {
        const mapped = await flow.map(payload, context);
        const partitionKey = context.envelope.partitionKey;
        await publish(flow.to, mapped, partitionKey === undefined ? {} : { partitionKey });
      }
    },
  };
  const handlerClass = holder[name] as Constructor;
  const options: EventHandlerOptions = {
    ...(flow.options ?? {}),
    group: flow.group,
    ...(flow.filter === undefined ? {} : { filter: flow.filter }),
  };
  const prototype = handlerClass.prototype as object;
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'forward') as PropertyDescriptor;
  EventHandler(flow.from, options)(prototype, 'forward', descriptor);
  return handlerClass;
}
