import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import {
  InMemoryTransport,
  type Delivery,
  type InMemoryBroker,
  type MessageEnvelope,
  type SubscriptionSpec,
} from '@omnibus/core';

/** Environment variable carrying the bridge's port to child processes. */
export const BRIDGE_PORT_ENV = 'OMNIBUS_IN_MEMORY_BRIDGE_PORT';

/** An envelope as JSON (payload base64, time ISO). */
export interface WireEnvelope {
  readonly id: string;
  readonly type: string;
  readonly payload: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly occurredAt: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly partitionKey?: string;
}

/** Requests a bridge client sends (one JSON object per line). */
export type BridgeRequest =
  | { readonly op: 'subscribe'; readonly ref: number; readonly spec: SubscriptionSpec }
  | {
      readonly op: 'settle';
      readonly token: number;
      readonly kind: 'ack' | 'retry' | 'deadLetter';
      readonly delayMs?: number;
      readonly reason?: { code: string; message: string; attempts: number };
    };

/** Messages the bridge sends back. */
export type BridgeEvent =
  | { readonly op: 'subscribed'; readonly ref: number; readonly error?: string }
  | {
      readonly op: 'delivery';
      readonly token: number;
      readonly envelope: WireEnvelope;
      readonly attempt: number;
      readonly destination: string;
      readonly group: string;
    }
  | { readonly op: 'settled'; readonly token: number; readonly error?: string };

export function toWire(envelope: MessageEnvelope): WireEnvelope {
  return {
    id: envelope.id,
    type: envelope.type,
    payload: Buffer.from(envelope.payload).toString('base64'),
    contentType: envelope.contentType,
    headers: envelope.headers,
    occurredAt: envelope.occurredAt.toISOString(),
    ...(envelope.correlationId === undefined ? {} : { correlationId: envelope.correlationId }),
    ...(envelope.causationId === undefined ? {} : { causationId: envelope.causationId }),
    ...(envelope.partitionKey === undefined ? {} : { partitionKey: envelope.partitionKey }),
  };
}

export function fromWire(wire: WireEnvelope): MessageEnvelope {
  return {
    ...wire,
    payload: new Uint8Array(Buffer.from(wire.payload, 'base64')),
    occurredAt: new Date(wire.occurredAt),
  };
}

/**
 * Test-only bridge that lets a child process consume from an in-process {@link InMemoryBroker}
 * over a loopback socket, so the SIGKILL case (C8) can run against the in-memory transport.
 * Each socket gets its own server-side InMemoryTransport; when the socket closes (the child was
 * killed), that transport closes without draining, so unsettled messages are redelivered as
 * the next attempt, just as a real broker does when a consumer's connection dies.
 */
export class InMemoryBridge {
  readonly #broker: InMemoryBroker;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(broker: InMemoryBroker) {
    this.#broker = broker;
    this.#server = createServer((socket) => this.#serve(socket));
  }

  /** Listen on a random loopback port; resolves with it. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        const address = this.#server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  }

  /** Stop listening and drop every client. */
  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    const transport = new InMemoryTransport({ broker: this.#broker });
    const connected = transport.connect();
    const pending = new Map<number, { delivery: Delivery; done: () => void }>();
    let next = 0;
    const send = (event: BridgeEvent): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(event)}\n`);
    };
    const lines = createInterface({ input: socket });
    lines.on('line', (line) => {
      const request = JSON.parse(line) as BridgeRequest;
      if (request.op === 'subscribe') {
        connected
          .then(() =>
            transport.subscribe(request.spec, (delivery) => {
              next += 1;
              const token = next;
              send({
                op: 'delivery',
                token,
                envelope: toWire(delivery.envelope),
                attempt: delivery.deliveryAttempt,
                destination: delivery.destination,
                group: delivery.group,
              });
              return new Promise<void>((done) => pending.set(token, { delivery, done }));
            }),
          )
          .then(
            () => send({ op: 'subscribed', ref: request.ref }),
            (error: unknown) => send({ op: 'subscribed', ref: request.ref, error: String(error) }),
          );
        return;
      }
      const held = pending.get(request.token);
      if (held === undefined) return;
      const { delivery } = held;
      const settle =
        request.kind === 'ack'
          ? delivery.ack()
          : request.kind === 'retry'
            ? delivery.retry(request.delayMs ?? 0)
            : delivery.deadLetter(
                request.reason ?? { code: 'UNKNOWN', message: '', attempts: delivery.deliveryAttempt },
              );
      settle.then(
        () => {
          pending.delete(request.token);
          held.done();
          send({ op: 'settled', token: request.token });
        },
        (error: unknown) => send({ op: 'settled', token: request.token, error: String(error) }),
      );
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      lines.close();
      for (const held of pending.values()) held.done();
      pending.clear();
      void transport.close(0);
    });
  }
}
