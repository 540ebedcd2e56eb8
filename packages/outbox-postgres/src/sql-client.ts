/** Result of {@link SqlClient.query}: the subset of `pg`'s `QueryResult` this package reads. */
export interface SqlResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

/**
 * A connection that runs one statement at a time: a `pg` `Client` or a `PoolClient` checked
 * out of a `Pool`. Typed structurally, so any copy of `pg` 8.x (or a compatible driver) fits.
 * `getTransactionStatus` (pg ≥ 8.16) is used when present to tell whether a transaction is open.
 */
export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<SqlResult<R>>;
  getTransactionStatus?(): string | null;
}

/** A connection pool: a `pg` `Pool`. */
export interface SqlPool {
  connect(): Promise<SqlClient & { release(error?: Error | boolean): void }>;
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<SqlResult<R>>;
}

/** A checked-out pooled connection. */
export type PooledClient = Awaited<ReturnType<SqlPool['connect']>>;
