import { WireHeaders, destinationOf, type EventDefinition, type HandlerRegistration } from '@omnibus/core';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Options of {@link generateAsyncApi}. */
export interface AsyncApiOptions {
  readonly title: string;
  readonly version: string;
  /** Transport name; adds a `servers` entry with its protocol. */
  readonly transport?: string;
}

const PROTOCOLS: Readonly<Record<string, string>> = {
  rabbitmq: 'amqp',
  kafka: 'kafka',
  sqs: 'sqs',
  azure: 'amqp1',
  'in-memory': 'in-memory',
};

/** A component/channel key: AsyncAPI keys allow `[A-Za-z0-9_.-]`. */
function key(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * The JSON Schema of an event's payload when its Standard Schema library can produce one
 * (Standard JSON Schema, e.g. zod ≥ 4.2, arktype); `undefined` otherwise. `$schema` is dropped
 * (AsyncAPI 3 schemas are draft-07 compatible). Never throws.
 */
export function payloadJsonSchema(event: EventDefinition<unknown>): Json | undefined {
  const standard = (
    event.schema as
      { '~standard'?: { jsonSchema?: { output?: (o: { target: string }) => unknown } } } | undefined
  )?.['~standard'];
  const convert = standard?.jsonSchema?.output;
  if (typeof convert !== 'function') return undefined;
  try {
    const schema = convert({ target: 'draft-07' }) as Record<string, Json>;
    const { $schema: _ignored, ...rest } = schema;
    return rest;
  } catch {
    return undefined;
  }
}

const HEADERS_SCHEMA: Json = {
  type: 'object',
  properties: {
    [WireHeaders.id]: {
      type: 'string',
      description: 'Message id (CloudEvents id), kept across retries and replays',
    },
    [WireHeaders.type]: { type: 'string', description: 'Event name (CloudEvents type)' },
    [WireHeaders.time]: { type: 'string', format: 'date-time' },
    [WireHeaders.correlationId]: { type: 'string' },
    [WireHeaders.causationId]: { type: 'string' },
    [WireHeaders.partitionKey]: {
      type: 'string',
      description: 'Messages with one key are handled in order where the transport supports it',
    },
    traceparent: { type: 'string', description: 'W3C trace context' },
  },
};

/**
 * An AsyncAPI 3.0 document for the events and handlers of a bus: one channel per destination
 * (its address), one message per event (payload from the event's schema when convertible,
 * Omnibus wire headers), a `send` operation per event and a `receive` operation per
 * (group, event) handled. Deterministic (sorted), so it can be committed and diffed. Pure.
 */
export function generateAsyncApi(
  events: readonly EventDefinition<unknown>[],
  registrations: readonly HandlerRegistration[],
  options: AsyncApiOptions,
): Record<string, Json> {
  const sortedEvents = [...events].sort((a, b) => a.name.localeCompare(b.name));
  const channels: Record<string, Json> = {};
  const messages: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  const messageRef = (event: EventDefinition<unknown>): Json => ({
    $ref: `#/channels/${key(destinationOf(event))}/messages/${key(event.name)}`,
  });
  for (const event of sortedEvents) {
    const channel = key(destinationOf(event));
    const existing = (channels[channel] as
      { address: string; messages: Record<string, Json> } | undefined) ?? {
      address: destinationOf(event),
      messages: {},
    };
    existing.messages[key(event.name)] = { $ref: `#/components/messages/${key(event.name)}` };
    channels[channel] = existing;
    const payload = payloadJsonSchema(event);
    messages[key(event.name)] = {
      name: event.name,
      title: event.name,
      contentType: 'application/json',
      headers: HEADERS_SCHEMA,
      ...(payload === undefined ? {} : { payload }),
    };
    operations[`send.${key(event.name)}`] = {
      action: 'send',
      summary: `Publish ${event.name}`,
      channel: { $ref: `#/channels/${channel}` },
      messages: [messageRef(event)],
    };
  }
  const receivers = [...registrations].sort(
    (a, b) => a.options.group.localeCompare(b.options.group) || a.event.name.localeCompare(b.event.name),
  );
  for (const r of receivers) {
    const id = `receive.${key(r.options.group)}.${key(r.event.name)}`;
    operations[id] = {
      action: 'receive',
      summary: `${r.handlerName} handles ${r.event.name} in group ${r.options.group}`,
      channel: { $ref: `#/channels/${key(r.destination)}` },
      messages: [messageRef(r.event)],
      'x-omnibus-group': r.options.group,
      'x-omnibus-handler': r.handlerName,
      'x-omnibus-ordered': r.options.ordered,
      'x-omnibus-max-attempts': r.options.retry.maxAttempts,
    };
  }
  const protocol = options.transport === undefined ? undefined : PROTOCOLS[options.transport];
  return {
    asyncapi: '3.0.0',
    info: { title: options.title, version: options.version },
    defaultContentType: 'application/json',
    ...(protocol === undefined || options.transport === undefined
      ? {}
      : {
          servers: {
            [key(options.transport)]: {
              host: 'configured-by-environment',
              protocol,
              description: `Omnibus transport "${options.transport}"`,
            },
          },
        }),
    channels,
    operations,
    components: { messages },
  };
}
