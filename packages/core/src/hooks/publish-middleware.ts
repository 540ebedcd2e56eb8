import type { EventDefinition } from '../events/event-definition.js';
import type { HandlerContext } from '../handler/handler-context.js';
import { createEnvelope } from '../message/create-envelope.js';
import { composeChain } from '../middleware/handler-middleware.js';
import type { MessageHeaders } from '../message/envelope.js';
import type { OutgoingMessage } from '../transport/outgoing-message.js';

/**
 * What a {@link PublishMiddleware} sees: one `publish`/`publishBatch` call after validation,
 * encoding and stamping, just before the transport is called. One context per call.
 */
export interface PublishContext {
  /** The event being published. */
  readonly event: EventDefinition<unknown>;
  /** Its destination. */
  readonly destination: string;
  /** Name of the transport (`in-memory`, `kafka`, …). */
  readonly transport: string;
  /** The handler context when publishing from inside a handler, else `undefined`. */
  readonly handlerContext: HandlerContext | undefined;
  /**
   * The messages about to be sent, in input order. A middleware may replace the array before
   * calling `next()` (e.g. with {@link withHeaders} copies); the replacement is what the
   * transport receives, what `publish` resolves with and what `message.published` reports.
   * Keep the length and order.
   */
  messages: readonly OutgoingMessage[];
}

/**
 * Wraps the transport call of every publish: work before/after `next()`, or throw to fail the
 * publish (the caller's promise rejects with that error). `next()` rejects with the transport's
 * typed error (`PUBLISH_FAILED`…). Call `next()` at most once; not calling it skips the
 * transport (e.g. an outbox that stores the messages instead), and `publish` still resolves.
 * First middleware is outermost. Runs concurrently for concurrent publishes.
 */
export type PublishMiddleware = (context: PublishContext, next: () => Promise<void>) => Promise<void>;

/**
 * A copy of `message` whose envelope carries `headers` on top of its own (same id and every
 * other attribute). Pure; the original stays frozen and unchanged. Reserved names are not
 * checked here: middleware owns what it sets (e.g. `traceparent`).
 */
export function withHeaders(message: OutgoingMessage, headers: MessageHeaders): OutgoingMessage {
  const { envelope } = message;
  const copy = createEnvelope({
    id: envelope.id,
    type: envelope.type,
    payload: envelope.payload,
    contentType: envelope.contentType,
    headers: { ...envelope.headers, ...headers },
    occurredAt: envelope.occurredAt,
    ...(envelope.correlationId === undefined ? {} : { correlationId: envelope.correlationId }),
    ...(envelope.causationId === undefined ? {} : { causationId: envelope.causationId }),
    ...(envelope.partitionKey === undefined ? {} : { partitionKey: envelope.partitionKey }),
    ...(envelope.version === undefined ? {} : { version: envelope.version }),
    ...(envelope.replyTo === undefined ? {} : { replyTo: envelope.replyTo }),
  });
  return message.delayMs === undefined ? { envelope: copy } : { envelope: copy, delayMs: message.delayMs };
}

/**
 * Run `terminal` through `middleware` (first outermost). With no middleware this is just
 * `terminal(context)`. `next()` twice from one middleware rejects.
 */
export function runPublishMiddleware(
  middleware: readonly PublishMiddleware[],
  context: PublishContext,
  terminal: (context: PublishContext) => Promise<void>,
): Promise<void> {
  if (middleware.length === 0) return terminal(context);
  return composeChain(middleware, terminal)(context);
}
