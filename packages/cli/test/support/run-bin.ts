import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Compiled bin of this package. */
export const BIN = fileURLToPath(new URL('../../src/bin.js', import.meta.url));
/** Compiled fixture application module. */
export const SHOP_CONFIG = fileURLToPath(new URL('../fixtures/shop-config.js', import.meta.url));

/** What one run of the real `omnibus` bin printed and returned. */
export interface BinRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run the compiled `omnibus` bin in a child process (as a user would), with `env` added to a
 * clean environment (no OMNIBUS_* from the parent) and `input` piped to stdin.
 */
export function runBin(
  args: readonly string[],
  options: {
    readonly env?: Readonly<Record<string, string>>;
    readonly input?: string;
    readonly cwd?: string;
  } = {},
): Promise<BinRun> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !name.startsWith('OMNIBUS_')) env[name] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...env, ...options.env },
      cwd: options.cwd ?? process.cwd(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
