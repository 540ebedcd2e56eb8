import { expect } from 'chai';
import {
  childTraceparent,
  composeMiddleware,
  ConsoleLogger,
  currentHandlerContext,
  defineEvent,
  formatTraceparent,
  noopLogger,
  parseTraceparent,
  redactSecrets,
  timeoutMiddleware,
  correlationMiddleware,
  type MiddlewareContext,
} from '../src/index.js';

describe('traceparent', () => {
  const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('parses valid headers and rejects malformed or all-zero ones', () => {
    expect(parseTraceparent(valid)).to.deep.equal({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentId: '00f067aa0ba902b7',
      flags: '01',
    });
    expect(formatTraceparent(parseTraceparent(valid) ?? { traceId: '', parentId: '', flags: '' })).to.equal(
      valid,
    );
    for (const bad of [
      undefined,
      '',
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    ]) {
      expect(parseTraceparent(bad), String(bad)).to.equal(undefined);
    }
  });

  it('creates a child with the same trace id and a new span id, or a new sampled trace', () => {
    const child = parseTraceparent(childTraceparent(valid));
    expect(child?.traceId).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child?.parentId).to.not.equal('00f067aa0ba902b7');
    expect(child?.flags).to.equal('01');
    const fresh = parseTraceparent(childTraceparent(undefined));
    expect(fresh?.flags).to.equal('01');
    expect(fresh?.traceId).to.have.length(32);
  });
});

describe('ConsoleLogger', () => {
  it('writes JSON lines with secrets redacted at any depth and URL passwords masked', () => {
    const lines: string[] = [];
    const logger = new ConsoleLogger({ level: 'debug', write: (_level, line) => lines.push(line) });
    logger.info('connecting to amqp://guest:hunter2@localhost:5672', {
      password: 'p',
      options: { url: 'amqp://u:s3cret@h', accessKey: 'AK', region: 'eu' },
      list: [{ token: 't' }],
    });
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(entry['message']).to.equal('connecting to amqp://guest:***@localhost:5672');
    expect(entry['password']).to.equal('***');
    expect(entry['options']).to.deep.equal({ url: 'amqp://u:***@h', accessKey: '***', region: 'eu' });
    expect(entry['list']).to.deep.equal([{ token: '***' }]);
    expect(lines.join('')).to.not.match(/hunter2|s3cret|AK"/);
  });

  it('filters by level and never throws on unserialisable fields or a failing writer', () => {
    const lines: string[] = [];
    const logger = new ConsoleLogger({ level: 'warn', write: (_level, line) => lines.push(line) });
    logger.info('hidden');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    logger.warn('cyclic', { cyclic, big: 1n });
    expect(lines).to.have.length(1);
    new ConsoleLogger({
      write: () => {
        throw new Error('disk full');
      },
    }).error('x');
    noopLogger.error('ignored');
    expect(redactSecrets(new Error('amqp://a:b@c'))).to.deep.equal({
      name: 'Error',
      message: 'amqp://a:***@c',
    });
  });
});

describe('middleware', () => {
  const context = (): MiddlewareContext => ({
    envelope: {
      id: 'm',
      type: 't',
      payload: new Uint8Array(),
      contentType: 'application/json',
      headers: {},
      occurredAt: new Date(),
    },
    event: defineEvent('t'),
    deliveryAttempt: 1,
    maxAttempts: 1,
    destination: 'd',
    group: 'g',
    receivedAt: new Date(),
    handler: 'H.m',
    traceparent: childTraceparent(undefined),
    signal: new AbortController().signal,
    logger: noopLogger,
    payload: 1,
  });

  it('rejects a middleware calling next() twice', async () => {
    const run = composeMiddleware(
      [
        async (_c, next) => {
          await next();
          await next();
        },
      ],
      () => Promise.resolve(),
    );
    let error: unknown;
    await run(context()).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal('middleware called next() more than once');
  });

  it('correlation middleware exposes the context to everything downstream', async () => {
    const ctx = context();
    let seen: unknown;
    await composeMiddleware([correlationMiddleware()], async () => {
      await Promise.resolve();
      seen = currentHandlerContext();
    })(ctx);
    expect(seen).to.equal(ctx);
    expect(currentHandlerContext()).to.equal(undefined);
  });

  it('timeout middleware fails fast when the incoming signal aborts', async () => {
    const controller = new AbortController();
    const ctx = { ...context(), signal: controller.signal };
    const run = composeMiddleware([timeoutMiddleware(10_000)], () => new Promise(() => undefined));
    const pending = run(ctx);
    controller.abort(new Error('stopping'));
    let error: unknown;
    await pending.catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal('stopping');
    expect(ctx.signal.aborted).to.equal(true);
  });
});
