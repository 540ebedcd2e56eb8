import type { EventContext, Message, Receiver } from 'rhea';
import { fromDecoded, unpackBatch, withMessageId, type EncodedMessage } from './amqp-message.js';
import { BrokerError, badRequest, entityNotFound, notAllowed, toBrokerError } from './broker-error.js';
import type { EntityStore } from './entity-store.js';
import { QueueEntity } from './queue-entity.js';
import { acceptedOutcome, rejectedOutcome, settleIncoming } from './rhea-compat.js';

/** `message_format` of a batched transfer (Microsoft's batch format). */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/**
 * The server end of a client's send link to a queue or topic. Each transfer (one message, or a
 * batch of them) is stored, then accepted; a failure rejects the transfer with the Service Bus
 * error condition and stores nothing of it. The entity is looked up on every transfer, so a
 * deleted entity rejects sends with `amqp:not-found`.
 */
export class SendLink {
  constructor(
    private readonly receiver: Receiver,
    private readonly address: string,
    private readonly entities: EntityStore,
    private readonly maxMessageSize: number,
    private readonly log: (event: string) => void,
  ) {
    receiver.on('message', (ctx: EventContext) => this.onTransfer(ctx));
    receiver.on('receiver_close', () => undefined);
    receiver.on('receiver_error', () => undefined);
  }

  private onTransfer(ctx: EventContext): void {
    const delivery = ctx.delivery;
    if (!delivery) return;
    try {
      const target = this.entities.resolveSendTarget(this.address);
      if (!target) {
        const error = entityNotFound(this.address);
        settleIncoming(delivery, rejectedOutcome(error.condition, error.message));
        this.receiver.close({ condition: error.condition, description: error.message });
        return;
      }
      const messages = this.decode(ctx, delivery.format).map(withMessageId);
      for (const m of messages) this.validate(m, target instanceof QueueEntity ? target : undefined);
      for (const m of messages) target.send(m);
      settleIncoming(delivery, acceptedOutcome());
    } catch (error) {
      const e = toBrokerError(error);
      this.log(`send to ${this.address} rejected: ${e.message}`);
      settleIncoming(delivery, rejectedOutcome(e.condition, e.message));
    }
  }

  private decode(ctx: EventContext, format: number): EncodedMessage[] {
    if (format === 0) return [fromDecoded(ctx.message as Message)];
    if (format === BATCH_MESSAGE_FORMAT) {
      const payload = ctx.message as unknown;
      if (!Buffer.isBuffer(payload)) throw badRequest('batched transfer without a payload');
      return unpackBatch(payload);
    }
    throw badRequest(`unsupported message format ${format}`);
  }

  private validate(m: EncodedMessage, queue: QueueEntity | undefined): void {
    if (m.raw.length > this.maxMessageSize) {
      throw new BrokerError(
        'amqp:link:message-size-exceeded',
        `The received message (size ${m.raw.length} bytes) exceeds the limit (${this.maxMessageSize} bytes) currently allowed on the link.`,
        413,
      );
    }
    if (queue?.options.requiresSession && m.fields.sessionId === undefined) {
      throw notAllowed(
        `The SessionId was not set on a message, and it cannot be sent to the entity '${queue.path}'. Entities that have session support enabled can only receive messages that have the SessionId set to a valid value.`,
      );
    }
  }
}
