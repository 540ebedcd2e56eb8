// Child-process entry for the contract suite's SIGKILL case (rule 1). Started with
// child_process.fork by the suite; never imported by application code.
//
// Protocol (IPC): the parent sends { module, destination, group }. The child imports `module`
// (which exports createTransport()), connects, subscribes with concurrency 1, and for the first
// delivery sends { type: 'delivered', id, attempt } and then hangs inside the handler, holding
// the message unsettled until the parent kills it with SIGKILL. Failures are reported as
// { type: 'error', message }.
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Transport } from '@omnibus/core';

/** Message the parent sends to start the child consumer. */
export interface ChildConsumerRequest {
  readonly module: string;
  readonly destination: string;
  readonly group: string;
}

/** Messages the child sends back. */
export type ChildConsumerReport =
  | { readonly type: 'subscribed' }
  | { readonly type: 'delivered'; readonly id: string; readonly attempt: number }
  | { readonly type: 'error'; readonly message: string };

function report(message: ChildConsumerReport): void {
  process.send?.(message);
}

async function start(request: ChildConsumerRequest): Promise<void> {
  const specifier = isAbsolute(request.module) ? pathToFileURL(request.module).href : request.module;
  const loaded = (await import(specifier)) as { createTransport?: () => Transport | Promise<Transport> };
  if (typeof loaded.createTransport !== 'function')
    throw new Error(`${request.module} does not export createTransport()`);
  const transport = await loaded.createTransport();
  await transport.connect();
  await transport.subscribe(
    {
      destination: request.destination,
      group: request.group,
      concurrency: 1,
      ordered: false,
      handlerTimeoutMs: 600_000,
    },
    (delivery) => {
      report({ type: 'delivered', id: delivery.envelope.id, attempt: delivery.deliveryAttempt });
      return new Promise<void>(() => undefined);
    },
  );
  report({ type: 'subscribed' });
}

// Keep the process alive until killed, whatever the transport does with its handles.
setInterval(() => undefined, 60_000);
process.once('message', (request: ChildConsumerRequest) => {
  start(request).catch((error: unknown) =>
    report({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    }),
  );
});
