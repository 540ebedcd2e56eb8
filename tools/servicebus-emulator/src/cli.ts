#!/usr/bin/env node
import { startEmulator, type EmulatorOptions } from './emulator.js';

const USAGE = `usage: servicebus-emulator [--host 127.0.0.1] [--port 5673] [--admin-port 5674]
                          [--config <entities.json>] [--state <snapshot.json>]
                          [--snapshot-interval-ms 1000] [--max-message-size <bytes>]
                          [--allow-remote] [--quiet]`;

interface CliArgs {
  options: EmulatorOptions;
  quiet: boolean;
}

function parseArgs(argv: readonly string[]): CliArgs {
  const options: { -readonly [K in keyof EmulatorOptions]: EmulatorOptions[K] } = {};
  let quiet = false;
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const count = (text: string, flag: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer`);
    return n;
  };
  const port = (text: string, flag: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case '--host':
        options.host = value(i++, flag);
        break;
      case '--port':
        options.port = port(value(i++, flag), flag);
        break;
      case '--admin-port':
        options.adminPort = port(value(i++, flag), flag);
        break;
      case '--config':
        options.config = value(i++, flag);
        break;
      case '--state':
        options.statePath = value(i++, flag);
        break;
      case '--snapshot-interval-ms':
        options.snapshotIntervalMs = count(value(i++, flag), flag);
        break;
      case '--max-message-size':
        options.maxMessageSizeBytes = count(value(i++, flag), flag);
        break;
      case '--allow-remote':
        options.allowRemote = true;
        break;
      case '--quiet':
        quiet = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      case undefined:
      default:
        throw new Error(`unknown argument '${String(flag)}'`);
    }
  }
  return { options, quiet };
}

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`servicebus-emulator: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const log = (line: string): void => {
    if (!args.quiet) process.stdout.write(`servicebus-emulator ${new Date().toISOString()} ${line}\n`);
  };
  const emulator = await startEmulator({ ...args.options, log });
  process.stdout.write(
    `servicebus-emulator listening amqp=${emulator.host}:${emulator.amqpPort} admin=${emulator.adminUrl} pid=${process.pid}\n`,
  );
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received, stopping`);
    emulator.stop().then(
      () => {
        process.stdout.write('servicebus-emulator stopped\n');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`servicebus-emulator: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`servicebus-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
