import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, isValidEntityName, parseEntityOptions } from './config.js';
import type { EntityStore } from './entity-store.js';
import type { QueueEntity } from './queue-entity.js';

/** Options of the admin HTTP API. */
export interface AdminHttpOptions {
  readonly host: string;
  readonly port: number;
  readonly entities: EntityStore;
  /** Extra fields for `GET /health`. */
  readonly health: () => Record<string, unknown>;
  /** Cuts every client AMQP connection (`POST /connections/drop`); returns how many. */
  readonly dropConnections: () => number;
  readonly log: (event: string) => void;
}

const MAX_BODY_BYTES = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

function describeQueue(name: string, entity: QueueEntity): Record<string, unknown> {
  return { name, path: entity.path, options: entity.options, counts: entity.counts() };
}

function checkName(name: string | undefined): string {
  if (name === undefined || !isValidEntityName(name))
    throw new HttpError(400, `invalid entity name '${String(name)}'`);
  return name;
}

/**
 * The loopback-only admin API that creates, reads and deletes entities at runtime, so tests can
 * use fresh entities each:
 *
 * - `GET /health`
 * - `GET /entities` (names)
 * - `PUT|GET|DELETE /queues/:name` (PUT body: entity options; GET adds message counts)
 * - `PUT|GET|DELETE /topics/:name`
 * - `PUT|GET|DELETE /topics/:topic/subscriptions/:sub` (PUT body may carry the rule `filter`)
 * - `POST /connections/drop` (fault injection: cuts every client AMQP connection)
 *
 * PUT is idempotent: 201 when created, 200 when it existed (its options are updated, except
 * `requiresSession`).
 */
export class AdminHttp {
  private server: Server | undefined;

  constructor(private readonly options: AdminHttpOptions) {}

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.send(res, 500, { error: String(error) }));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private send(res: ServerResponse, status: number, body?: unknown): void {
    if (res.headersSent) return;
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res
      .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      .end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      this.send(res, 403, { error: 'the admin API only accepts loopback clients' });
      return;
    }
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const parts = url.pathname
        .split('/')
        .filter((p) => p.length > 0)
        .map((p) => decodeURIComponent(p));
      const method = req.method ?? 'GET';
      const result = await this.route(method, parts, req);
      this.send(res, result.status, result.body);
    } catch (error) {
      if (error instanceof HttpError) this.send(res, error.status, { error: error.message });
      else if (error instanceof ConfigError)
        this.send(res, 400, { error: error.message, problems: error.problems });
      else this.send(res, 500, { error: (error as Error).message });
    }
  }

  private async route(
    method: string,
    parts: string[],
    req: IncomingMessage,
  ): Promise<{ status: number; body?: unknown }> {
    const [collection, name, sub, subName, extra] = parts;
    const entities = this.options.entities;
    if (method === 'GET' && collection === 'health' && parts.length === 1) {
      return { status: 200, body: { status: 'ok', ...this.options.health() } };
    }
    if (method === 'GET' && collection === 'entities' && parts.length === 1) {
      return { status: 200, body: entities.list() };
    }
    if (method === 'POST' && collection === 'connections' && name === 'drop' && parts.length === 2) {
      await readJson(req);
      const dropped = this.options.dropConnections();
      return { status: 200, body: { dropped } };
    }
    if (collection === 'queues' && parts.length === 2) {
      const queueName = checkName(name);
      if (method === 'PUT') {
        const options = await this.readOptions(req);
        const { entity, created } = this.conflictSafe(() => entities.upsertQueue(queueName, options));
        return { status: created ? 201 : 200, body: describeQueue(queueName, entity) };
      }
      const entity = entities.queue(queueName);
      if (method === 'GET')
        return entity ? { status: 200, body: describeQueue(queueName, entity) } : notFound(queueName);
      if (method === 'DELETE') return entities.deleteQueue(queueName) ? { status: 204 } : notFound(queueName);
    }
    if (collection === 'topics' && parts.length === 2) {
      const topicName = checkName(name);
      if (method === 'PUT') {
        await readJson(req);
        const { topic, created } = this.conflictSafe(() => entities.upsertTopic(topicName));
        return {
          status: created ? 201 : 200,
          body: { name: topic.name, subscriptions: topic.subscriptionNames() },
        };
      }
      const topic = entities.topic(topicName);
      if (method === 'GET') {
        return topic
          ? {
              status: 200,
              body: {
                name: topic.name,
                subscriptions: topic.subscriptionNames(),
                counts: { scheduled: topic.scheduledCount() },
              },
            }
          : notFound(topicName);
      }
      if (method === 'DELETE') return entities.deleteTopic(topicName) ? { status: 204 } : notFound(topicName);
    }
    if (collection === 'topics' && sub === 'subscriptions' && parts.length === 4 && extra === undefined) {
      const topicName = checkName(name);
      const subscriptionName = checkName(subName);
      const topic = entities.topic(topicName);
      if (!topic) return notFound(topicName);
      if (method === 'PUT') {
        const options = await this.readOptions(req, 'subscription');
        const { entity, created } = entities.upsertSubscription(topicName, subscriptionName, options);
        return { status: created ? 201 : 200, body: describeQueue(subscriptionName, entity) };
      }
      const entity = topic.subscription(subscriptionName);
      if (method === 'GET')
        return entity
          ? { status: 200, body: describeQueue(subscriptionName, entity) }
          : notFound(subscriptionName);
      if (method === 'DELETE') {
        if (!topic.deleteSubscription(subscriptionName)) return notFound(subscriptionName);
        this.options.log(`subscription '${topicName}/Subscriptions/${subscriptionName}' deleted`);
        return { status: 204 };
      }
    }
    throw new HttpError(404, `no route for ${method} /${parts.join('/')}`);
  }

  private async readOptions(
    req: IncomingMessage,
    kind: 'queue' | 'subscription' = 'queue',
  ): Promise<ReturnType<typeof parseEntityOptions>> {
    const body = await readJson(req);
    const problems: string[] = [];
    const options = parseEntityOptions(body, 'body', problems, kind);
    if (problems.length > 0) throw new ConfigError(problems);
    return options;
  }

  private conflictSafe<T>(action: () => T): T {
    try {
      return action();
    } catch (error) {
      throw new HttpError(409, (error as Error).message);
    }
  }
}

function notFound(name: string): { status: number; body: unknown } {
  return { status: 404, body: { error: `entity '${name}' not found` } };
}
