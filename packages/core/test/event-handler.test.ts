import { expect } from 'chai';
import {
  defineEvent,
  EventHandler,
  HANDLER_METADATA,
  readHandlerMetadata,
  resolveHandlerOptions,
  type HandlerContext,
} from '../src/index.js';

const Placed = defineEvent<{ id: string }>('test.decorator.placed.v1');
const Cancelled = defineEvent<{ id: string }>('test.decorator.cancelled.v1');

class Billing {
  @EventHandler(Placed, { group: 'billing', concurrency: 4 })
  async onPlaced(_payload: { id: string }, _context: HandlerContext): Promise<void> {}

  @EventHandler(Placed, { group: 'audit' })
  @EventHandler(Cancelled, { group: 'audit' })
  onAny(_payload: { id: string }): void {}
}

class ExtendedBilling extends Billing {
  @EventHandler(Cancelled, { group: 'billing' })
  async onCancelled(): Promise<void> {}
}

describe('@EventHandler', () => {
  it('records metadata on the class under a Symbol.for key, in declaration order', () => {
    const metadata = readHandlerMetadata(Billing);
    expect(metadata.map((m) => [m.methodName, m.event.name, m.options.group])).to.deep.equal([
      ['onPlaced', Placed.name, 'billing'],
      ['onAny', Cancelled.name, 'audit'],
      ['onAny', Placed.name, 'audit'],
    ]);
    expect((Billing as unknown as Record<symbol, unknown>)[Symbol.for('omnibus.event-handlers')]).to.equal(
      metadata,
    );
    expect(HANDLER_METADATA).to.equal(Symbol.for('omnibus.event-handlers'));
  });

  it('inherits handlers without mutating the parent class', () => {
    expect(readHandlerMetadata(ExtendedBilling)).to.have.length(4);
    expect(readHandlerMetadata(Billing)).to.have.length(3);
  });

  it('type-checks the payload parameter against the event (compile-time)', () => {
    class Wrong {
      // @ts-expect-error the payload type does not match the event's
      @EventHandler(Placed, { group: 'g' })
      on(_payload: number): void {}
    }
    expect(readHandlerMetadata(Wrong)).to.have.length(1);
  });

  it('returns [] for undecorated classes and records static methods for later rejection', () => {
    class Plain {}
    class WithStatic {
      @EventHandler(Placed, { group: 'g' })
      static handle(): void {}
    }
    expect(readHandlerMetadata(Plain)).to.deep.equal([]);
    expect(readHandlerMetadata(WithStatic)[0]?.isStatic).to.equal(true);
  });
});

describe('resolveHandlerOptions', () => {
  it('applies handler options, then bus defaults, then built-in defaults', () => {
    const result = resolveHandlerOptions(
      { concurrency: 2, retry: { maxAttempts: 2 } },
      { group: 'svc', retry: { initialDelayMs: 50 }, timeoutMs: 1000 },
    );
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    expect(result.options).to.deep.include({
      group: 'svc',
      concurrency: 2,
      ordered: false,
      timeoutMs: 1000,
      deadLetter: true,
    });
    expect(result.options.retry).to.deep.equal({
      maxAttempts: 2,
      initialDelayMs: 50,
      multiplier: 2,
      maxDelayMs: 30_000,
      jitter: 0.2,
    });
  });

  it('collects every problem', () => {
    const result = resolveHandlerOptions({
      concurrency: 0,
      timeoutMs: -1,
      retry: { jitter: 3 },
      ordered: 'yes' as unknown as boolean,
      colour: 'red',
    } as never);
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.problems).to.include('no consumer group');
    expect(result.problems.join('\n')).to.contain('concurrency must be an integer ≥ 1, got 0');
    expect(result.problems.join('\n')).to.contain('timeoutMs must be a number > 0');
    expect(result.problems.join('\n')).to.contain('retry.jitter must be a number in [0, 1]');
    expect(result.problems.join('\n')).to.contain('ordered must be a boolean');
    expect(result.problems.join('\n')).to.contain('unknown option "colour"');
  });

  it('rejects group names with illegal characters', () => {
    const result = resolveHandlerOptions({ group: 'my group' });
    expect(!result.ok && result.problems[0]).to.contain('may only contain');
  });
});
