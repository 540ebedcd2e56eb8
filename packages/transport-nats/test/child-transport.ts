// Loaded by the contract suite in a child process that it kills with SIGKILL mid-handler.
// Options come from the parent through OMNIBUS_TEST_NATS_OPTIONS (JSON), so the child uses the
// same server and prefix as the parent's transports.
import { NatsTransport } from '../src/index.js';

/** A fresh, unconnected transport configured like the parent test's. */
export function createTransport(): NatsTransport {
  const raw = process.env['OMNIBUS_TEST_NATS_OPTIONS'];
  if (raw === undefined) throw new Error('OMNIBUS_TEST_NATS_OPTIONS is not set');
  return new NatsTransport(JSON.parse(raw) as Record<string, unknown>);
}
