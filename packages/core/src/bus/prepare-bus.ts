import { CodecRegistry } from '../codec/codec-registry.js';
import { JsonCodec } from '../codec/json-codec.js';
import { createRoutedTransport } from '../config/create-routed-transport.js';
import { createTransport } from '../config/create-transport.js';
import { ConfigurationProblems } from '../errors/configuration-error.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { EventRegistry } from '../events/event-registry.js';
import { buildHandlerRegistrations, isEventDefinition } from '../handler/build-handler-registrations.js';
import type { HandlerRegistration } from '../handler/handler-registration.js';
import { fitToCapabilities } from '../router/check-capabilities.js';
import type { Transport } from '../transport/transport.js';
import type { EventBusConfig } from './event-bus-config.js';

/** Everything a validated configuration yields. */
export interface PreparedBus {
  readonly transport: Transport;
  readonly events: EventRegistry;
  readonly registrations: readonly HandlerRegistration[];
  readonly codecs: CodecRegistry;
}

/**
 * Validate a configuration completely and build its parts (the transport is created, not
 * connected). Collects every problem: events, handlers, transport and its options,
 * capabilities. With `transports`, builds one `RoutedTransport` and checks each handler
 * against its own event's transport.
 * @throws ConfigurationError (`CONFIGURATION_INVALID`) listing every problem with its fix.
 */
export async function prepareBus(config: EventBusConfig): Promise<PreparedBus> {
  const problems = new ConfigurationProblems();
  const events = new EventRegistry();
  for (const [index, event] of (config.events ?? []).entries()) {
    if (!isEventDefinition(event)) {
      problems.add(
        ErrorCodes.EVENT_UNKNOWN,
        `events[${String(index)}] is not an event definition`,
        'list values returned by defineEvent() in `events`',
      );
      continue;
    }
    const conflict = events.register(event);
    if (conflict !== undefined)
      problems.add(
        ErrorCodes.EVENT_UNKNOWN,
        conflict,
        'define each event once with defineEvent() and share that value',
      );
  }
  const declared = buildHandlerRegistrations(
    {
      handlers: config.handlers ?? [],
      defaults: config.defaults ?? {},
      events,
      eventsAreExplicit: config.events !== undefined,
    },
    problems,
  );
  const { transport, registrations, created } =
    config.transports === undefined
      ? await singleTransport(config, declared, problems)
      : await createRoutedTransport(
          { ...config, transports: config.transports },
          events,
          declared,
          problems,
          isTransport,
        );
  if (problems.list.length > 0) {
    await Promise.all(created.map((t) => t.close(0).catch(() => undefined)));
    problems.throwIfAny();
  }
  const codecs = new CodecRegistry([
    new JsonCodec(),
    ...(config.codecs ?? []),
    ...(config.codec === undefined ? [] : [config.codec]),
  ]);
  return { transport: transport as Transport, events, registrations, codecs };
}

/** The one transport of a bus without `transports` (default in-memory), fitted handlers. */
async function singleTransport(
  config: EventBusConfig,
  declared: readonly HandlerRegistration[],
  problems: ConfigurationProblems,
): Promise<{
  transport: Transport | undefined;
  registrations: readonly HandlerRegistration[];
  created: readonly Transport[];
}> {
  const selection = config.transport ?? { name: 'in-memory' };
  const transport = isTransport(selection)
    ? selection
    : await createTransport(selection, config.providers ?? [], problems);
  const registrations =
    transport === undefined
      ? declared
      : fitToCapabilities(transport.name, transport.capabilities, declared, problems);
  return {
    transport,
    registrations,
    created: transport === undefined || transport === selection ? [] : [transport],
  };
}

/** True for a Transport instance (as opposed to a `{ name, options }` selection). */
export function isTransport(value: unknown): value is Transport {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Transport).subscribe === 'function' &&
    typeof (value as Transport).publish === 'function'
  );
}
