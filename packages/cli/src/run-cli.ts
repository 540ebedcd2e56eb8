import { UsageError } from './args.js';
import { problemsOf } from './app-context.js';
import type { CliIo } from './cli-io.js';
import { ASYNCAPI_USAGE, asyncapiCommand } from './commands/asyncapi.js';
import { CHECK_USAGE, checkCommand } from './commands/check.js';
import { DLQ_USAGE, dlqCommand } from './commands/dlq.js';
import { DOCTOR_USAGE, doctorCommand } from './commands/doctor.js';
import { TOPOLOGY_USAGE, topologyCommand } from './commands/topology.js';

const COMMANDS: Readonly<
  Record<string, { run: (args: readonly string[], io: CliIo) => Promise<number>; usage: string }>
> = {
  doctor: { run: doctorCommand, usage: DOCTOR_USAGE },
  check: { run: checkCommand, usage: CHECK_USAGE },
  dlq: { run: dlqCommand, usage: DLQ_USAGE },
  topology: { run: topologyCommand, usage: TOPOLOGY_USAGE },
  asyncapi: { run: asyncapiCommand, usage: ASYNCAPI_USAGE },
};

/** The full help text. */
export const USAGE = `Usage: omnibus <command> [options]

Every command loads the application's bus configuration like the bus does: the environment
(OMNIBUS_TRANSPORT, OMNIBUS_<NAME>_<OPTION>, OMNIBUS_CONFIG_FILE), a JSON file (--config x.json)
or a compiled module exporting \`config\` with handlers and events (--config dist/omnibus.config.js).

${Object.values(COMMANDS)
  .map((c) => c.usage)
  .join('\n\n')}

Exit codes: 0 success, 1 problems found or operation refused/failed, 2 usage error.`;

/**
 * Run one `omnibus` command line; resolves with the exit code. Never throws: configuration and
 * broker errors are printed with their fixes (exit 1), usage errors with the usage (exit 2).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${command.usage}`);
      return 2;
    }
    for (const p of problemsOf(error))
      io.err(`✖ [${p.code}] ${p.problem}${p.fix === undefined ? '' : `\n    fix: ${p.fix}`}`);
    return 1;
  }
}
