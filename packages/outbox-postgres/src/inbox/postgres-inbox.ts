import { AsyncLocalStorage } from 'node:async_hooks';
import { ErrorCodes, OmnibusError, type HandlerMiddleware } from '@omnibus/core';
import { outboxTables, type OutboxTables, type OutboxTablesOptions } from '../schema/outbox-tables.js';
import { checkout, type CheckedOut, type PooledClient, type SqlPool } from '../sql-client.js';
import { cleanup } from '../maintenance.js';
import { isConnectionError, mapStoreError } from '../store-errors.js';

/** Options of {@link PostgresInbox}. */
export interface PostgresInboxOptions extends OutboxTablesOptions {
  /** The pool handler transactions are taken from. */
  readonly pool: SqlPool;
}

/** Outcome of {@link PostgresInbox.run}. */
export type InboxOutcome<T> = { readonly handled: true; readonly value: T } | { readonly handled: false };

/**
 * The idempotent inbox: runs a handler's database work in one transaction together with a row
 * (group, message id). The first delivery to commit wins; a redelivery of the same message to
 * the same group finds the row and is acknowledged without running the work again. A
 * concurrent duplicate waits for the first one's transaction and is skipped if it committed.
 *
 * Only effects made through the inbox transaction are exactly-once; anything else the handler
 * does (HTTP calls, direct `bus.publish`) is still at-least-once. Publish follow-up events with
 * `outbox.publish(inbox.transaction(), …)` to keep them in the same transaction.
 *
 * Concurrency: one instance serves every handler; each message uses its own pooled connection.
 */
export class PostgresInbox {
  readonly #pool: SqlPool;
  readonly #tables: OutboxTables;
  readonly #current = new AsyncLocalStorage<PooledClient>();

  constructor(options: PostgresInboxOptions) {
    this.#pool = options.pool;
    this.#tables = outboxTables(options);
  }

  /**
   * Run `work(tx)` once per (group, messageId): BEGIN, record the pair, run, COMMIT. Resolves
   * `{ handled: false }` without running `work` when the pair was already committed. When
   * `work` throws, the transaction (record included) is rolled back and the error rethrown, so
   * the retry runs it again. Database failures reject with `STORE_UNAVAILABLE` (retriable) or
   * `STORE_NOT_MIGRATED`.
   */
  async run<T>(
    group: string,
    messageId: string,
    work: (tx: PooledClient) => Promise<T>,
  ): Promise<InboxOutcome<T>> {
    let connection: CheckedOut;
    try {
      connection = await checkout(this.#pool);
    } catch (error) {
      throw mapStoreError(error, this.#tables, 'inbox');
    }
    const tx = connection.client;
    let broken = false;
    try {
      await tx.query('BEGIN');
      const recorded = await tx.query(
        `INSERT INTO ${this.#tables.inbox} (group_name, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [group, messageId],
      );
      if (recorded.rowCount === 0) {
        await tx.query('ROLLBACK');
        return { handled: false };
      }
      const value = await this.#current.run(tx, () => work(tx));
      await tx.query('COMMIT');
      return { handled: true, value };
    } catch (error) {
      broken = isConnectionError(error);
      await tx.query('ROLLBACK').catch(() => undefined);
      throw mapStoreError(error, this.#tables, `inbox (group "${group}", message ${messageId})`);
    } finally {
      connection.release(broken);
    }
  }

  /**
   * Handler middleware: wraps the rest of the pipeline in {@link run} keyed by the delivery's
   * group and envelope id. Inside the handler, {@link transaction} is the connection to use.
   * Use it per handler (`@EventHandler(E, { middleware: [inbox.middleware()] })`) or bus-wide.
   */
  middleware(): HandlerMiddleware {
    return async (context, next) => {
      const outcome = await this.run(context.group, context.envelope.id, () => next());
      if (!outcome.handled)
        context.logger.debug('inbox: duplicate delivery acknowledged without running the handler', {
          group: context.group,
          id: context.envelope.id,
        });
    };
  }

  /**
   * The transaction of the message being handled (inside {@link run} or the middleware).
   * @throws OmnibusError `TRANSACTION_REQUIRED` outside an inbox-wrapped handler.
   */
  transaction(): PooledClient {
    const tx = this.#current.getStore();
    if (tx === undefined)
      throw new OmnibusError(
        ErrorCodes.TRANSACTION_REQUIRED,
        'inbox.transaction() is only available inside a handler wrapped by inbox.middleware() or inside inbox.run()',
      );
    return tx;
  }

  /**
   * Delete inbox rows handled more than `olderThanMs` ago; resolves with how many. Keep rows
   * longer than any message can still be redelivered. (`OutboxRelay`'s `inboxRetentionMs` and
   * `omnibus-outbox cleanup --inbox-retention` do the same periodically.)
   */
  async expire(olderThanMs: number): Promise<number> {
    const result = await cleanup(this.#pool, {
      schema: this.#tables.schema,
      prefix: this.#tables.prefix,
      inboxRetentionMs: olderThanMs,
    });
    return result.inbox;
  }

  /** Whether (group, messageId) was recorded. */
  async seen(group: string, messageId: string): Promise<boolean> {
    try {
      const { rowCount } = await this.#pool.query(
        `SELECT 1 FROM ${this.#tables.inbox} WHERE group_name = $1 AND message_id = $2`,
        [group, messageId],
      );
      return (rowCount ?? 0) > 0;
    } catch (error) {
      throw mapStoreError(error, this.#tables, 'inbox');
    }
  }
}
