// Loaded by the contract suite in a child process that it kills with SIGKILL mid-handler.
// Options come from the parent through OMNIBUS_TEST_RABBITMQ_OPTIONS (JSON), so the child uses
// the same prefix, queue type and delay tiers as the parent's transports.
import { RabbitMqTransport } from '../src/index.js';

/** A fresh, unconnected transport configured like the parent test's. */
export function createTransport(): RabbitMqTransport {
  const raw = process.env['OMNIBUS_TEST_RABBITMQ_OPTIONS'];
  if (raw === undefined) throw new Error('OMNIBUS_TEST_RABBITMQ_OPTIONS is not set');
  return new RabbitMqTransport(JSON.parse(raw) as Record<string, unknown>);
}
