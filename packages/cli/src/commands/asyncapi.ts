import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { COMMON_OPTIONS, parse } from '../args.js';
import { prepareApp } from '../app-context.js';
import type { CliIo } from '../cli-io.js';
import { diffAsyncApi } from '../asyncapi/diff-asyncapi.js';
import { generateAsyncApi, type Json } from '../asyncapi/generate-asyncapi.js';

export const ASYNCAPI_USAGE = `omnibus asyncapi [--config <module>] [--title <t>] [--version <v>] [--out <file>] [--check <previous.json>]
  Print (or write) the AsyncAPI 3.0 document of the registered events and handlers.
  --check fails (exit 1) on a breaking change to an existing event: publish it as a new event version instead.`;

/** `omnibus asyncapi`. */
export async function asyncapiCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    ...COMMON_OPTIONS,
    title: { type: 'string' },
    version: { type: 'string' },
    out: { type: 'string', short: 'o' },
    check: { type: 'string' },
  });
  const app = await prepareApp(values.config, io);
  const { transport, events, registrations } = app.prepared;
  await transport.close(0).catch(() => undefined);
  const document = generateAsyncApi(events.all(), registrations, {
    title: values.title ?? 'Omnibus application',
    version: values.version ?? '0.0.0',
    transport: transport.name,
  });
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (values.out !== undefined) writeFileSync(path.resolve(io.cwd, values.out), text);
  else if (values.check === undefined) io.out(text);
  if (values.check === undefined) return 0;
  const previous = JSON.parse(readFileSync(path.resolve(io.cwd, values.check), 'utf8')) as Json;
  const changes = diffAsyncApi(previous, document);
  for (const c of changes) io.out(`${c.breaking ? '✖ breaking' : '✔ compatible'}  ${c.event}: ${c.change}`);
  const breaking = changes.filter((c) => c.breaking).length;
  io.out(
    breaking === 0
      ? `✔ no breaking change against ${values.check} (${String(changes.length)} change(s))`
      : `✖ ${String(breaking)} breaking change(s) against ${values.check}: publish changed payloads under a new event name (e.g. …v2)`,
  );
  return breaking === 0 ? 0 : 1;
}
