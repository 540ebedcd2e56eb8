// Helpers shared by the NATS integration tests: a native client (never the adapter under test)
// for out-of-band reads and writes, fault injection through the broker manager, and cleanup.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { envelopeFromWire, readDeadLetterInfo } from '@omnibus/core';
import type { DeadLetterInfo, MessageEnvelope } from '@omnibus/core';
import { fromNatsHeaders } from '../src/nats-message-mapper.js';
import { NatsNames } from '../src/index.js';

export const NATS_URL = process.env['OMNIBUS_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const brokersModule = path.join(repoRoot, 'scripts/brokers/index.mjs');

interface BrokerManager {
  up(name: string): Promise<unknown>;
  restart(name: string): Promise<unknown>;
  brokers: { nats: { dropConnections(): Promise<number> } };
}

async function manager(): Promise<BrokerManager> {
  return (await import(brokersModule)) as BrokerManager;
}

/** A prefix unique to this test run. */
export function uniquePrefix(label: string): string {
  return `ot-${label}-${randomUUID().slice(0, 8)}`;
}

/** Start nats-server through the shared broker manager (idempotent). */
export async function ensureNats(): Promise<void> {
  await (await manager()).up('nats');
}

/** Stop and start the server keeping its JetStream data; resolves when it is healthy again. */
export async function restartNats(): Promise<void> {
  await (await manager()).restart('nats');
}

/** Destroy every client connection server-side (the server keeps running). */
export async function dropNatsConnections(): Promise<void> {
  await (await manager()).brokers.nats.dropConnections();
}

/** Sleep for polling loops (never as an assertion). */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A native NATS connection, lazily opened (reconnecting by itself across faults), used for
 * everything the tests do out of band.
 */
export class NativeClient {
  #nc: Promise<NatsConnection> | undefined;
  readonly names: NatsNames;

  constructor(prefix: string, partitions = 8) {
    this.names = new NatsNames(prefix, partitions);
  }

  connection(): Promise<NatsConnection> {
    this.#nc ??= connect({ servers: NATS_URL, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    return this.#nc;
  }

  async manager(): Promise<JetStreamManager> {
    return jetstreamManager(await this.connection());
  }

  /** Read and delete up to `count` dead letters of a group, waiting up to `timeoutMs`. */
  async readDeadLetters(
    destination: string,
    group: string,
    count: number,
    timeoutMs: number,
  ): Promise<{ envelope: MessageEnvelope; info: DeadLetterInfo }[]> {
    const jsm = await this.manager();
    const stream = this.names.deadLetterStream();
    const subject = this.names.deadLetterSubject(destination, group);
    const out: { envelope: MessageEnvelope; info: DeadLetterInfo }[] = [];
    const deadline = Date.now() + timeoutMs;
    let seq = 1;
    while (out.length < count) {
      // STREAM.MSG.GET accepts next_by_subj (server 2.9+); the client's type only lists seq/last_by_subj.
      const query = { next_by_subj: subject, seq } as unknown as MsgRequest;
      const stored = await jsm.streams.getMessage(stream, query).catch(() => null);
      if (stored === null) {
        if (Date.now() >= deadline) break;
        await pause(50);
        continue;
      }
      seq = stored.seq + 1;
      await jsm.streams.deleteMessage(stream, stored.seq);
      const wire = fromNatsHeaders(stored.header);
      const info = readDeadLetterInfo(wire);
      if (info !== undefined)
        out.push({ envelope: envelopeFromWire({ headers: wire, payload: stored.data }), info });
    }
    return out;
  }

  /** Publish raw bytes (no Omnibus envelope) to a destination, confirmed by the PubAck. */
  async publishForeign(
    destination: string,
    body: Uint8Array,
    headers?: Readonly<Record<string, string | number | boolean>>,
  ): Promise<void> {
    const js = jetstream(await this.connection());
    const h = natsHeaders();
    for (const [name, value] of Object.entries(headers ?? {})) h.set(name, String(value));
    await js.publish(this.names.partitionSubject(destination, 0), body, { headers: h });
  }

  /** Delete every stream of this prefix (destinations and dead letters), then disconnect. */
  async cleanup(): Promise<void> {
    const nc = await this.connection();
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names())
      if (name.startsWith(`${this.names.prefix}_`)) names.push(name);
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
    this.#nc = undefined;
  }
}
