// One saga ledger consumer process: the fulfilment saga (PostgreSQL store + outbox), the other
// services (each effect recorded in its inbox transaction, follow-up events through the outbox)
// and an outbox relay, on the configured transport. Prints "ready" once started; killed with SIGKILL.
import 'reflect-metadata';
import pg from 'pg';
import { createEventBus, InMemoryBroker } from '@omnibus/core';
import { OutboxRelay, PostgresInbox, PostgresOutbox, PostgresSagaStore } from '@omnibus/outbox-postgres';
import { SagaHost } from '@omnibus/saga';
import { fulfilmentServices } from '../../src/fulfilment.js';
import { transportFor } from '../support.js';
import { ledgerFlow, type SagaLedgerSettings } from './ledger-settings.js';

const settings = JSON.parse(process.argv[2] ?? '{}') as SagaLedgerSettings;
const pool = new pg.Pool({ connectionString: settings.url, max: 12 });
pool.on('error', () => undefined);
const outbox = new PostgresOutbox({ schema: settings.schema });
const inbox = new PostgresInbox({ pool, schema: settings.schema });
const { events: e, saga } = ledgerFlow(settings);
const sagas = new SagaHost({ sagas: [saga], store: new PostgresSagaStore({ pool, outbox }) });
// Counted by the test from the log: version conflicts and messages a saga had applied already.
sagas.on('saga.conflict', (c) =>
  console.error(`saga-conflict ${c.id} ${c.step} v${String(c.expectedVersion)}`),
);
sagas.on('saga.ignored', (i) => {
  if (i.reason === 'duplicate') console.error(`saga-duplicate ${i.id} ${i.step}`);
});
const services = fulfilmentServices(
  e,
  {
    publish: (event, payload) => outbox.publish(inbox.transaction(), event, payload),
    record: async (kind, orderId) => {
      await inbox
        .transaction()
        .query(`INSERT INTO "${settings.schema}".ledger_effects (kind, order_id) VALUES ($1, $2)`, [
          kind,
          orderId,
        ]);
    },
  },
  `sagaledger-${settings.run}`,
  [inbox.middleware()],
);
const bus = createEventBus({
  transport: transportFor(settings.transport, new InMemoryBroker()),
  events: [...sagas.events, e.PaymentSucceeded, e.ShipmentDispatched],
  handlers: [...sagas.handlers, ...services],
});
sagas.attach(bus);
await bus.start();
const relay = new OutboxRelay({ bus, pool, schema: settings.schema, pollIntervalMs: 200 });
relay.on('error', ({ error }) => console.error('relay error', error));
relay.start();
console.log('ready');
