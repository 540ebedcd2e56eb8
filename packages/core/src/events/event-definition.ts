import { assertValidName } from './names.js';
import type { StandardSchemaV1 } from './standard-schema.js';

declare const payloadType: unique symbol;

/**
 * An event type: a stable explicit name (never derived from a class name), the payload type
 * `T`, an optional Standard Schema used on publish and on receive, and an optional destination
 * (default: the event name). Immutable; safe to share.
 */
export interface EventDefinition<T = unknown> {
  /** Stable wire name, e.g. `orders.order-placed.v1`; CloudEvents `type`. */
  readonly name: string;
  /** Validates payloads on publish and on receive (any Standard Schema library). */
  readonly schema?: StandardSchemaV1<unknown, T>;
  /** Destination (topic/exchange/queue) the event is published to; defaults to {@link name}. */
  readonly destination?: string;
  /** Type-level only: the payload type. Always absent at run time. */
  readonly [payloadType]?: T;
}

/** The payload type of an {@link EventDefinition}. */
export type PayloadOf<E> = E extends EventDefinition<infer T> ? T : never;

/** Options of {@link defineEvent}. */
export interface DefineEventOptions<T> {
  /** Standard Schema (zod, valibot, arktype…) validating the payload on publish and receive. */
  readonly schema?: StandardSchemaV1<unknown, T>;
  /** Destination name; defaults to the event name. Same character rules as the name. */
  readonly destination?: string;
}

/**
 * Declare an event type.
 *
 * @example
 * ```ts
 * export const OrderPlaced = defineEvent<OrderPlacedPayload>('orders.order-placed.v1');
 * ```
 * @throws OmnibusError `CONFIGURATION_INVALID` when the name or destination is empty or has
 * characters outside `[A-Za-z0-9._-]`. Pure otherwise: registers nothing globally.
 */
export function defineEvent<T>(name: string, options: DefineEventOptions<T> = {}): EventDefinition<T> {
  assertValidName('event name', name);
  if (options.destination !== undefined)
    assertValidName(`destination of event "${name}"`, options.destination);
  const definition: { name: string; schema?: StandardSchemaV1<unknown, T>; destination?: string } = { name };
  if (options.schema !== undefined) definition.schema = options.schema;
  if (options.destination !== undefined) definition.destination = options.destination;
  return Object.freeze(definition);
}

/** The destination an event is published to and consumed from. Pure. */
export function destinationOf(event: EventDefinition<unknown>): string {
  return event.destination ?? event.name;
}
