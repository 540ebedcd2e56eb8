import { destinationOf, type EventDefinition } from '../events/event-definition.js';
import type { HandlerRegistration } from '../handler/handler-registration.js';
import type { DestinationSpec, GroupSpec, TopologySpec } from '../transport/topology.js';

/**
 * The topology a bus needs: one destination per known event's destination (also those only
 * published), with the groups of the handlers consuming it (`ordered` if any of them is).
 * Deterministic order. Pure.
 */
export function buildTopology(
  events: readonly EventDefinition<unknown>[],
  registrations: readonly HandlerRegistration[],
): TopologySpec {
  const destinations = new Map<string, Map<string, boolean>>();
  for (const event of events) {
    if (!destinations.has(destinationOf(event))) destinations.set(destinationOf(event), new Map());
  }
  for (const registration of registrations) {
    let groups = destinations.get(registration.destination);
    if (groups === undefined) {
      groups = new Map();
      destinations.set(registration.destination, groups);
    }
    groups.set(
      registration.options.group,
      (groups.get(registration.options.group) ?? false) || registration.options.ordered,
    );
  }
  const specs: DestinationSpec[] = [...destinations].map(([name, groups]) => ({
    name,
    groups: [...groups].map(([group, ordered]): GroupSpec => ({ name: group, ordered })),
  }));
  return { destinations: specs };
}
