import type { TopologyInspection } from '@omnibus/core';
import { COMMON_OPTIONS, UsageError, intOption, parse } from '../args.js';
import { connectWithin, prepareApp } from '../app-context.js';
import type { CliIo } from '../cli-io.js';
import { table } from '../table.js';

export const TOPOLOGY_USAGE = `omnibus topology plan|apply [--config <file>] [--json]
  plan:  what the handlers and events need on the broker, and what is missing (creates nothing)
  apply: create what is missing (the transport's provision), then show the result`;

/** `omnibus topology plan|apply`. */
export async function topologyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'plan' && action !== 'apply')
    throw new UsageError(`topology needs an action: plan or apply\n${TOPOLOGY_USAGE}`);
  const { values } = parse(rest, { ...COMMON_OPTIONS, timeout: { type: 'string' } });
  const app = await prepareApp(values.config, io);
  const transport = app.prepared.transport;
  try {
    await connectWithin(transport, intOption(values.timeout, 'timeout') ?? 10_000);
    if (action === 'apply') await transport.provision(app.topology);
    if (transport.inspectTopology === undefined) {
      const planned = app.topology.destinations.flatMap((d) => [
        [d.name, '', 'destination'],
        ...d.groups.map((g) => [d.name, g.name, g.ordered ? 'group (ordered)' : 'group']),
      ]);
      if (values.json === true)
        io.out(
          JSON.stringify(
            {
              transport: transport.name,
              inspected: false,
              applied: action === 'apply',
              topology: app.topology,
            },
            null,
            2,
          ),
        );
      else {
        io.out(table(['destination', 'group', 'kind'], planned));
        io.out(
          `transport "${transport.name}" cannot inspect its topology: ${action === 'apply' ? 'provisioned' : 'shown what the bus needs; not compared with the broker'}`,
        );
      }
      return 0;
    }
    const inspection = await transport.inspectTopology(app.topology);
    return show(io, values.json === true, transport.name, action, inspection);
  } finally {
    await transport.close(0).catch(() => undefined);
  }
}

function show(
  io: CliIo,
  json: boolean,
  transport: string,
  action: 'plan' | 'apply',
  inspection: TopologyInspection,
): number {
  const missing = inspection.items.filter((i) => i.state === 'missing');
  if (json) {
    io.out(
      JSON.stringify(
        { transport, inspected: true, applied: action === 'apply', items: inspection.items },
        null,
        2,
      ),
    );
    return action === 'apply' && missing.length > 0 ? 1 : 0;
  }
  io.out(
    table(
      ['kind', 'destination', 'group', 'name', action === 'plan' ? 'plan' : 'state'],
      inspection.items.map((i) => [
        i.kind,
        i.destination,
        i.group ?? '',
        i.nativeName,
        i.state === 'present' ? 'exists' : action === 'plan' ? 'create' : 'MISSING',
      ]),
    ),
  );
  if (action === 'plan')
    io.out(
      `${String(missing.length)} to create, ${String(inspection.items.length - missing.length)} in place`,
    );
  else
    io.out(
      missing.length === 0
        ? `✔ all ${String(inspection.items.length)} in place`
        : `✖ ${String(missing.length)} still missing after apply`,
    );
  return action === 'apply' && missing.length > 0 ? 1 : 0;
}
