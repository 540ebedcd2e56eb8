// Starts a ledger child (app, relay or consumer), waits for its "ready" line, SIGKILLs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LedgerSettings } from './ledger-config.js';

export type LedgerRole = 'app' | 'relay' | 'consumer';

export class LedgerProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  kills = 0;

  constructor(
    readonly role: LedgerRole,
    readonly settings: () => LedgerSettings,
    readonly logFile: string,
  ) {}

  /** Spawn and resolve once the child printed `ready` (its bus started, if it has one). */
  async start(): Promise<void> {
    const script = fileURLToPath(new URL(`./ledger-${this.role}.js`, import.meta.url));
    const child = spawn(process.execPath, [script, JSON.stringify(this.settings())], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    child.stderr?.pipe(log);
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`ledger ${this.role} not ready within 90 s (log ${this.logFile})`)),
        90_000,
      );
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `ledger ${this.role} exited (${String(code ?? signal)}) before ready (log ${this.logFile})`,
          ),
        );
      });
    });
  }

  /** SIGKILL (no cleanup, no graceful close) and wait for the exit. */
  async kill(): Promise<void> {
    if (this.#child === undefined || this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGKILL');
    this.kills += 1;
    await this.#exited;
  }

  /** SIGKILL, then start again. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }
}
