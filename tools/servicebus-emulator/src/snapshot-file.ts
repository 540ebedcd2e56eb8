import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EntitySnapshot } from './entity-store.js';

/** Reads a snapshot file; undefined when the file does not exist. Throws on a corrupt file. */
export function readSnapshot(path: string): EntitySnapshot | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<EntitySnapshot>;
  if (parsed.version !== 1 || !Array.isArray(parsed.queues) || !Array.isArray(parsed.topics)) {
    throw new Error(`${path} is not an emulator state snapshot (version 1)`);
  }
  return parsed as EntitySnapshot;
}

/**
 * Writes snapshots of the entity store to a file: on demand, and every `intervalMs` while the
 * store has changed since the last write. Writes are synchronous (so a snapshot is never taken
 * while messages move) and atomic (temporary file, then rename), so a crash leaves the previous
 * complete snapshot.
 */
export class SnapshotWriter {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly take: () => EntitySnapshot,
    private readonly intervalMs: number,
    private readonly log: (event: string) => void,
  ) {}

  /** Notes that the store changed. */
  markDirty(): void {
    this.dirty = true;
  }

  /** Starts periodic writes. */
  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.dirty) this.writeNow();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Writes a snapshot now. Errors are logged, not thrown. */
  writeNow(): boolean {
    this.dirty = false;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.take()));
      renameSync(tmp, this.path);
      return true;
    } catch (error) {
      this.dirty = true;
      this.log(`state snapshot to ${this.path} failed: ${(error as Error).message}`);
      return false;
    }
  }

  /** Stops periodic writes. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
