import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino, type Logger as PinoLogger } from 'pino';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  isPinoLike,
  noopLogger,
  pinoLogger,
  ConsoleLogger,
} from '../src/index.js';
import { waitFor } from '../src/testing/index.js';

function capture(): { logger: PinoLogger<never>; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('pino logging', () => {
  it('pinoLogger writes structured fields with pino (fields, message) order and redacts secrets like ConsoleLogger', () => {
    const { logger, lines } = capture();
    const fields = {
      messageId: 'm-1',
      attempt: 2,
      password: 'hunter2',
      options: {
        url: 'amqp://user:s3cret@broker:5672',
        connectionString: 'Endpoint=sb://x;SharedAccessKey=abc',
        region: 'eu',
      },
      nested: [{ apiKey: 'k-123' }],
    };
    pinoLogger(logger).warn('handler failed', fields);
    const [line] = lines();
    expect(line).to.deep.include({
      msg: 'handler failed',
      messageId: 'm-1',
      attempt: 2,
      password: '***',
      level: 40,
    });
    expect(line?.options).to.deep.equal({
      url: 'amqp://user:***@broker:5672',
      connectionString: '***',
      region: 'eu',
    });
    expect(line?.nested).to.deep.equal([{ apiKey: '***' }]);
    const text = JSON.stringify(lines());
    for (const secret of ['hunter2', 's3cret', 'SharedAccessKey=abc', 'k-123'])
      expect(text).to.not.contain(secret);
    // Same redaction as the console logger.
    const consoleLines: string[] = [];
    new ConsoleLogger({ write: (_l, l) => consoleLines.push(l) }).warn('handler failed', fields);
    const consoleLine = JSON.parse(consoleLines[0] ?? '{}') as Record<string, unknown>;
    expect(consoleLine.options).to.deep.equal(line?.options);
  });

  it('the bus accepts a pino logger as it is: its own lines arrive structured, with secrets redacted', async () => {
    const { logger, lines } = capture();
    expect(isPinoLike(logger)).to.equal(true);
    expect(isPinoLike(noopLogger)).to.equal(false);
    const Job = defineEvent<{ token: string }>(`pino.job.${String(process.pid)}`);
    let attempts = 0;
    class Handler {
      @EventHandler(Job, {
        group: 'g',
        retry: { maxAttempts: 2, initialDelayMs: 1, multiplier: 1, maxDelayMs: 1, jitter: 0 },
      })
      on(): void {
        if (++attempts === 1)
          throw Object.assign(new Error('db down at postgres://app:pa55@db/x'), { code: 'E1' });
      }
    }
    const bus = createEventBus({
      transport: new InMemoryTransport({ broker: new InMemoryBroker() }),
      handlers: [Handler],
      logger,
    });
    await bus.start();
    await bus.publish(Job, { token: 'tok-secret' });
    await waitFor(() => attempts === 2);
    await bus.stop();
    const all = lines();
    const failed = all.find((l) => l.msg === 'handler failed');
    expect(failed).to.deep.include({ handler: 'Handler.on', type: Job.name, attempt: 1, level: 40 });
    expect(failed?.error).to.deep.include({ message: 'db down at postgres://app:***@db/x', code: 'E1' });
    expect(all.some((l) => l.msg === 'bus started' && l.transport === 'in-memory')).to.equal(true);
    expect(JSON.stringify(all)).to.not.contain('pa55');
  });
});
