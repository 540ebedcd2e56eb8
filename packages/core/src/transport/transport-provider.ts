import type { OptionSchema } from '../config/option-schema.js';
import type { Transport } from './transport.js';

/**
 * How an adapter package makes itself selectable by name. Each adapter exports one provider
 * (e.g. `rabbitmqTransport`); the bus finds it in the providers passed to `createEventBus`,
 * or imports `packageName` on demand, so core never imports an adapter statically.
 */
export interface TransportProvider {
  /** Name used in configuration, e.g. `rabbitmq` (`OMNIBUS_TRANSPORT=rabbitmq`). */
  readonly name: string;
  /** npm package that holds it, named in the error for unknown transports. */
  readonly packageName: string;
  /**
   * The options it accepts. Environment variables map as `OMNIBUS_<NAME>_<OPTION>` in
   * SCREAMING_SNAKE case, e.g. `OMNIBUS_RABBITMQ_PREFETCH` → `prefetch`.
   */
  readonly optionSchema: OptionSchema;
  /** Build a (not yet connected) transport from options already validated against the schema. */
  create(options: Readonly<Record<string, unknown>>): Transport;
}
