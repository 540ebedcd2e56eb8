/** A transport chosen by name, with its raw (not yet validated) options. */
export interface TransportSelection {
  /** Registry name, e.g. `in-memory`, `rabbitmq`, `kafka`, `sqs`, `azure`. */
  readonly name: string;
  /** Raw options, validated against the provider's option schema at start. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** npm package conventionally holding transport `name`: `@omnibus/transport-<name>`. Pure. */
export function transportPackageName(name: string): string {
  return `@omnibus/transport-${name}`;
}

/** Export name conventionally holding transport `name`'s provider: `in-memory` → `inMemoryTransport`. Pure. */
export function transportExportName(name: string): string {
  return `${name.replace(/[-_]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase())}Transport`;
}

/** Environment-variable prefix of transport `name`'s options: `in-memory` → `OMNIBUS_IN_MEMORY_`. Pure. */
export function transportEnvPrefix(name: string): string {
  return `OMNIBUS_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_`;
}
