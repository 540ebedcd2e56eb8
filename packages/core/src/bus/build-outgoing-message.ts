import type { Codec } from '../codec/codec.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { isOmnibusError, OmnibusError } from '../errors/omnibus-error.js';
import type { EventDefinition } from '../events/event-definition.js';
import { summarizeIssues, validatePayload } from '../events/validate-payload.js';
import type { HandlerContext } from '../handler/handler-context.js';
import { childTraceparent, TRACEPARENT_HEADER, TRACESTATE_HEADER } from '../instrumentation/traceparent.js';
import type { MessageEnvelope } from '../message/envelope.js';
import { randomUuid } from '../instrumentation/random-ids.js';
import { isReservedHeader } from '../message/wire-headers.js';
import { checkPayloadSize, checkPublishDelay } from '../adapter-kit/check-publish.js';
import type { TransportCapabilities } from '../transport/capabilities.js';
import type { OutgoingMessage } from '../transport/outgoing-message.js';
import type { PublishOptions } from './publish-options.js';

/** Inputs of {@link buildOutgoingMessage}. */
export interface OutgoingMessageInput {
  readonly event: EventDefinition<unknown>;
  readonly payload: unknown;
  readonly options: PublishOptions;
  /** The current handler context, when publishing inside a handler. */
  readonly context: HandlerContext | undefined;
  readonly codec: Codec;
  readonly transportName: string;
  readonly capabilities: TransportCapabilities;
  /** Reply destination, for requests. @internal */
  readonly replyTo?: string;
}

/**
 * Validate, encode and stamp one message, before anything reaches the transport:
 * schema (`VALIDATION_FAILED`), headers (`VALIDATION_FAILED` for reserved names or non-string
 * values), encoding (`ENCODE_FAILED`), size vs `maxPayloadBytes` (`PAYLOAD_TOO_LARGE`) and delay
 * vs `delayedDelivery` (`DELAY_OUT_OF_RANGE`). Stamps correlation/causation from the handler
 * context and a W3C `traceparent` (child of the context's, or a new trace). Encodes the
 * payload as given (not the schema's output), so receivers apply transforms exactly once.
 *
 * Synchronous (returns the message, or throws) when the event has no schema; a promise only
 * when a schema has to be run, so the common path allocates no promise.
 */
export function buildOutgoingMessage(
  input: OutgoingMessageInput,
): OutgoingMessage | Promise<OutgoingMessage> {
  const schema = input.event.schema;
  if (schema === undefined) return stampAndEncode(input);
  return validatePayload(schema, input.payload).then((validation) => {
    if (!validation.ok) {
      throw new OmnibusError(
        ErrorCodes.VALIDATION_FAILED,
        `payload of ${input.event.name} failed schema validation: ${summarizeIssues(validation.issues)}`,
        { cause: validation.issues },
      );
    }
    return stampAndEncode(input);
  });
}

function stampAndEncode(input: OutgoingMessageInput): OutgoingMessage {
  const { event, payload, options, context, capabilities } = input;
  const headers = options.headers === undefined ? {} : checkHeaders(options.headers);
  if (headers[TRACEPARENT_HEADER] === undefined)
    headers[TRACEPARENT_HEADER] = childTraceparent(context?.traceparent);
  const tracestate = context?.envelope.headers[TRACESTATE_HEADER];
  if (headers[TRACESTATE_HEADER] === undefined && tracestate !== undefined)
    headers[TRACESTATE_HEADER] = tracestate;
  let bytes: Uint8Array;
  try {
    bytes = input.codec.encode(payload);
  } catch (error) {
    if (isOmnibusError(error)) throw error;
    throw new OmnibusError(
      ErrorCodes.ENCODE_FAILED,
      `payload of ${event.name} could not be encoded: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  checkPayloadSize(bytes.byteLength, input.transportName, capabilities.maxPayloadBytes, event.name);
  const delayMs = Math.ceil(
    checkPublishDelay(options.delayMs, input.transportName, capabilities.delayedDelivery, event.name),
  );
  // The envelope is built in place (no intermediate input object) and sealed: frozen with the
  // headers it owns (they were just built above, so they are frozen, not copied).
  const envelope: { -readonly [K in keyof MessageEnvelope]: MessageEnvelope[K] } = {
    id: options.id ?? randomUuid(),
    type: event.name,
    payload: bytes,
    contentType: input.codec.contentType,
    headers,
    occurredAt: options.occurredAt ?? new Date(),
  };
  const correlationId =
    options.correlationId ??
    (context === undefined ? undefined : (context.envelope.correlationId ?? context.envelope.id));
  const causationId = options.causationId ?? context?.envelope.id;
  if (correlationId !== undefined) envelope.correlationId = correlationId;
  if (causationId !== undefined) envelope.causationId = causationId;
  if (options.partitionKey !== undefined) envelope.partitionKey = options.partitionKey;
  if (event.version !== undefined) envelope.version = event.version;
  if (input.replyTo !== undefined) envelope.replyTo = input.replyTo;
  Object.freeze(headers);
  Object.freeze(envelope);
  return delayMs > 0 ? { envelope, delayMs } : { envelope };
}

function checkHeaders(headers: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (isReservedHeader(name))
      throw new OmnibusError(
        ErrorCodes.VALIDATION_FAILED,
        `header "${name}" is reserved by Omnibus (ce-*, omnibus-*, content-type); use another name`,
      );
    if (typeof value !== 'string')
      throw new OmnibusError(
        ErrorCodes.VALIDATION_FAILED,
        `header "${name}" must be a string, got ${typeof value}`,
      );
    out[name] = value;
  }
  return out;
}
