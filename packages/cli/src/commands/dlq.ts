import type { DeadLetterQuery, DeadLetterRecord, DeadLetterStore, Transport } from '@omnibus/core';
import { COMMON_OPTIONS, UsageError, dateOption, intOption, parse, required } from '../args.js';
import { connectWithin, prepareApp } from '../app-context.js';
import type { CliIo } from '../cli-io.js';
import { progressBar } from '../progress.js';
import { table } from '../table.js';

export const DLQ_USAGE = `omnibus dlq list|show|replay|purge --destination <d> --group <g> [filters] [--config <file>] [--json]
  filters: --code <c> --type <t> --id <id> (each repeatable), --since <time> --until <time> --limit <n>
  replay:  sends matches back to the group that dead-lettered them (id and headers kept, marked
           with x-omnibus-replay-count); a message already replayed once is skipped unless --include-replayed
  replay and purge ask for confirmation unless --yes; --dry-run shows what would happen.`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  destination: { type: 'string', short: 'd' },
  group: { type: 'string', short: 'g' },
  code: { type: 'string', multiple: true },
  type: { type: 'string', multiple: true },
  id: { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  'include-replayed': { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

function queryOf(values: Values): DeadLetterQuery {
  const query: { -readonly [K in keyof DeadLetterQuery]: DeadLetterQuery[K] } = {
    destination: required(values.destination, 'destination'),
    group: required(values.group, 'group'),
  };
  if (values.code !== undefined) query.codes = values.code;
  if (values.type !== undefined) query.types = values.type;
  if (values.id !== undefined) query.ids = values.id;
  const since = dateOption(values.since, 'since');
  const until = dateOption(values.until, 'until');
  const limit = intOption(values.limit, 'limit');
  if (since !== undefined) query.since = since;
  if (until !== undefined) query.until = until;
  if (limit !== undefined) query.limit = limit;
  return query;
}

/** `omnibus dlq <action>`. */
export async function dlqCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || !['list', 'show', 'replay', 'purge'].includes(action))
    throw new UsageError(`dlq needs an action: list, show, replay or purge\n${DLQ_USAGE}`);
  const { values } = parse(rest, OPTIONS);
  const query = queryOf(values);
  if (action === 'show' && query.ids === undefined) throw new UsageError('dlq show needs --id');
  const app = await prepareApp(values.config, io);
  const transport = app.prepared.transport;
  try {
    const store = await openStore(transport, intOption(values.timeout, 'timeout') ?? 10_000);
    switch (action) {
      case 'list':
      case 'show':
        return print(io, values, await store.list(query), action === 'show');
      case 'replay':
        return await replay(io, values, store, query);
      default:
        return await purge(io, values, store, query);
    }
  } finally {
    await transport.close(0).catch(() => undefined);
  }
}

async function openStore(transport: Transport, timeoutMs: number): Promise<DeadLetterStore> {
  const store = transport.deadLetters;
  if (store === undefined)
    throw new UsageError(
      `transport "${transport.name}" (with these options) has no dead-letter store (capability deadLetterStore); see docs/guides/cli.md`,
    );
  await connectWithin(transport, timeoutMs);
  return store;
}

function summary(record: DeadLetterRecord): (string | number)[] {
  return [
    record.envelope.id,
    record.envelope.type,
    record.info.code,
    record.info.attempts,
    record.info.at.toISOString(),
    record.replayCount,
    truncate(record.info.message, 60),
  ];
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function toJson(record: DeadLetterRecord): Record<string, unknown> {
  const { envelope, info } = record;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(envelope.payload);
  return {
    id: envelope.id,
    type: envelope.type,
    contentType: envelope.contentType,
    occurredAt: envelope.occurredAt.toISOString(),
    ...(envelope.correlationId === undefined ? {} : { correlationId: envelope.correlationId }),
    ...(envelope.partitionKey === undefined ? {} : { partitionKey: envelope.partitionKey }),
    headers: envelope.headers,
    reason: { code: info.code, message: info.message, attempts: info.attempts, at: info.at.toISOString() },
    origin: { destination: info.destination, group: info.group },
    replayCount: record.replayCount,
    payload: /json|text/.test(envelope.contentType) ? text : Buffer.from(envelope.payload).toString('base64'),
  };
}

function print(io: CliIo, values: Values, records: readonly DeadLetterRecord[], detailed: boolean): number {
  if (values.json === true || detailed) {
    io.out(JSON.stringify(records.map(toJson), null, 2));
    return 0;
  }
  io.out(
    table(['id', 'type', 'code', 'attempts', 'dead-lettered at', 'replays', 'reason'], records.map(summary)),
  );
  io.out(`${String(records.length)} dead letter(s)`);
  return 0;
}

async function replay(
  io: CliIo,
  values: Values,
  store: DeadLetterStore,
  query: DeadLetterQuery,
): Promise<number> {
  const options = { includeReplayed: values['include-replayed'] === true };
  const plan = await store.replay(query, { ...options, dryRun: true });
  const where = `${query.destination}/${query.group}`;
  if (values['dry-run'] === true || plan.replayed.length === 0)
    return replayReport(io, values, plan, true, where);
  if (
    values.yes !== true &&
    !(await io.confirm(`Replay ${String(plan.replayed.length)} dead letter(s) of ${where}?`))
  ) {
    io.err('aborted: nothing replayed (pass --yes to skip the question)');
    return 1;
  }
  const bar = progressBar(io, plan.replayed.length, 'replayed');
  const result = await store.replay(query, { ...options, onProgress: (done) => bar.update(done) });
  bar.done();
  return replayReport(io, values, result, false, where);
}

function replayReport(
  io: CliIo,
  values: Values,
  result: Awaited<ReturnType<DeadLetterStore['replay']>>,
  dryRun: boolean,
  where: string,
): number {
  if (values.json === true) {
    io.out(
      JSON.stringify(
        {
          dryRun,
          replayed: result.replayed.map((r) => r.envelope.id),
          skipped: result.skipped.map((s) => ({ id: s.record.envelope.id, reason: s.reason })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const verb = dryRun ? 'would replay' : 'replayed';
  io.out(
    `${verb} ${String(result.replayed.length)} dead letter(s) of ${where}${result.replayed.length > 0 ? ': ' : ''}${result.replayed.map((r) => r.envelope.id).join(', ')}`,
  );
  for (const s of result.skipped)
    io.out(
      `skipped ${s.record.envelope.id} (${s.reason}: already replayed ${String(s.record.replayCount)} time(s); --include-replayed replays it again)`,
    );
  return 0;
}

async function purge(
  io: CliIo,
  values: Values,
  store: DeadLetterStore,
  query: DeadLetterQuery,
): Promise<number> {
  const plan = await store.purge(query, { dryRun: true });
  const where = `${query.destination}/${query.group}`;
  const ids = (records: readonly DeadLetterRecord[]): string => records.map((r) => r.envelope.id).join(', ');
  if (values['dry-run'] === true || plan.purged.length === 0) {
    io.out(
      values.json === true
        ? JSON.stringify({ dryRun: true, purged: plan.purged.map((r) => r.envelope.id) }, null, 2)
        : `would purge ${String(plan.purged.length)} dead letter(s) of ${where}${plan.purged.length > 0 ? `: ${ids(plan.purged)}` : ''}`,
    );
    return 0;
  }
  if (
    values.yes !== true &&
    !(await io.confirm(`Delete ${String(plan.purged.length)} dead letter(s) of ${where} for good?`))
  ) {
    io.err('aborted: nothing purged (pass --yes to skip the question)');
    return 1;
  }
  const result = await store.purge(query);
  io.out(
    values.json === true
      ? JSON.stringify({ dryRun: false, purged: result.purged.map((r) => r.envelope.id) }, null, 2)
      : `purged ${String(result.purged.length)} dead letter(s) of ${where}: ${ids(result.purged)}`,
  );
  return 0;
}
