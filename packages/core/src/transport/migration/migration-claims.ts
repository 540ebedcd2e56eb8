/** Which side of a migration a copy of a message came from. */
export type MigrationSide = 'from' | 'to';

/**
 * Who handles each message during a broker migration: the first copy of a (group, message id)
 * to arrive claims it, and every copy from the other side is dropped. Share one instance
 * between the consumers of a process across restarts (a new bus, a new MigrationTransport) so a
 * message handled before a restart is not handled again after it; a store shared between
 * processes makes the guarantee hold for competing consumers in several processes too.
 */
export interface MigrationClaims {
  /**
   * Claim (group, id) for `side`, or report the side that holds it. Resolves with the owning
   * side (`side` itself when this call claimed it, or when that side already owned it).
   */
  claim(group: string, id: string, side: MigrationSide): Promise<MigrationSide>;
  /** Release the store's resources (called by a MigrationTransport that owns the store). */
  close?(): Promise<void>;
}

/**
 * The in-process claim window: remembers the owner of the last `capacity` messages (oldest
 * forgotten first). The window must cover the lag between a message's two copies; with several
 * consumer processes, use a shared store instead. Concurrency: synchronous map operations.
 */
export class InProcessMigrationClaims implements MigrationClaims {
  readonly #owners = new Map<string, MigrationSide>();
  readonly #capacity: number;

  /** @param capacity messages remembered (default 100 000). */
  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  claim(group: string, id: string, side: MigrationSide): Promise<MigrationSide> {
    const key = `${group}\u0000${id}`;
    const owner = this.#owners.get(key);
    if (owner !== undefined) return Promise.resolve(owner);
    this.#owners.set(key, side);
    if (this.#owners.size > this.#capacity) {
      const oldest = this.#owners.keys().next();
      if (oldest.done !== true) this.#owners.delete(oldest.value);
    }
    return Promise.resolve(side);
  }
}
