import { EventBus } from './event-bus.js';
import type { EventBusConfig } from './event-bus-config.js';

/**
 * Create a bus from one configuration object. Synchronous and side-effect free: nothing is
 * validated or connected until `bus.start()`, which reports every configuration problem at
 * once. Bind the returned bus in your DI container before starting, so handlers can inject it.
 *
 * @example
 * ```ts
 * const bus = createEventBus({ ...loadConfigFromEnv(process.env), handlers: [Billing], resolver });
 * await bus.start();
 * ```
 */
export function createEventBus(config: EventBusConfig = {}): EventBus {
  return new EventBus(config);
}
