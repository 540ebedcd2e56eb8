import { destinationOf, type EventDefinition } from '../events/event-definition.js';
import type { HandlerRegistration } from '../handler/handler-registration.js';
import type { DestinationSpec, GroupSpec, TopologySpec } from '../transport/topology.js';

interface GroupNeeds {
  ordered: boolean;
  /** Distinct header filters of the group's handlers; `undefined` once one handler has none. */
  headerFilters: Map<string, Readonly<Record<string, string>>> | undefined;
}

/**
 * The topology a bus needs: one destination per known event's destination (also those only
 * published), with the groups of the handlers consuming it (`ordered` if any of them is;
 * `headerFilters`, the distinct header filters of its handlers, when every one has a non-empty
 * one). Deterministic order. Pure.
 */
export function buildTopology(
  events: readonly EventDefinition<unknown>[],
  registrations: readonly HandlerRegistration[],
): TopologySpec {
  const destinations = new Map<string, Map<string, GroupNeeds>>();
  for (const event of events) {
    if (!destinations.has(destinationOf(event))) destinations.set(destinationOf(event), new Map());
  }
  for (const registration of registrations) {
    let groups = destinations.get(registration.destination);
    if (groups === undefined) {
      groups = new Map();
      destinations.set(registration.destination, groups);
    }
    const headers = registration.options.filter?.headers;
    const known = groups.get(registration.options.group);
    const needs: GroupNeeds = known ?? { ordered: false, headerFilters: new Map() };
    if (known === undefined) groups.set(registration.options.group, needs);
    needs.ordered ||= registration.options.ordered;
    if (headers === undefined || Object.keys(headers).length === 0) needs.headerFilters = undefined;
    else needs.headerFilters?.set(filterKey(headers), headers);
  }
  const specs: DestinationSpec[] = [...destinations].map(([name, groups]) => ({
    name,
    groups: [...groups].map(([group, { ordered, headerFilters }]): GroupSpec =>
      headerFilters === undefined
        ? { name: group, ordered }
        : { name: group, ordered, headerFilters: [...headerFilters.values()] },
    ),
  }));
  return { destinations: specs };
}

/** One key per distinct header filter, whatever the order of its entries. */
function filterKey(headers: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
