import type { TransportProvider } from '../transport-provider.js';
import { inMemoryOptionSchema } from './in-memory-options.js';
import { InMemoryTransport } from './in-memory-transport.js';

/**
 * Selects the in-memory transport by name (`transport: { name: 'in-memory' }`,
 * `OMNIBUS_TRANSPORT=in-memory`). Each `create` call gets its own private broker; to share one
 * between buses (competing consumers, fan-out in tests), construct
 * `new InMemoryTransport({ broker })` and pass the instance instead.
 */
export const inMemoryTransport: TransportProvider = {
  name: 'in-memory',
  packageName: '@omnibus/core',
  optionSchema: inMemoryOptionSchema,
  create(options: Readonly<Record<string, unknown>>): InMemoryTransport {
    return new InMemoryTransport(options);
  },
};
