import { assertValidName } from './names.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import { assertValidUpcasting, type Upcasters } from './upcasting.js';

declare const payloadType: unique symbol;
declare const replyType: unique symbol;

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
  /**
   * Current payload version (integer ≥ 1), stamped on every published message. Absent: the
   * event is unversioned and nothing is stamped.
   */
  readonly version?: number;
  /** Converters from older payload versions, applied by the router before validation. */
  readonly upcasters?: Upcasters;
  /**
   * `'command'` for {@link defineCommand} and `'request'` for {@link defineRequest} results:
   * exactly one consumer group may handle it. Absent for events.
   */
  readonly kind?: 'command' | 'request';
  /** Type-level only: the payload type. Always absent at run time. */
  readonly [payloadType]?: T;
}

/**
 * A request: a command whose one handler returns a reply of type `R`, which
 * `EventBus.request` resolves with. Created by {@link defineRequest}.
 */
export interface RequestDefinition<T = unknown, R = unknown> extends EventDefinition<T> {
  readonly kind: 'request';
  /** Type-level only: the reply type. Always absent at run time. */
  readonly [replyType]?: R;
}

/** The reply type of a {@link RequestDefinition}. */
export type ReplyOf<D> = D extends RequestDefinition<unknown, infer R> ? R : never;

/** The payload type of an {@link EventDefinition}. */
export type PayloadOf<E> = E extends EventDefinition<infer T> ? T : never;

/** Options of {@link defineEvent}. */
export interface DefineEventOptions<T> {
  /** Standard Schema (zod, valibot, arktype…) validating the payload on publish and receive. */
  readonly schema?: StandardSchemaV1<unknown, T>;
  /** Destination name; defaults to the event name. Same character rules as the name. */
  readonly destination?: string;
  /**
   * Current payload version (integer ≥ 1). Publishers stamp it on the wire; a consumer that
   * receives an older version runs {@link upcasters} up to this one before validating. A
   * message without a version counts as version 1.
   */
  readonly version?: number;
  /**
   * One converter per older version: `{ 1: (v1) => v2, 2: (v2) => v3 }` for `version: 3`.
   * Every version below `version` needs one; checked here.
   */
  readonly upcasters?: Upcasters;
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
  return buildDefinition(name, options, undefined);
}

/**
 * Declare a command: a message with exactly one handling consumer group (point to point).
 * Published and handled like an event; a bus whose handlers put one command in two groups
 * fails at `start()` with a `CONFIGURATION_INVALID` error naming both.
 *
 * @example
 * ```ts
 * export const ShipOrder = defineCommand<{ orderId: string }>('shipping.ship-order.v1');
 * ```
 * @throws OmnibusError `CONFIGURATION_INVALID` for the same reasons as {@link defineEvent}.
 */
export function defineCommand<T>(name: string, options: DefineEventOptions<T> = {}): EventDefinition<T> {
  return buildDefinition(name, options, 'command');
}

/**
 * Declare a request: a command (exactly one handling group) whose handler's return value is sent
 * back to the requester. Call it with `EventBus.request(definition, payload, { timeoutMs })`;
 * publishing it with `publish` runs the handler without a reply.
 *
 * @example
 * ```ts
 * export const QuoteShipping = defineRequest<{ weightKg: number }, { priceCents: number }>('shipping.quote.v1');
 * ```
 * @throws OmnibusError `CONFIGURATION_INVALID` for the same reasons as {@link defineEvent}.
 */
export function defineRequest<T, R>(
  name: string,
  options: DefineEventOptions<T> = {},
): RequestDefinition<T, R> {
  return buildDefinition(name, options, 'request') as RequestDefinition<T, R>;
}

function buildDefinition<T>(
  name: string,
  options: DefineEventOptions<T>,
  kind: 'command' | 'request' | undefined,
): EventDefinition<T> {
  assertValidName('event name', name);
  if (options.destination !== undefined)
    assertValidName(`destination of event "${name}"`, options.destination);
  assertValidUpcasting(name, options.version, options.upcasters);
  const definition: {
    name: string;
    schema?: StandardSchemaV1<unknown, T>;
    destination?: string;
    version?: number;
    upcasters?: Upcasters;
    kind?: 'command' | 'request';
  } = { name };
  if (options.schema !== undefined) definition.schema = options.schema;
  if (options.destination !== undefined) definition.destination = options.destination;
  if (options.version !== undefined) definition.version = options.version;
  if (options.upcasters !== undefined) definition.upcasters = Object.freeze({ ...options.upcasters });
  if (kind !== undefined) definition.kind = kind;
  return Object.freeze(definition);
}

/** The destination an event is published to and consumed from. Pure. */
export function destinationOf(event: EventDefinition<unknown>): string {
  return event.destination ?? event.name;
}
