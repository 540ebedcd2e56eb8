import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createEventBus, type EventBus } from '@omnibus/core';
import { MessageSpy, waitFor } from '@omnibus/core/testing';
import { PaymentRequested, config, control } from './fixtures/payments-config.js';
import { runBin } from './support/run-bin.js';
import { fileURLToPath } from 'node:url';
import { RabbitMqTransport } from '@omnibus/transport-rabbitmq';

const PAYMENTS_CONFIG = fileURLToPath(new URL('./fixtures/payments-config.js', import.meta.url));

/** Each broker's environment for the bin (exactly what an operator would export) and a unique prefix. */
const BROKERS: Readonly<Record<string, (prefix: string) => Record<string, string>>> = {
  rabbitmq: (prefix) => ({
    OMNIBUS_TRANSPORT: 'rabbitmq',
    OMNIBUS_RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
    OMNIBUS_RABBITMQ_PREFIX: prefix,
    // Classic queues: nothing left behind weighs on a broker restart (quorum queues recover one by one).
    OMNIBUS_RABBITMQ_QUEUE_TYPE: 'classic',
  }),
  sqs: (prefix) => ({
    OMNIBUS_TRANSPORT: 'sqs',
    OMNIBUS_SQS_ENDPOINT: 'http://127.0.0.1:9324',
    OMNIBUS_SQS_REGION: 'us-east-1',
    OMNIBUS_SQS_ACCESS_KEY_ID: 'local',
    OMNIBUS_SQS_SECRET_ACCESS_KEY: 'local',
    OMNIBUS_SQS_FAN_OUT: 'none',
    OMNIBUS_SQS_WAIT_TIME_SECONDS: '1',
    OMNIBUS_SQS_QUEUE_PREFIX: `${prefix.replace(/[^A-Za-z0-9_-]/g, '-')}-`,
  }),
  kafka: (prefix) => ({
    OMNIBUS_TRANSPORT: 'kafka',
    OMNIBUS_KAFKA_BROKERS: '127.0.0.1:9092',
    OMNIBUS_KAFKA_TOPIC_PREFIX: `${prefix}.`,
    OMNIBUS_KAFKA_PARTITIONS: '1',
  }),
  azure: (prefix) => ({
    OMNIBUS_TRANSPORT: 'azure',
    OMNIBUS_AZURE_CONNECTION_STRING:
      'Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;',
    OMNIBUS_AZURE_PROVISIONING: 'emulator',
    OMNIBUS_AZURE_PREFIX: `${prefix}.`,
  }),
  nats: (prefix) => ({
    OMNIBUS_TRANSPORT: 'nats',
    OMNIBUS_NATS_SERVERS: 'nats://127.0.0.1:4222',
    OMNIBUS_NATS_PREFIX: prefix,
  }),
};

/** The transport options the same environment yields (for the in-test bus that produces dead letters). */
function optionsFrom(env: Record<string, string>, name: string): Record<string, unknown> {
  const prefix = `OMNIBUS_${name.toUpperCase()}_`;
  return Object.fromEntries(
    Object.entries(env)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [
        key
          .slice(prefix.length)
          .toLowerCase()
          .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
        value,
      ]),
  );
}

for (const [name, envFor] of Object.entries(BROKERS)) {
  describe(`omnibus CLI against ${name}`, function () {
    this.timeout(120_000);
    const env = envFor(`omnibus-cli-${randomBytes(3).toString('hex')}`);
    const destination = PaymentRequested.name;
    const where = ['--destination', destination, '--group', 'payments'];
    let bus: EventBus | undefined;

    after(async function () {
      await bus?.stop({ drainTimeoutMs: 1_000 });
      control.failing = true;
      control.handled.length = 0;
      if (name === 'rabbitmq') await deleteRabbitMqTopology(optionsFrom(env, name));
    });

    it('topology apply provisions what the handlers need; topology plan then shows it in place', async function () {
      const apply = await runBin(['topology', 'apply', '--config', PAYMENTS_CONFIG], { env });
      expect(apply.code, apply.stdout + apply.stderr).to.equal(0);
      const plan = await runBin(['topology', 'plan', '--config', PAYMENTS_CONFIG], { env });
      expect(plan.code, plan.stderr).to.equal(0);
      expect(plan.stdout).to.contain(destination);
      // Every broker transport inspects its topology, so the plan is compared with the broker.
      expect(plan.stdout).to.contain('0 to create, 3 in place');
    });

    it('dlq list, show, replay (confirmed, with progress) and purge work on the native dead-letter destination', async function () {
      bus = createEventBus({ ...config, transport: { name, options: optionsFrom(env, name) } });
      const spy = new MessageSpy(bus);
      await bus.start();
      const ids = ['p-1', 'p-2', 'p-3'];
      await bus.publish(
        PaymentRequested,
        { paymentId: 'p-1', failure: 'PROVIDER_DOWN' },
        { id: ids[0] as string },
      );
      await bus.publish(
        PaymentRequested,
        { paymentId: 'p-2', failure: 'PROVIDER_DOWN' },
        { id: ids[1] as string },
      );
      await bus.publish(
        PaymentRequested,
        { paymentId: 'p-3', failure: 'CARD_DECLINED' },
        { id: ids[2] as string },
      );
      for (const id of ids) await spy.waitFor({ id, outcome: 'dead-lettered' }, { timeoutMs: 30_000 });

      const doctor = await runBin(['doctor', '--config', PAYMENTS_CONFIG], { env });
      expect(doctor.code, doctor.stdout + doctor.stderr).to.equal(0);
      expect(doctor.stdout).to.contain(`3 dead letter(s) in ${destination}/payments`);

      const list = await runBin(['dlq', 'list', ...where], { env });
      expect(list.code, list.stderr).to.equal(0);
      expect(list.stdout).to.contain('3 dead letter(s)');
      const declined = await runBin(['dlq', 'list', ...where, '--code', 'CARD_DECLINED', '--json'], { env });
      expect((JSON.parse(declined.stdout) as { id: string }[]).map((r) => r.id)).to.deep.equal(['p-3']);

      const show = await runBin(['dlq', 'show', ...where, '--id', 'p-1'], { env });
      const [shown] = JSON.parse(show.stdout) as {
        id: string;
        payload: string;
        reason: { code: string; message: string };
      }[];
      expect(shown?.reason).to.include({ code: 'PROVIDER_DOWN', message: 'payment p-1 failed' });
      expect(JSON.parse(shown?.payload ?? '{}')).to.deep.equal({
        paymentId: 'p-1',
        failure: 'PROVIDER_DOWN',
      });

      const refused = await runBin(['dlq', 'replay', ...where, '--code', 'PROVIDER_DOWN'], {
        env,
        input: 'n\n',
      });
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.contain('Replay 2 dead letter(s)');
      expect(refused.stderr).to.contain('aborted: nothing replayed');
      const dry = await runBin(['dlq', 'replay', ...where, '--code', 'PROVIDER_DOWN', '--dry-run'], { env });
      expect(dry.stdout, dry.stderr).to.contain('would replay 2 dead letter(s)');
      expect(control.handled, 'nothing replayed yet').to.deep.equal([]);

      control.failing = false;
      const replay = await runBin(['dlq', 'replay', ...where, '--code', 'PROVIDER_DOWN'], {
        env,
        input: 'y\n',
      });
      expect(replay.code, replay.stdout + replay.stderr).to.equal(0);
      expect(replay.stdout).to.match(/replayed 2 dead letter\(s\) of .*: p-[12], p-[12]/);
      expect(replay.stderr).to.contain('2/2 replayed');
      await waitFor(() => control.handled.length >= 2, { timeoutMs: 30_000 });
      expect(control.handled.map((h) => `${h.id}:${String(h.replayCount)}`).sort()).to.deep.equal([
        'p-1:1',
        'p-2:1',
      ]);

      const rest = await runBin(['dlq', 'list', ...where, '--json'], { env });
      expect((JSON.parse(rest.stdout) as { id: string }[]).map((r) => r.id)).to.deep.equal(['p-3']);
      const purge = await runBin(['dlq', 'purge', ...where, '--yes'], { env });
      expect(purge.code, purge.stderr).to.equal(0);
      expect(purge.stdout).to.contain('purged 1 dead letter(s)');
      const empty = await runBin(['dlq', 'list', ...where], { env });
      expect(empty.stdout).to.contain('0 dead letter(s)');
    });
  });
}

/** Delete the exchanges and queues the RabbitMQ run created (their names come from the adapter). */
async function deleteRabbitMqTopology(options: Record<string, unknown>): Promise<void> {
  const transport = new RabbitMqTransport(options);
  await transport.connect();
  const model = transport.raw();
  if (model === undefined) return;
  const channel = await model.createChannel();
  const names = transport.names;
  const destination = PaymentRequested.name;
  try {
    await channel.deleteQueue(names.groupQueue(destination, 'payments'));
    await channel.deleteQueue(names.deadLetterQueue(destination, 'payments'));
    await channel.deleteExchange(names.destinationExchange(destination));
    for (const tier of transport.options.delayTiersMs) {
      await channel.deleteQueue(names.delayQueue(tier));
      await channel.deleteExchange(names.delayExchange(tier));
    }
    await channel.deleteExchange(names.redeliverExchange());
    await channel.deleteQueue(names.subscribersQueue());
    await channel.deleteExchange(names.subscribersExchange());
  } finally {
    await channel.close().catch(() => undefined);
    await transport.close(0);
  }
}
