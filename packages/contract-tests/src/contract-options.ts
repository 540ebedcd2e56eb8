import type { DeadLetterInfo, MessageEnvelope, Transport, TransportCapabilities } from '@omnibus/core';
import type { TelemetryHarness } from './telemetry/telemetry-harness.js';

/** Header values a foreign producer may send. */
export type ForeignHeaders = Record<string, string | number | boolean>;

/** A message read out of band from a dead-letter destination by the adapter's native client. */
export interface DeadLetteredMessage {
  /** The original envelope (payload and headers as published). */
  readonly envelope: MessageEnvelope;
  /** Reason, attempts, original destination and group, as the adapter recorded them. */
  readonly info: DeadLetterInfo;
}

/**
 * What an adapter author provides to run the contract suite. Everything touching the broker
 * out of band uses the broker's native client, never the adapter under test.
 */
export interface TransportContractOptions {
  /** Shown in test titles and the conformance report, e.g. `rabbitmq (quorum queues)`. */
  readonly name: string;
  /** Adapter package version, for the conformance report. */
  readonly version?: string;
  /**
   * The capabilities this configuration claims (normally `transport.capabilities` of one
   * instance). When given, excluded cases are registered as pending with the capability in the
   * title, and a case checks that every created transport reports exactly these. When omitted,
   * gating happens at run time from a probe instance.
   */
  readonly capabilities?: TransportCapabilities;
  /** A fresh, unconnected transport. Called several times per test (publisher, consumers). */
  createTransport(): Transport | Promise<Transport>;
  /**
   * Read (and remove) dead-lettered messages of one (destination, group), waiting up to
   * `timeoutMs` for at least `count` of them.
   */
  readDeadLetters(
    destination: string,
    group: string,
    count: number,
    timeoutMs: number,
  ): Promise<DeadLetteredMessage[]>;
  /**
   * Publish a foreign message (raw bytes, optional raw headers, no Omnibus envelope) to a
   * provisioned destination with the native client. Number and boolean header values are sent
   * with the broker's own typed header/attribute/property types where it has them (as text
   * where it has none, e.g. Kafka's byte headers).
   */
  publishForeign(destination: string, body: Uint8Array, headers?: Readonly<ForeignHeaders>): Promise<void>;
  /**
   * What a message body can hold on this broker: arbitrary `bytes` (default), or `text` only
   * (SQS and SNS bodies are strings of XML characters: no client can send NUL or invalid
   * UTF-8). With `text`, foreign-message cases publish a body that is valid text but no
   * Omnibus envelope instead of raw binary.
   */
  readonly foreignBodies?: 'bytes' | 'text';
  /**
   * The publish timeout the transports from {@link createTransport} are configured with (ms): how
   * long a publish waits and re-sends while the broker is away before it rejects. Enables case R1
   * (a publish during a broker restart rejects only after this bound, with a retriable error).
   */
  readonly publishTimeoutMs?: number;
  /** Optional fault injection. Cases needing an absent hook are skipped with its name. */
  readonly faults?: ContractFaults;
  /** Scale for every wait in the suite (slow brokers, CI). Default 1. */
  readonly timeScale?: number;
  /**
   * Run the slow fault-injection cases (broker restart, SIGKILL consumer, dropped connections).
   * Run them once per transport, not once per configuration. Default true.
   */
  readonly runFaultCases?: boolean;
  /**
   * Telemetry parity (case T1): a harness around the OpenTelemetry SDK's in-memory exporters,
   * e.g. `openTelemetryHarness()` from `@omnibus/contract-tests/telemetry`. Without it T1 is
   * skipped with that reason.
   */
  readonly telemetry?: TelemetryHarness;
  /**
   * Size of the volume case V1 on this transport (default 10,000 messages). A slow broker or
   * emulator may run a smaller size in CI; `OMNIBUS_VOLUME_MESSAGES` overrides it for a local
   * full-size run. The report notes the size run. `0` turns V1 off for this configuration
   * (visibly skipped): it runs once per transport, in the configuration with the most groups.
   */
  /**
   * Cases this configuration is known to fail, by case id, each with the finding or limit that
   * explains it (e.g. `{ C9: 'a settlement after close resolves' }`). They are registered as
   * skipped with `declared limit: <reason>` in the title and the report: visible, never passed.
   * `OMNIBUS_CONTRACT_IGNORE_LIMITS=1` runs them anyway (to check a fix).
   */
  readonly limits?: Readonly<Record<string, string>>;
  readonly volume?: {
    readonly messages?: number;
    /**
     * Why V1 is off for this configuration (a known finding or limit): reported as its skip
     * reason. Setting `OMNIBUS_VOLUME_MESSAGES` runs it anyway.
     */
    readonly off?: string;
  };
}

/** Fault hooks an adapter author may provide. */
export interface ContractFaults {
  /** Stop and start the broker keeping its data; resolves when it accepts clients again. */
  restartBroker?(): Promise<void>;
  /** Forcibly drop every client connection (broker-side), leaving the broker up. */
  dropConnections?(): Promise<void>;
  /**
   * Absolute path (or file URL) of an ES module exporting `createTransport(): Transport |
   * Promise<Transport>`, loaded by a child process the suite kills with SIGKILL mid-handler.
   */
  readonly childTransportModule?: string;
}
