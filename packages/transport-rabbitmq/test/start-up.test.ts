import { expect } from 'chai';
import { startAgainstUnreachableBroker } from '@omnibus/contract-tests';

// Nothing listens on port 1: start-up must fail loudly and within the documented connect timeout.
const CONNECT_TIMEOUT_MS = 10_000; // the documented default (docs/transports)
const PROCESS_OVERHEAD_MS = 5_000; // starting Node and importing the SDK on a loaded machine

describe('rabbitmq start-up with the broker unreachable', () => {
  it('a top-level-await bus.start() rejects with CONNECTION_FAILED within the connect timeout, never exiting silently', function () {
    this.timeout(90_000);
    const result = startAgainstUnreachableBroker(
      { OMNIBUS_TRANSPORT: 'rabbitmq', OMNIBUS_RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:1' },
      { cwd: new URL('../..', import.meta.url) },
    );
    expect(result.stdout, 'nothing started').to.equal('');
    expect(result.status, `exit code (13 = start() never settled); stderr: ${result.stderr}`).to.equal(1);
    expect(result.stderr).to.contain("code: 'CONNECTION_FAILED'");
    expect(result.elapsedMs, 'RabbitMQ start-up failure time').to.be.below(
      CONNECT_TIMEOUT_MS + PROCESS_OVERHEAD_MS,
    );
  });
});
