import { expect } from 'chai';
import { defineEvent, EventBus, EventHandler, type HandlerContext } from '../src/index.js';
import { IdempotencyViolation, proveIdempotent, type IdempotencyApp } from '../src/testing/index.js';

interface Deposit {
  readonly account: string;
  readonly cents: number;
}
const Deposited = defineEvent<Deposit>('idem.deposited.v1');
const Credited = defineEvent<Deposit>('idem.credited.v1');

interface Ledger {
  readonly balances: Map<string, number>;
  readonly notices: string[];
  /** Message ids already applied (an in-process inbox: recorded in the same step as the effect). */
  readonly inbox: Set<string>;
}

const newLedger = (): Ledger => ({ balances: new Map(), notices: [], inbox: new Set() });

/** Adds every deposit, then announces it: a duplicate adds twice. */
function naiveApp(): IdempotencyApp<unknown> {
  const ledger = newLedger();
  let bus: EventBus | undefined;
  class Accounts {
    @EventHandler(Deposited, { group: 'accounts' })
    async deposited(deposit: Deposit): Promise<void> {
      ledger.balances.set(deposit.account, (ledger.balances.get(deposit.account) ?? 0) + deposit.cents);
      await bus?.publish(Credited, deposit);
    }
  }
  class Notices {
    @EventHandler(Credited, { group: 'notices' })
    credited(deposit: Deposit, context: HandlerContext): void {
      const key = `notice:${context.envelope.causationId ?? ''}`;
      if (ledger.inbox.has(key)) return;
      ledger.inbox.add(key);
      ledger.notices.push(`${deposit.account} +${String(deposit.cents)}`);
    }
  }
  return appOf(ledger, [Accounts, Notices], (b) => (bus = b));
}

/** The same, with the balance update recorded against the message id (inbox) first. */
function inboxApp(): IdempotencyApp<unknown> {
  const ledger = newLedger();
  let bus: EventBus | undefined;
  class Accounts {
    @EventHandler(Deposited, { group: 'accounts' })
    async deposited(deposit: Deposit, context: HandlerContext): Promise<void> {
      if (!ledger.inbox.has(context.envelope.id)) {
        ledger.inbox.add(context.envelope.id);
        ledger.balances.set(deposit.account, (ledger.balances.get(deposit.account) ?? 0) + deposit.cents);
      }
      // Follow-up events are re-sent on a redelivery (at-least-once): the consumer dedupes them.
      await bus?.publish(Credited, deposit, { id: `credited-${context.envelope.id}` });
    }
  }
  class Notices {
    @EventHandler(Credited, { group: 'notices' })
    credited(deposit: Deposit, context: HandlerContext): void {
      if (ledger.inbox.has(context.envelope.id)) return;
      ledger.inbox.add(context.envelope.id);
      ledger.notices.push(`${deposit.account} +${String(deposit.cents)}`);
    }
  }
  return appOf(ledger, [Accounts, Notices], (b) => (bus = b));
}

function appOf(
  ledger: Ledger,
  handlers: (new () => object)[],
  onBus: (bus: EventBus) => void,
): IdempotencyApp<unknown> {
  return {
    config: { handlers },
    bind: onBus,
    state: () => ({
      balances: [...ledger.balances].sort(),
      notices: [...ledger.notices].sort(),
    }),
  };
}

const deposits = async (bus: EventBus): Promise<void> => {
  for (const [account, cents] of [
    ['ada', 100],
    ['bob', 50],
    ['ada', 25],
  ] as const)
    await bus.publish(Deposited, { account, cents }, { partitionKey: account });
};

describe('proveIdempotent', () => {
  it('catches a handler that applies a duplicate twice and shrinks the schedule to one fault', async () => {
    const error = await proveIdempotent({ app: naiveApp, input: deposits, seed: 7 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(IdempotencyViolation);
    const violation = error as IdempotencyViolation;
    const faulty = violation.details.deliveries.filter((d) => d.fault !== 'none' || d.pick > 0);
    expect(faulty).to.have.length(1);
    expect(faulty[0]?.type).to.equal(Deposited.name);
    expect(violation.message).to.contain('a handler is not idempotent');
    expect(violation.message).to.contain('◀');
    expect(violation.details.expected).to.deep.equal({
      balances: [
        ['ada', 125],
        ['bob', 50],
      ],
      notices: ['ada +100', 'ada +25', 'bob +50'],
    });
  });

  it('passes once the handler records each message id with its effect', async () => {
    const report = await proveIdempotent({ app: inboxApp, input: deposits, seed: 7, schedules: 40 });
    expect(report.schedules).to.equal(40);
    expect(report.faults.duplicate).to.be.greaterThan(0);
    expect(report.faults['ack-lost']).to.be.greaterThan(0);
    expect(report.faults.crash).to.be.greaterThan(0);
    expect(report.reordered).to.be.greaterThan(0);
  });

  it('never reorders within a partition key, and reports an order-dependent handler on keyless messages', async () => {
    const Set_ = defineEvent<{ readonly value: number }>('idem.set.v1');
    const makeApp = (): IdempotencyApp<unknown> => {
      const seen: number[] = [];
      let last = 0;
      class Register {
        @EventHandler(Set_, { group: 'register', ordered: true })
        set(payload: { value: number }, context: HandlerContext): void {
          if (context.envelope.partitionKey === 'k') {
            if (!seen.includes(payload.value)) seen.push(payload.value);
          } else last = payload.value;
        }
      }
      return { config: { handlers: [Register] }, state: () => ({ seen: [...seen], last }) };
    };
    // Keyed: always published order, whatever the adversary does.
    await proveIdempotent({
      app: makeApp,
      input: async (bus) => {
        for (const value of [1, 2, 3, 4]) await bus.publish(Set_, { value }, { partitionKey: 'k' });
      },
      schedules: 30,
    });
    // Keyless: last-write-wins depends on an order the contract does not give.
    const error = await proveIdempotent({
      app: makeApp,
      input: async (bus) => {
        for (const value of [1, 2]) await bus.publish(Set_, { value });
      },
      schedules: 30,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(IdempotencyViolation);
    expect((error as IdempotencyViolation).message).to.contain('reordered across keys');
  });
});
