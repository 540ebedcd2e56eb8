// Child-process transport module for the in-memory contract run (faults.childTransportModule):
// a consumer-only Transport that talks to the parent's InMemoryBridge over loopback TCP.
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import {
  ErrorCodes,
  OmnibusError,
  type DeadLetterReason,
  type DeliveryHandler,
  type Subscription,
  type SubscriptionSpec,
  type Transport,
  type TransportCapabilities,
  type TransportStatus,
} from '@omnibus/core';
import { BRIDGE_PORT_ENV, fromWire, type BridgeEvent, type BridgeRequest } from './in-memory-bridge.js';

const unsupported = (what: string): Promise<never> =>
  Promise.reject(
    new OmnibusError(ErrorCodes.PUBLISH_FAILED, `${what} is not supported over the in-memory bridge`),
  );

/** Consumer side of the bridge: connect, subscribe, settle. Publishing stays in the parent. */
class BridgeClientTransport implements Transport {
  readonly name = 'in-memory';
  readonly capabilities: TransportCapabilities = {
    ordering: 'per-key',
    delayedDelivery: false,
    maxRetryDelayMs: 0,
    maxPayloadBytes: 0,
    competingConsumers: true,
    fanOut: true,
    survivesBrokerRestart: true,
    noDuplicatesWithoutFaults: true,
    publishDeduplication: false,
    atomicBatchPublish: true,
  };
  status: TransportStatus = 'idle';
  #socket: Socket | undefined;
  #ref = 0;
  readonly #subscribed = new Map<number, (error?: string) => void>();
  readonly #settled = new Map<number, (error?: string) => void>();
  readonly #handlers: DeliveryHandler[] = [];

  onStatusChange(): () => void {
    return () => undefined;
  }

  connect(): Promise<void> {
    const port = Number(process.env[BRIDGE_PORT_ENV]);
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        this.status = 'ready';
        resolve();
      });
      socket.once('error', reject);
      this.#socket = socket;
      createInterface({ input: socket }).on('line', (line) => this.#onEvent(JSON.parse(line) as BridgeEvent));
    });
  }

  provision(): Promise<void> {
    return unsupported('provision');
  }

  publish(): Promise<void> {
    return unsupported('publish');
  }

  subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    this.#ref += 1;
    const ref = this.#ref;
    this.#handlers[0] = onDelivery;
    return new Promise((resolve, reject) => {
      this.#subscribed.set(ref, (error) =>
        error === undefined ? resolve({ close: () => Promise.resolve() }) : reject(new Error(error)),
      );
      this.#send({ op: 'subscribe', ref, spec });
    });
  }

  close(): Promise<void> {
    this.#socket?.destroy();
    this.status = 'closed';
    return Promise.resolve();
  }

  raw(): unknown {
    return this.#socket;
  }

  #send(request: BridgeRequest): void {
    this.#socket?.write(`${JSON.stringify(request)}\n`);
  }

  #settle(token: number, request: BridgeRequest): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#settled.set(token, (error) =>
        error === undefined ? resolve() : reject(new OmnibusError(ErrorCodes.SETTLEMENT_FAILED, error)),
      );
      this.#send(request);
    });
  }

  #onEvent(event: BridgeEvent): void {
    if (event.op === 'subscribed') this.#subscribed.get(event.ref)?.(event.error);
    else if (event.op === 'settled') this.#settled.get(event.token)?.(event.error);
    else {
      const token = event.token;
      void this.#handlers[0]?.({
        envelope: fromWire(event.envelope),
        deliveryAttempt: event.attempt,
        receivedAt: new Date(),
        destination: event.destination,
        group: event.group,
        raw: event,
        ack: () => this.#settle(token, { op: 'settle', token, kind: 'ack' }),
        retry: (delayMs: number) => this.#settle(token, { op: 'settle', token, kind: 'retry', delayMs }),
        deadLetter: (reason: DeadLetterReason) =>
          this.#settle(token, { op: 'settle', token, kind: 'deadLetter', reason: { ...reason } }),
      });
    }
  }
}

/** What `faults.childTransportModule` must export. */
export function createTransport(): Transport {
  return new BridgeClientTransport();
}
