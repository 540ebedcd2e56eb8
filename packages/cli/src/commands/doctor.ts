import type { TopologyItem } from '@omnibus/core';
import { COMMON_OPTIONS, intOption, parse } from '../args.js';
import { connectWithin, prepareApp, problemsOf, type AppContext } from '../app-context.js';
import type { CliIo } from '../cli-io.js';
import { capabilityRows, fanOutProblems, handlerNeeds } from '../describe-app.js';
import { table } from '../table.js';

/** One finding of `omnibus doctor`. */
interface Finding {
  readonly level: 'problem' | 'warning';
  readonly code: string;
  readonly text: string;
  readonly fix?: string;
}

export const DOCTOR_USAGE = `omnibus doctor [--config <file>] [--timeout <ms>] [--json]
  Validate the configuration, connect, compare the broker's topology with the handlers, and
  report capabilities, handler needs and dead letters. Exits 1 on any problem.`;

/** `omnibus doctor`: exit 0 when healthy, 1 on any problem. */
export async function doctorCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { ...COMMON_OPTIONS, timeout: { type: 'string' } });
  const timeoutMs = intOption(values.timeout, 'timeout') ?? 10_000;
  const findings: Finding[] = [];
  let app: AppContext | undefined;
  try {
    app = await prepareApp(values.config, io);
  } catch (error) {
    for (const p of problemsOf(error)) findings.push(problemFinding(p));
    return report(io, values.json === true, findings, undefined, [], []);
  }
  const { transport, registrations } = app.prepared;
  for (const text of fanOutProblems(transport.name, transport.capabilities, registrations))
    findings.push({
      level: 'problem',
      code: 'CAPABILITY_MISSING',
      text,
      fix: 'use a transport with fan-out (or one group per destination)',
    });
  let topology: TopologyItem[] = [];
  const deadLetters: { destination: string; group: string; count: number }[] = [];
  try {
    await connectWithin(transport, timeoutMs);
    if (transport.inspectTopology === undefined) {
      findings.push({
        level: 'warning',
        code: 'TOPOLOGY_NOT_INSPECTED',
        text: `transport "${transport.name}" cannot inspect its topology; not checked`,
      });
    } else {
      topology = [...(await transport.inspectTopology(app.topology)).items];
      for (const item of topology.filter((i) => i.state === 'missing'))
        findings.push({
          level: 'problem',
          code: 'TOPOLOGY_MISSING',
          text: `${item.kind} ${item.nativeName} is missing`,
          fix: 'run `omnibus topology apply` (or start the bus once with provisioning "create")',
        });
    }
    const store = transport.deadLetters;
    if (store !== undefined) {
      for (const destination of app.topology.destinations)
        for (const group of destination.groups) {
          const present = topology.find(
            (i) => i.kind === 'dead-letter' && i.destination === destination.name && i.group === group.name,
          );
          if (present?.state === 'missing') continue;
          const count = (await store.list({ destination: destination.name, group: group.name })).length;
          deadLetters.push({ destination: destination.name, group: group.name, count });
          if (count > 0)
            findings.push({
              level: 'warning',
              code: 'DEAD_LETTERS',
              text: `${String(count)} dead letter(s) in ${destination.name}/${group.name}`,
              fix: `omnibus dlq list --destination ${destination.name} --group ${group.name}`,
            });
        }
    }
  } catch (error) {
    for (const p of problemsOf(error)) findings.push(problemFinding(p));
  } finally {
    await transport.close(0).catch(() => undefined);
  }
  return report(io, values.json === true, findings, app, topology, deadLetters);
}

function report(
  io: CliIo,
  json: boolean,
  findings: readonly Finding[],
  app: AppContext | undefined,
  topology: readonly TopologyItem[],
  deadLetters: readonly { destination: string; group: string; count: number }[],
): number {
  const ok = !findings.some((f) => f.level === 'problem');
  const transport = app?.prepared.transport;
  const needs = app === undefined ? [] : handlerNeeds(app.prepared.registrations);
  if (json) {
    io.out(
      JSON.stringify(
        {
          ok,
          source: app?.loaded.source,
          transport: transport?.name,
          capabilities: transport?.capabilities,
          handlers: needs,
          topology,
          deadLetters,
          findings,
        },
        null,
        2,
      ),
    );
    return ok ? 0 : 1;
  }
  if (app !== undefined && transport !== undefined) {
    io.out(`Configuration: ${app.loaded.source}`);
    io.out(`Transport: ${transport.name}\n`);
    io.out(`Capabilities\n${table(['capability', 'value'], capabilityRows(transport.capabilities))}\n`);
    io.out(
      `Handlers\n${table(
        ['handler', 'event', 'group', 'ordered', 'concurrency', 'attempts', 'max retry delay'],
        needs.map((n) => [
          n.handler,
          n.event,
          n.group,
          n.ordered ? 'yes' : 'no',
          n.concurrency,
          n.maxAttempts,
          `${String(n.retryMaxDelayMs)} ms`,
        ]),
      )}\n`,
    );
    if (topology.length > 0)
      io.out(
        `Topology\n${table(
          ['kind', 'name', 'state'],
          topology.map((i) => [i.kind, i.nativeName, i.state]),
        )}\n`,
      );
    if (deadLetters.length > 0)
      io.out(
        `Dead letters\n${table(
          ['destination', 'group', 'count'],
          deadLetters.map((d) => [d.destination, d.group, d.count]),
        )}\n`,
      );
  }
  for (const f of findings)
    io.out(
      `${f.level === 'problem' ? '✖' : '!'} [${f.code}] ${f.text}${f.fix === undefined ? '' : `\n    fix: ${f.fix}`}`,
    );
  const problems = findings.filter((f) => f.level === 'problem').length;
  const warnings = findings.length - problems;
  io.out(
    ok
      ? `✔ healthy (${String(warnings)} warning(s))`
      : `✖ ${String(problems)} problem(s), ${String(warnings)} warning(s)`,
  );
  return ok ? 0 : 1;
}

function problemFinding(p: { code: string; problem: string; fix?: string }): Finding {
  return { level: 'problem', code: p.code, text: p.problem, ...(p.fix === undefined ? {} : { fix: p.fix }) };
}
