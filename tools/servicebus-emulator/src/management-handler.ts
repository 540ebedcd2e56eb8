import type { Message, Typed } from 'rhea';
import { fromEncoded, withMessageId, type PropertyValue } from './amqp-message.js';
import { BrokerError, Conditions, badRequest, entityNotFound, toBrokerError } from './broker-error.js';
import { parseAddress, type EntityStore, type SendTarget } from './entity-store.js';
import { lockKeyFromRequest } from './lock-token.js';
import type { MessageStore } from './message-store.js';
import { QueueEntity } from './queue-entity.js';
import { amqpTypes } from './rhea-compat.js';

type Body = Record<string, unknown>;

interface OperationResult {
  readonly status: number;
  readonly body?: Typed;
}

interface Context {
  readonly address: string;
  readonly store: MessageStore | undefined;
  readonly target: SendTarget | undefined;
}

const LONG_ARRAY = 0x81;
const TIMESTAMP_ARRAY = 0x83;

/** Reads an AMQP long that rhea decoded as a number or (when large) an 8-byte buffer. */
function toSeq(value: unknown): number {
  if (typeof value === 'number') return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  if (typeof value === 'bigint') return Number(value);
  throw badRequest(`invalid sequence number: ${String(value)}`);
}

function asArray(value: unknown, name: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (value === undefined || value === null) throw badRequest(`missing '${name}'`);
  return [value];
}

function lockKeys(body: Body): string[] {
  return asArray(body['lock-tokens'], 'lock-tokens').map((t) => {
    const key = lockKeyFromRequest(t);
    if (!key) throw badRequest('invalid lock token');
    return key;
  });
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function propertiesToModify(value: unknown): Record<string, PropertyValue> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, PropertyValue>;
}

/**
 * Answers `$management` requests (AMQP request/response, see "AMQP 1.0 in Azure Service Bus:
 * request-response-based operations"): lock renewal, peek, schedule and cancel, receive deferred
 * messages by sequence number, settlement by lock token, and session lock and state operations.
 *
 * Responses carry `statusCode`/`statusDescription` (and `errorCondition` on failure) in the
 * application properties and the request's message id as correlation id.
 */
export class ManagementHandler {
  constructor(
    private readonly entities: EntityStore,
    private readonly log: (event: string) => void,
    private readonly changed: () => void,
  ) {}

  /** Whether an address names an existing entity's `$management` node. */
  exists(address: string): boolean {
    const ctx = this.context(address);
    return ctx !== undefined && (ctx.store !== undefined || ctx.target !== undefined);
  }

  private context(address: string): Context | undefined {
    const parsed = parseAddress(address);
    if (!parsed || !parsed.management) return undefined;
    const resolved = this.entities.resolveStore(parsed);
    const target =
      parsed.subscription === undefined && parsed.subQueue === 'main'
        ? (this.entities.queue(parsed.entity) ?? this.entities.topic(parsed.entity))
        : undefined;
    return { address, store: resolved?.store, target };
  }

  /** Handles one request and builds the response message. */
  handle(address: string, request: Message): Message {
    const props = (request.application_properties ?? {}) as Record<string, unknown>;
    const operation = typeof props['operation'] === 'string' ? props['operation'] : '';
    let result: OperationResult;
    try {
      const ctx = this.context(address);
      if (!ctx || (ctx.store === undefined && ctx.target === undefined)) {
        throw entityNotFound(address.replace(/\/\$management$/i, ''));
      }
      const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Body;
      result = this.dispatch(operation, ctx, body);
      if (operation !== 'com.microsoft:peek-message') this.changed();
    } catch (error) {
      const e = toBrokerError(error);
      if (e.condition === Conditions.internal)
        this.log(`management ${operation} on ${address} failed: ${e.message}`);
      return this.reply(request, e.statusCode, e.message, undefined, e.condition);
    }
    return this.reply(
      request,
      result.status,
      result.status === 204 ? 'No Content' : 'OK',
      result.body,
      undefined,
    );
  }

  private reply(
    request: Message,
    status: number,
    description: string,
    body: Typed | undefined,
    condition: string | undefined,
  ): Message {
    const applicationProperties: Record<string, unknown> = {
      statusCode: status,
      statusDescription: description,
    };
    if (condition !== undefined) applicationProperties['errorCondition'] = amqpTypes.wrap_symbol(condition);
    const response: Message = {
      correlation_id: request.message_id as string,
      application_properties: applicationProperties,
      body: body ?? amqpTypes.wrap_map({}),
    };
    if (request.reply_to !== undefined) response.to = request.reply_to;
    return response;
  }

  private requireStore(ctx: Context): MessageStore {
    if (!ctx.store)
      throw new BrokerError(
        Conditions.notAllowed,
        `The operation is not supported on '${ctx.address}'.`,
        400,
      );
    return ctx.store;
  }

  private requireTarget(ctx: Context): SendTarget {
    if (!ctx.target)
      throw new BrokerError(Conditions.notAllowed, `Messages cannot be scheduled on '${ctx.address}'.`, 400);
    return ctx.target;
  }

  private dispatch(operation: string, ctx: Context, body: Body): OperationResult {
    switch (operation) {
      case 'com.microsoft:renew-lock':
        return this.renewLock(this.requireStore(ctx), body);
      case 'com.microsoft:peek-message':
        return this.peek(this.requireStore(ctx), body);
      case 'com.microsoft:schedule-message':
        return this.schedule(this.requireTarget(ctx), body);
      case 'com.microsoft:cancel-scheduled-message':
        return this.cancel(this.requireTarget(ctx), body);
      case 'com.microsoft:receive-by-sequence-number':
        return this.receiveBySequence(this.requireStore(ctx), body);
      case 'com.microsoft:update-disposition':
        return this.updateDisposition(this.requireStore(ctx), body);
      case 'com.microsoft:renew-session-lock':
        return this.renewSessionLock(this.requireStore(ctx), body);
      case 'com.microsoft:set-session-state':
        return this.setSessionState(this.requireStore(ctx), body);
      case 'com.microsoft:get-session-state':
        return this.getSessionState(this.requireStore(ctx), body);
      default:
        throw new BrokerError(
          Conditions.notImplemented,
          `The operation '${operation}' is not supported by the emulator.`,
          501,
        );
    }
  }

  private renewLock(store: MessageStore, body: Body): OperationResult {
    const expirations = lockKeys(body).map((key) => new Date(store.renewLock(key)));
    return {
      status: 200,
      body: amqpTypes.wrap_map({
        expirations: amqpTypes.wrap_array(expirations, TIMESTAMP_ARRAY, undefined),
      }),
    };
  }

  private peek(store: MessageStore, body: Body): OperationResult {
    const from = toSeq(body['from-sequence-number'] ?? 0);
    const count = typeof body['message-count'] === 'number' ? body['message-count'] : 1;
    const messages = store.peek(from, count, optionalString(body['session-id']));
    if (messages.length === 0) return { status: 204 };
    const list = messages.map((m) => amqpTypes.wrap_map({ message: amqpTypes.wrap_binary(m) }));
    return { status: 200, body: amqpTypes.wrap_map({ messages: amqpTypes.wrap_list(list) }) };
  }

  private schedule(target: SendTarget, body: Body): OperationResult {
    const entries = asArray(body['messages'], 'messages');
    const seqs = entries.map((entry) => {
      const raw = (entry as Body | undefined)?.['message'];
      if (!Buffer.isBuffer(raw)) throw badRequest("each scheduled entry needs an encoded 'message'");
      const message = withMessageId(fromEncoded(raw));
      const at = message.fields.scheduledEnqueueTimeMs ?? Date.now();
      const seq = target.schedule(message, at);
      this.log(
        `scheduled seq=${seq} on ${target instanceof QueueEntity ? target.path : target.name} for ${new Date(at).toISOString()}`,
      );
      return seq;
    });
    return {
      status: 200,
      body: amqpTypes.wrap_map({ 'sequence-numbers': amqpTypes.wrap_array(seqs, LONG_ARRAY, undefined) }),
    };
  }

  private cancel(target: SendTarget, body: Body): OperationResult {
    for (const value of asArray(body['sequence-numbers'], 'sequence-numbers')) {
      const seq = toSeq(value);
      if (target instanceof QueueEntity) target.main.cancelScheduled(seq);
      else target.cancelScheduled(seq);
    }
    return { status: 200 };
  }

  private receiveBySequence(store: MessageStore, body: Body): OperationResult {
    const seqs = asArray(body['sequence-numbers'], 'sequence-numbers').map(toSeq);
    const peekLock = body['receiver-settle-mode'] !== 0;
    const delivered = store.receiveDeferred(seqs, peekLock, optionalString(body['session-id']));
    const list = delivered.map((d) => {
      const entry: Record<string, Typed> = { message: amqpTypes.wrap_binary(d.encoded) };
      if (d.lockToken) entry['lock-token'] = amqpTypes.wrap_uuid(d.lockToken.bytes);
      return amqpTypes.wrap_map(entry);
    });
    return { status: 200, body: amqpTypes.wrap_map({ messages: amqpTypes.wrap_list(list) }) };
  }

  private updateDisposition(store: MessageStore, body: Body): OperationResult {
    const status = optionalString(body['disposition-status']) ?? '';
    const properties = propertiesToModify(body['properties-to-modify']);
    for (const key of lockKeys(body)) {
      switch (status) {
        case 'completed':
          store.complete(key);
          break;
        case 'abandoned':
          store.abandon(key, properties);
          break;
        case 'defered':
        case 'deferred':
          store.defer(key, properties);
          break;
        case 'suspended':
          store.deadLetter(
            key,
            optionalString(body['deadletter-reason']),
            optionalString(body['deadletter-description']),
            properties,
          );
          break;
        default:
          throw badRequest(`unknown disposition-status '${status}'`);
      }
    }
    return { status: 200 };
  }

  private sessionId(body: Body): string {
    const id = body['session-id'];
    if (typeof id !== 'string') throw badRequest("missing 'session-id'");
    return id;
  }

  private renewSessionLock(store: MessageStore, body: Body): OperationResult {
    const until = store.renewSessionLock(this.sessionId(body));
    return { status: 200, body: amqpTypes.wrap_map({ expiration: new Date(until) }) };
  }

  private setSessionState(store: MessageStore, body: Body): OperationResult {
    if (!store.sessions)
      throw new BrokerError(Conditions.notAllowed, `'${store.path}' does not require sessions.`, 400);
    const state = body['session-state'];
    store.sessions.setState(this.sessionId(body), Buffer.isBuffer(state) ? Buffer.from(state) : undefined);
    return { status: 200 };
  }

  private getSessionState(store: MessageStore, body: Body): OperationResult {
    if (!store.sessions)
      throw new BrokerError(Conditions.notAllowed, `'${store.path}' does not require sessions.`, 400);
    const state = store.sessions.getState(this.sessionId(body));
    return {
      status: 200,
      body: amqpTypes.wrap_map({ 'session-state': state ? amqpTypes.wrap_binary(state) : null }),
    };
  }
}
