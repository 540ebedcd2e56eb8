import { randomUUID } from 'node:crypto';
import {
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import {
  startEmulator,
  type EmulatorOptions,
  type EntityOptions,
  type EntityOptionsInput,
  type RunningEmulator,
} from '../src/index.js';

/** A unique, valid entity name for one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Starts an emulator on free ports; logs go to EMULATOR_LOG=1 stdout only. */
export function startTestEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const log =
    process.env['EMULATOR_LOG'] === '1' ? (line: string) => console.log(`    [emulator] ${line}`) : undefined;
  return startEmulator({ port: 0, adminPort: 0, ...(log ? { log } : {}), ...options });
}

/** Counts the admin API reports for a queue or subscription. */
export interface AdminCounts {
  active: number;
  scheduled: number;
  deferred: number;
  locked: number;
  deadLetter: number;
}

/** The union of the admin API's JSON response fields used by the tests. */
export interface AdminBody {
  status?: string;
  amqpPort?: number;
  name?: string;
  options?: EntityOptions;
  counts?: AdminCounts;
  subscriptions?: string[];
  problems?: string[];
  error?: string;
  dropped?: number;
}

/** Calls the admin API and returns status and parsed JSON body. */
export async function admin(
  emulator: RunningEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: AdminBody }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await fetch(`${emulator.adminUrl}${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as AdminBody) };
}

/** Creates a queue through the admin API. */
export async function createQueue(
  emulator: RunningEmulator,
  options: EntityOptionsInput = {},
  prefix = 'q',
): Promise<string> {
  const name = uniqueName(prefix);
  const res = await admin(emulator, 'PUT', `/queues/${name}`, options);
  if (res.status !== 201) throw new Error(`queue creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return name;
}

/** Creates a topic with subscriptions through the admin API. */
export async function createTopic(
  emulator: RunningEmulator,
  subscriptions: Record<string, EntityOptionsInput>,
): Promise<string> {
  const name = uniqueName('t');
  const res = await admin(emulator, 'PUT', `/topics/${name}`);
  if (res.status !== 201) throw new Error(`topic creation failed: ${res.status}`);
  for (const [sub, options] of Object.entries(subscriptions)) {
    const s = await admin(emulator, 'PUT', `/topics/${name}/subscriptions/${sub}`, options);
    if (s.status !== 201) throw new Error(`subscription creation failed: ${s.status}`);
  }
  return name;
}

/** A client with short retries so failures surface fast. */
export function newClient(emulator: RunningEmulator): ServiceBusClient {
  return new ServiceBusClient(emulator.connectionString, {
    retryOptions: { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 10_000 },
  });
}

/** Receives until `count` messages arrived or `timeoutMs` passed. */
export async function receiveN(
  receiver: ServiceBusReceiver,
  count: number,
  timeoutMs = 10_000,
): Promise<ServiceBusReceivedMessage[]> {
  const out: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const batch = await receiver.receiveMessages(count - out.length, {
      maxWaitTimeInMs: Math.max(100, Math.min(2000, deadline - Date.now())),
    });
    out.push(...batch);
  }
  return out;
}

/** Polls a condition until it holds (or throws after the timeout). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  label = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Message bodies (the SDK types them as `any`). */
export function bodiesOf(messages: readonly ServiceBusReceivedMessage[]): unknown[] {
  return messages.map((m) => m.body as unknown);
}

/** Counts of a queue (`/queues/:name`) or subscription (`/topics/:t/subscriptions/:s`). */
export async function countsOf(emulator: RunningEmulator, path: string): Promise<AdminCounts> {
  const res = await admin(emulator, 'GET', path);
  if (!res.body.counts) throw new Error(`no counts for ${path}: ${res.status}`);
  return res.body.counts;
}

/**
 * Registers mocha hooks that start one emulator and one SDK client for the enclosing `describe`
 * and stop both afterwards; `onReady` receives them once started.
 */
export function useEmulator(onReady: (emulator: RunningEmulator, client: ServiceBusClient) => void): void {
  let emulator: RunningEmulator | undefined;
  let client: ServiceBusClient | undefined;
  before(async () => {
    emulator = await startTestEmulator();
    client = newClient(emulator);
    onReady(emulator, client);
  });
  after(async () => {
    await client?.close();
    await emulator?.stop();
  });
}
