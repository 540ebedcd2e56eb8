import { AdminHttp } from './admin-http.js';
import { AmqpServer } from './amqp-server.js';
import {
  EMPTY_CONFIG,
  loadConfigFile,
  resolveConfig,
  type EmulatorConfig,
  type ResolvedConfig,
} from './config.js';
import { EntityStore } from './entity-store.js';
import { ManagementHandler } from './management-handler.js';
import { readSnapshot, SnapshotWriter } from './snapshot-file.js';

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** AMQP and admin bind address. Default `127.0.0.1`; non-loopback needs `allowRemote`. */
  readonly host?: string;
  /** AMQP port; 0 picks a free one. Default 5673. */
  readonly port?: number;
  /** Admin HTTP port; 0 picks a free one. Default 5674. The admin API always binds to loopback. */
  readonly adminPort?: number;
  /** Entities: a JSON config file path or an already parsed config object. */
  readonly config?: string | EmulatorConfig;
  /** State snapshot file: loaded at start, written on stop and periodically when changed. */
  readonly statePath?: string;
  /** Period of snapshot writes while the store changes. Default 1000 ms. */
  readonly snapshotIntervalMs?: number;
  /** Largest message (or batch) a sender may send. Default 256 KiB (Service Bus Standard tier). */
  readonly maxMessageSizeBytes?: number;
  /** Allow binding AMQP to a non-loopback address. */
  readonly allowRemote?: boolean;
  /** Receives one line per event; default: nothing is logged. */
  readonly log?: (line: string) => void;
}

/** A running emulator. */
export interface RunningEmulator {
  readonly host: string;
  readonly amqpPort: number;
  readonly adminPort: number;
  /** `Endpoint=sb://host:port;...;UseDevelopmentEmulator=true;` for `ServiceBusClient`. */
  readonly connectionString: string;
  /** `http://127.0.0.1:<adminPort>`. */
  readonly adminUrl: string;
  /**
   * Cuts every client AMQP connection abruptly (fault injection; also `POST /connections/drop`).
   * The emulator keeps running and keeps its messages; see `AmqpServer.dropConnections`.
   * Returns how many connections were cut.
   */
  dropConnections(): number;
  /** Writes a snapshot now (no-op without `statePath`). */
  snapshot(): boolean;
  /** Stops listening, writes the final snapshot, clears every timer. Idempotent. */
  stop(): Promise<void>;
}

/** Whether an address is loopback. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Connection string for the SDK (`UseDevelopmentEmulator=true` selects plain TCP, no TLS). */
export function emulatorConnectionString(host: string, port: number): string {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `Endpoint=sb://${hostPart}:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`;
}

async function resolveEntities(config: string | EmulatorConfig | undefined): Promise<ResolvedConfig> {
  if (config === undefined) return resolveConfig(EMPTY_CONFIG);
  if (typeof config === 'string') return loadConfigFile(config);
  return resolveConfig(config);
}

/**
 * Starts an in-memory Azure Service Bus emulator: AMQP 1.0 for `@azure/service-bus` plus the
 * admin HTTP API. Entities come from the config, then from the state snapshot (if any), then from
 * admin requests at runtime.
 *
 * Fails (rejects) on an invalid config or snapshot, a non-loopback host without `allowRemote`, or
 * a port in use; nothing is left listening then.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && options.allowRemote !== true) {
    throw new Error(`refusing to listen on non-loopback host '${host}' (use allowRemote / --allow-remote)`);
  }
  const log = options.log ?? ((): void => undefined);
  const config = await resolveEntities(options.config);
  let writer: SnapshotWriter | undefined;
  const entities = new EntityStore({ changed: () => writer?.markDirty(), log });
  entities.applyConfig(config);
  if (options.statePath) {
    const snapshot = readSnapshot(options.statePath);
    if (snapshot) {
      entities.restore(snapshot);
      log(`state loaded from ${options.statePath} (saved ${snapshot.savedAt})`);
    }
    writer = new SnapshotWriter(
      options.statePath,
      () => entities.snapshot(),
      options.snapshotIntervalMs ?? 1000,
      log,
    );
  }
  const management = new ManagementHandler(entities, log, () => writer?.markDirty());
  const amqp = new AmqpServer({
    host,
    port: options.port ?? 5673,
    maxMessageSize: options.maxMessageSizeBytes ?? 256 * 1024,
    entities,
    management,
    log,
  });
  const adminHost = isLoopbackHost(host) ? host : '127.0.0.1';
  let amqpPort = 0;
  const admin = new AdminHttp({
    host: adminHost,
    port: options.adminPort ?? 5674,
    entities,
    health: () => ({ amqpPort, ...entities.list() }),
    dropConnections: () => amqp.dropConnections(),
    log,
  });
  try {
    amqpPort = await amqp.listen();
  } catch (error) {
    entities.close();
    throw error;
  }
  let adminPort: number;
  try {
    adminPort = await admin.listen();
  } catch (error) {
    await amqp.close();
    entities.close();
    throw error;
  }
  writer?.start();
  const sweeper = setInterval(() => entities.sweep(), 1000);
  sweeper.unref();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(sweeper);
      writer?.stop();
      await Promise.all([amqp.close(), admin.close()]);
      if (writer && writer.writeNow()) log(`state written to ${options.statePath ?? ''}`);
      entities.close();
    })();
    return stopping;
  };
  return {
    host,
    amqpPort,
    adminPort,
    connectionString: emulatorConnectionString(host, amqpPort),
    adminUrl: `http://${adminHost.includes(':') ? `[${adminHost}]` : adminHost}:${adminPort}`,
    dropConnections: () => amqp.dropConnections(),
    snapshot: () => writer?.writeNow() ?? false,
    stop,
  };
}
