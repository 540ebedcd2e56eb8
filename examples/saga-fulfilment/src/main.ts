// The fulfilment saga demo: four orders on the transport named by OMNIBUS_TRANSPORT (default
// in-memory, local brokers otherwise); even-numbered orders are paid and ship, odd ones time out
// and are compensated. Exits 1 if any instance ends otherwise.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createEventBus, type EventBus } from '@omnibus/core';
import { SagaHost } from '@omnibus/saga';
import { fulfilmentEvents, fulfilmentSaga, fulfilmentServices, type FulfilmentState } from './fulfilment.js';
import { transportFor } from './local-transports.js';

const transport = process.env['OMNIBUS_TRANSPORT'] ?? 'in-memory';
const run = randomBytes(2).toString('hex');
const e = fulfilmentEvents(`saga-demo.${run}`);
const saga = fulfilmentSaga(`saga-demo.${run}.fulfilment`, e, 1500);
const sagas = new SagaHost({ sagas: [saga] });
const bus: EventBus = createEventBus({
  transport: transportFor(transport),
  events: [...sagas.events, e.PaymentSucceeded, e.ShipmentDispatched],
  handlers: [
    ...sagas.handlers,
    ...fulfilmentServices(
      e,
      { publish: (event, payload) => bus.publish(event, payload), record: () => undefined },
      `saga-demo-${run}`,
    ),
  ],
});
sagas.attach(bus);
sagas.on('saga.transition', (t) =>
  console.log(
    `  ${t.id.padEnd(8)} ${t.step.replace(`saga-demo.${run}.`, '').padEnd(20)} ${t.from} → ${t.to}`,
  ),
);
console.log(`Fulfilment saga on "${transport}" (run ${run})\n`);
await bus.start();
const orders = ['order-0', 'order-1', 'order-2', 'order-3'];
for (const [i, orderId] of orders.entries())
  await bus.publish(e.OrderPlaced, { orderId, amountCents: 1000 + i });
const deadline = Date.now() + 60_000;
while ((await sagas.find({ saga: saga.name, status: ['completed', 'compensated'] })).length < orders.length) {
  if (Date.now() > deadline) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await bus.stop();
console.log('\nInstances:');
let wrong = 0;
for (const orderId of orders) {
  const instance = await sagas.get(saga.name, orderId);
  const state = instance?.state as FulfilmentState | undefined;
  const expected = Number(orderId.split('-')[1]) % 2 === 0 ? 'completed' : 'compensated';
  if (instance?.status !== expected) wrong += 1;
  console.log(
    `  ${orderId}: ${instance?.status ?? 'missing'} (${instance?.reason ?? '-'}), steps ${state?.steps.join(' → ') ?? '-'}`,
  );
}
if (wrong > 0) {
  console.error(`\n${String(wrong)} instance(s) did not end as expected`);
  process.exitCode = 1;
}
