import type { ConfigurationProblems } from '../errors/configuration-error.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { destinationOf } from '../events/event-definition.js';
import type { EventRegistry } from '../events/event-registry.js';
import type { HandlerRegistration } from '../handler/handler-registration.js';
import { fitToCapabilities } from '../router/check-capabilities.js';
import { RoutedTransport } from '../transport/routed/routed-transport.js';
import type { Transport } from '../transport/transport.js';
import type { TransportProvider } from '../transport/transport-provider.js';
import { closestMatch } from './closest-match.js';
import { createTransport } from './create-transport.js';
import type { TransportSelection } from './transport-selection.js';

/** The alias the bus gives `transport` when `transports` are configured too. */
export const DEFAULT_TRANSPORT_ALIAS = 'default';

/** The part of a bus configuration that selects several transports. */
export interface TransportRoutingConfig {
  readonly transport?: Transport | TransportSelection;
  readonly transports: Readonly<Record<string, Transport | TransportSelection>>;
  readonly routes?: Readonly<Record<string, string>>;
  readonly providers?: readonly TransportProvider[];
}

/** What {@link createRoutedTransport} built. */
export interface RoutedTransportResult {
  readonly transport: RoutedTransport | undefined;
  /** The registrations fitted to their own transport's capabilities. */
  readonly registrations: readonly HandlerRegistration[];
  /** The transports created here from selections (closed again when the configuration fails). */
  readonly created: readonly Transport[];
}

/**
 * Build a bus's {@link RoutedTransport} from `transports` (alias → instance or selection),
 * `routes` (event name or destination → alias) and the optional default `transport` (alias
 * `default`, carrying everything not routed). Reports every problem: a bad alias, an unknown
 * transport or option, a route to an unknown alias or from an unknown event or destination,
 * two events of one destination routed apart, a known event no transport carries, and each
 * handler's needs its own transport lacks (`CAPABILITY_MISSING` naming event and transport).
 */
export async function createRoutedTransport(
  config: TransportRoutingConfig,
  events: EventRegistry,
  registrations: readonly HandlerRegistration[],
  problems: ConfigurationProblems,
  isTransport: (value: unknown) => value is Transport,
): Promise<RoutedTransportResult> {
  const transports = new Map<string, Transport>();
  const created: Transport[] = [];
  let broken = false;
  const entries = Object.entries(config.transports);
  if (config.transport !== undefined) {
    if (DEFAULT_TRANSPORT_ALIAS in config.transports)
      problems.add(
        ErrorCodes.CONFIGURATION_INVALID,
        `transports.${DEFAULT_TRANSPORT_ALIAS} and transport both set the default transport`,
        `keep one of them: \`transport\` is the transport named "${DEFAULT_TRANSPORT_ALIAS}"`,
      );
    entries.push([DEFAULT_TRANSPORT_ALIAS, config.transport]);
  }
  if (entries.length === 0)
    problems.add(
      ErrorCodes.CONFIGURATION_INVALID,
      '`transports` is empty',
      'name at least one transport, e.g. `transports: { stream: { name: "kafka" } }`',
    );
  for (const [alias, selection] of entries) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(alias)) {
      problems.add(
        ErrorCodes.CONFIGURATION_INVALID,
        `transports.${alias}: "${alias}" is not a valid transport alias`,
        'use lower-case letters, digits and dashes (it also names the OMNIBUS_TRANSPORTS_<ALIAS>_* variables)',
      );
      broken = true;
      continue;
    }
    if (isTransport(selection)) {
      transports.set(alias, selection);
      continue;
    }
    const before = problems.list.length;
    const transport = await createTransport(
      selection,
      config.providers ?? [],
      problems,
      Object.fromEntries(entries),
      `transports.${alias}`,
    );
    for (const problem of problems.list.slice(before))
      if (!problem.problem.startsWith(`transports.${alias}`))
        Object.assign(problem, { problem: `transports.${alias}: ${problem.problem}` });
    if (transport === undefined) broken = true;
    else {
      transports.set(alias, transport);
      created.push(transport);
    }
  }
  const fallback = config.transport === undefined ? undefined : DEFAULT_TRANSPORT_ALIAS;
  const destinations = routeDestinations(config.routes ?? {}, entries, events, registrations, problems);
  const known = new Map<string, string>();
  for (const event of events.all()) known.set(destinationOf(event), `event ${event.name}`);
  for (const registration of registrations)
    known.set(
      registration.destination,
      `event ${registration.event.name} (handled by ${registration.handlerName})`,
    );
  if (fallback === undefined)
    for (const [destination, what] of known)
      if (!destinations.has(destination))
        problems.add(
          ErrorCodes.CONFIGURATION_INVALID,
          `${what} on destination "${destination}" has no transport`,
          'route it in `routes` (event name → transport alias), or set `transport` for everything not routed',
        );
  const fitted = registrations.map((registration) => {
    const alias = destinations.get(registration.destination) ?? fallback;
    const transport = alias === undefined ? undefined : transports.get(alias);
    if (alias === undefined || transport === undefined) return registration;
    const [one] = fitToCapabilities(transport.name, transport.capabilities, [registration], problems, alias);
    return one ?? registration;
  });
  if (broken || transports.size === 0) return { transport: undefined, registrations: fitted, created };
  const routing = { transports, destinations, ...(fallback === undefined ? {} : { fallback }) };
  return { transport: new RoutedTransport(routing), registrations: fitted, created };
}

/** `routes` as destination → alias, with every problem of its keys and values reported. */
function routeDestinations(
  routes: Readonly<Record<string, string>>,
  entries: readonly (readonly [string, unknown])[],
  events: EventRegistry,
  registrations: readonly HandlerRegistration[],
  problems: ConfigurationProblems,
): Map<string, string> {
  const aliases = entries.map(([alias]) => alias);
  const knownDestinations = new Set([
    ...events.all().map((event) => destinationOf(event)),
    ...registrations.map((r) => r.destination),
  ]);
  const destinations = new Map<string, string>();
  const reasons = new Map<string, string>();
  for (const [key, alias] of Object.entries(routes)) {
    if (typeof alias !== 'string' || !aliases.includes(alias)) {
      const suggestion = typeof alias === 'string' ? closestMatch(alias, aliases) : undefined;
      problems.add(
        ErrorCodes.CONFIGURATION_INVALID,
        `routes["${key}"] names transport "${String(alias)}", which is not configured (transports: ${aliases.join(', ')})`,
        suggestion === undefined ? 'name one of the configured transports' : `did you mean "${suggestion}"?`,
      );
      continue;
    }
    const event = events.get(key);
    const destination = event === undefined ? key : destinationOf(event);
    if (event === undefined && !knownDestinations.has(key)) {
      const suggestion = closestMatch(key, [...events.all().map((e) => e.name), ...knownDestinations]);
      problems.add(
        ErrorCodes.EVENT_UNKNOWN,
        `routes["${key}"]: no known event or destination is called "${key}"`,
        suggestion === undefined
          ? 'list the event in `events` (or handle it), or route its destination'
          : `did you mean "${suggestion}"?`,
      );
      continue;
    }
    const earlier = destinations.get(destination);
    if (earlier !== undefined && earlier !== alias) {
      problems.add(
        ErrorCodes.CONFIGURATION_INVALID,
        `destination "${destination}" is routed to "${earlier}" (${String(reasons.get(destination))}) and to "${alias}" (routes["${key}"])`,
        'events sharing a destination travel together: route them to one transport',
      );
      continue;
    }
    destinations.set(destination, alias);
    reasons.set(destination, `routes["${key}"]`);
  }
  return destinations;
}
