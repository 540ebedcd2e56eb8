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
  /** Run one parameterised statement. */
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<SqlResult<R>>;
  /** `'I'` idle, `'T'` in a transaction, `'E'` failed transaction (pg ≥ 8.16). */
  getTransactionStatus?(): string | null;
}

/** A connection checked out of a {@link SqlPool}. */
export interface PooledClient extends SqlClient {
  /** Give the connection back (an error or `true` destroys it). */
  release(error?: Error | boolean): void;
  /** Listen for a lost connection while checked out. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  /** Detach a listener added with `on`. */
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/** A connection pool: a `pg` `Pool`. */
export interface SqlPool {
  /** Check a connection out of the pool. */
  connect(): Promise<PooledClient>;
  /** Run one statement on any pooled connection. */
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<SqlResult<R>>;
}

const ignore = (): void => undefined;

/** A connection from {@link checkout} and how to give it back. */
export interface CheckedOut {
  readonly client: PooledClient;
  /** Return the connection (`broken`: destroy it instead). */
  readonly release: (broken: boolean) => void;
}

/**
 * Check a connection out of `pool` for this package's own use. While it is checked out, `pg`
 * emits a lost connection (server restart) as an `'error'` event that nobody listens to, which
 * would crash the process; a listener is attached for that time (the failure still reaches the
 * caller through the failing query). `release(broken)` detaches it and destroys a broken
 * connection instead of returning it to the pool.
 */
export async function checkout(
  pool: SqlPool,
): Promise<{ client: PooledClient; release(broken: boolean): void }> {
  const client = await pool.connect();
  client.on?.('error', ignore);
  return {
    client,
    release: (broken) => {
      client.removeListener?.('error', ignore);
      client.release(broken);
    },
  };
}
