import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeTransportContract } from '@omnibus/contract-tests';
import { openTelemetryHarness } from '@omnibus/contract-tests/telemetry';
import { parseSqsOptions, sqsCapabilities, SqsTransport } from '../src/index.js';
import {
  cleanUp,
  deadLetterReader,
  foreignPublisher,
  testOptions,
  type SqsTestConfig,
} from './support/sqs-test-env.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const childTransportModule = fileURLToPath(new URL('./support/child-transport.js', import.meta.url));

/** Stop and start ElasticMQ keeping its data (queue metadata and messages are persisted). */
async function restartElasticMq(): Promise<void> {
  await run(process.execPath, ['scripts/brokers/cli.mjs', 'restart', 'sqs'], {
    cwd: repoRoot,
    timeout: 120_000,
  });
}

function contract(config: SqsTestConfig, name: string, runFaultCases: boolean): void {
  const options = testOptions(config);
  describeTransportContract({
    name,
    version,
    capabilities: sqsCapabilities(parseSqsOptions(options)),
    createTransport: () => new SqsTransport(options),
    readDeadLetters: deadLetterReader(config, options),
    publishForeign: foreignPublisher(config, options),
    foreignBodies: 'text',
    runFaultCases,
    // The volume case runs once per transport: in the SNS configuration, the one with fan-out.
    ...(config === 'sns' ? {} : { volume: { messages: 0 } }),
    publishTimeoutMs: parseSqsOptions(options).publishTimeoutMs,
    telemetry: openTelemetryHarness(),
    ...(runFaultCases ? { faults: { restartBroker: restartElasticMq, childTransportModule } } : {}),
  });
}

describe('SQS transport contract', function () {
  after(async () => {
    await cleanUp('standard');
    await cleanUp('sns');
  });
  contract('standard', 'sqs (standard queues, ElasticMQ)', true);
  contract('fifo', 'sqs (FIFO queues, ElasticMQ)', false);
  contract('sns', 'sqs (SNS fan-out, fauxqs)', false);
  // Opt-in (keeps the default run lean): FIFO topics fanning out to FIFO queues.
  if (process.env.OMNIBUS_SQS_CONTRACT_FIFO_SNS === '1')
    contract('sns-fifo', 'sqs (FIFO SNS fan-out, fauxqs)', false);
});
