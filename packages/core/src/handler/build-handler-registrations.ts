import type { ConfigurationProblems } from '../errors/configuration-error.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { destinationOf, type EventDefinition } from '../events/event-definition.js';
import type { EventRegistry } from '../events/event-registry.js';
import { nameProblem } from '../events/names.js';
import type { HandlerRegistration } from './handler-registration.js';
import { readHandlerMetadata, type Constructor, type HandlerMetadata } from './handler-metadata.js';
import { resolveHandlerOptions, type HandlerDefaults } from './resolve-handler-options.js';

/** Input of {@link buildHandlerRegistrations}. */
export interface BuildHandlerRegistrationsInput {
  /** Classes passed as `handlers` (anything; non-classes are reported). */
  readonly handlers: readonly unknown[];
  readonly defaults: HandlerDefaults;
  /** Events the bus knows; handler events are added unless `eventsAreExplicit`. */
  readonly events: EventRegistry;
  /** True when the configuration listed `events`: then a handler for an event not listed is a problem. */
  readonly eventsAreExplicit: boolean;
}

/**
 * Read `@EventHandler` metadata from every handler class and validate it: classes listed twice,
 * classes without handlers, static methods, missing methods, invalid or unregistered events,
 * bad options, the same event handled twice in one group, a command handled in two groups, and
 * handlers sharing a destination and group with conflicting concurrency/ordering. Every problem goes to `problems`; the valid
 * registrations are returned. Pure apart from `problems` and `events`.
 */
export function buildHandlerRegistrations(
  input: BuildHandlerRegistrationsInput,
  problems: ConfigurationProblems,
): HandlerRegistration[] {
  const registrations: HandlerRegistration[] = [];
  const seenClasses = new Set<unknown>();
  const byEventAndGroup = new Map<string, string>();
  for (const [index, candidate] of input.handlers.entries()) {
    if (typeof candidate !== 'function') {
      problems.add(
        ErrorCodes.HANDLER_INVALID,
        `handlers[${String(index)}] is ${candidate === null ? 'null' : typeof candidate}, not a class`,
        'pass handler classes (not instances) in `handlers`',
      );
      continue;
    }
    const ctor = candidate as Constructor;
    if (seenClasses.has(ctor)) {
      problems.add(
        ErrorCodes.HANDLER_DUPLICATE,
        `handler class ${ctor.name} is registered more than once`,
        `list ${ctor.name} once in \`handlers\``,
      );
      continue;
    }
    seenClasses.add(ctor);
    const metadata = readHandlerMetadata(ctor);
    if (metadata.length === 0) {
      problems.add(
        ErrorCodes.HANDLER_INVALID,
        `class ${ctor.name} has no @EventHandler methods`,
        `decorate a method of ${ctor.name} with @EventHandler(event, { group }) or remove it from \`handlers\``,
      );
      continue;
    }
    for (const entry of metadata) {
      const registration = validateEntry(ctor, entry, input, problems);
      if (registration === undefined) continue;
      const key = `${registration.event.name}\u0000${registration.options.group}`;
      const previous = byEventAndGroup.get(key);
      if (previous !== undefined) {
        problems.add(
          ErrorCodes.HANDLER_DUPLICATE,
          `${registration.handlerName} and ${previous} both handle "${registration.event.name}" in group "${registration.options.group}"`,
          'give one of them a different `group`, or merge them into one handler',
        );
        continue;
      }
      byEventAndGroup.set(key, registration.handlerName);
      registrations.push(registration);
    }
  }
  checkSharedSubscriptions(registrations, problems);
  checkCommandGroups(registrations, problems);
  return registrations;
}

/** A command (`defineCommand`) is handled by exactly one consumer group. */
function checkCommandGroups(
  registrations: readonly HandlerRegistration[],
  problems: ConfigurationProblems,
): void {
  const first = new Map<string, HandlerRegistration>();
  for (const registration of registrations) {
    if (registration.event.kind === undefined) continue;
    const other = first.get(registration.event.name);
    if (other === undefined) {
      first.set(registration.event.name, registration);
      continue;
    }
    problems.add(
      ErrorCodes.HANDLER_DUPLICATE,
      `${registration.event.kind} "${registration.event.name}" is handled in two groups: "${other.options.group}" (${other.handlerName}) and "${registration.options.group}" (${registration.handlerName})`,
      `a ${registration.event.kind} has exactly one handling group: keep one handler, or make it an event (defineEvent) if every group should receive it`,
    );
  }
}

function validateEntry(
  ctor: Constructor,
  entry: HandlerMetadata,
  input: BuildHandlerRegistrationsInput,
  problems: ConfigurationProblems,
): HandlerRegistration | undefined {
  const handlerName = `${ctor.name}.${String(entry.methodName)}`;
  let ok = true;
  if (entry.isStatic) {
    problems.add(
      ErrorCodes.HANDLER_INVALID,
      `${handlerName} is static`,
      'put @EventHandler on an instance method',
    );
    ok = false;
  } else if (typeof (ctor.prototype as Record<string | symbol, unknown>)[entry.methodName] !== 'function') {
    problems.add(
      ErrorCodes.HANDLER_INVALID,
      `${handlerName} is not a method`,
      'put @EventHandler on a method',
    );
    ok = false;
  }
  const event = entry.event as EventDefinition<unknown> | undefined;
  if (!isEventDefinition(event)) {
    problems.add(
      ErrorCodes.EVENT_UNKNOWN,
      `${handlerName} was given ${event === undefined ? 'undefined' : 'a value'} instead of an event definition`,
      'pass a value returned by defineEvent() to @EventHandler (undefined usually means a circular import)',
    );
    return undefined;
  }
  if (input.eventsAreExplicit && !input.events.has(event.name)) {
    problems.add(
      ErrorCodes.EVENT_UNKNOWN,
      `${handlerName} handles event "${event.name}", which is not in the configured \`events\``,
      `add ${event.name}'s definition to \`events\` in createEventBus(), or omit \`events\` to derive it from handlers`,
    );
    ok = false;
  } else {
    const conflict = input.events.register(event);
    if (conflict !== undefined) {
      problems.add(
        ErrorCodes.EVENT_UNKNOWN,
        `${handlerName}: ${conflict}`,
        'define each event once with defineEvent() and share that value',
      );
      ok = false;
    }
  }
  const resolved = resolveHandlerOptions(entry.options, input.defaults);
  if (!resolved.ok) {
    for (const problem of resolved.problems) {
      problems.add(ErrorCodes.HANDLER_INVALID, `${handlerName}: ${problem}`, fixFor(problem, handlerName));
    }
    return undefined;
  }
  if (event.kind === 'request' && resolved.options.batch !== undefined) {
    problems.add(
      ErrorCodes.HANDLER_INVALID,
      `${handlerName} handles request "${event.name}" with \`batch\`: a request is answered one at a time`,
      `remove \`batch\` from @EventHandler on ${handlerName}`,
    );
    return undefined;
  }
  if (!ok) return undefined;
  return {
    handlerClass: ctor,
    methodName: entry.methodName,
    handlerName,
    event,
    destination: destinationOf(event),
    options: resolved.options,
    retryCapExplicit:
      entry.options.retry?.maxDelayMs !== undefined || input.defaults.retry?.maxDelayMs !== undefined,
  };
}

function fixFor(problem: string, handlerName: string): string {
  if (problem === 'no consumer group')
    return `set @EventHandler(event, { group: 'my-service' }) on ${handlerName}, or \`defaults.group\` in createEventBus()`;
  if (problem.startsWith('unknown option')) return 'remove or correct the option name';
  return `correct the option in @EventHandler on ${handlerName} (or in \`defaults\`)`;
}

/** True for something that looks like a defineEvent() result with a valid name. */
export function isEventDefinition(value: unknown): value is EventDefinition<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    nameProblem('event name', (value as { name: string }).name) === undefined
  );
}

function checkSharedSubscriptions(
  registrations: readonly HandlerRegistration[],
  problems: ConfigurationProblems,
): void {
  const first = new Map<string, HandlerRegistration>();
  for (const registration of registrations) {
    const key = `${registration.destination}\u0000${registration.options.group}`;
    const other = first.get(key);
    if (other === undefined) {
      first.set(key, registration);
      continue;
    }
    if (
      other.options.concurrency !== registration.options.concurrency ||
      other.options.ordered !== registration.options.ordered
    ) {
      problems.add(
        ErrorCodes.HANDLER_INVALID,
        `${other.handlerName} and ${registration.handlerName} consume destination "${registration.destination}" in group "${registration.options.group}" with different concurrency/ordered settings`,
        'handlers sharing a destination and group share one subscription: give them the same concurrency and ordered, or different groups',
      );
    }
  }
}
