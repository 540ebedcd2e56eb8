// Smoke test: one message through each broker with its raw client.
//   node scripts/brokers/cli.mjs smoke [broker|all] [--restart]
// With --restart it proves persistence: publish, restart the broker (graceful stop + start with
// the same data), then consume the message published before the restart.
import { randomUUID } from 'node:crypto';
import { endpoints, expand, restart as restartBroker, up } from './index.mjs';
import { httpGet, tcpProbe } from './process-utils.mjs';

const awsCredentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- RabbitMQ (amqplib)
async function rabbitmq({ restart }) {
  const { default: amqp } = await import('amqplib');
  const id = randomUUID();
  const queues = [
    { name: `omnibus.smoke.classic.${id}`, args: {} },
    { name: `omnibus.smoke.quorum.${id}`, args: { 'x-queue-type': 'quorum' } },
  ];
  const body = `hello rabbitmq ${id}`;
  // Without 'error' listeners a broker-side close (e.g. someone else restarting the broker) would
  // crash the process instead of failing this check.
  const open = async () => {
    const c = await amqp.connect(endpoints.rabbitmq.url);
    c.on('error', () => {});
    const channel = await c.createConfirmChannel();
    channel.on('error', () => {});
    return [c, channel];
  };
  let [conn, ch] = await open();
  for (const q of queues) {
    await ch.assertQueue(q.name, { durable: true, arguments: q.args });
    ch.sendToQueue(q.name, Buffer.from(body), { persistent: true, messageId: id });
  }
  await ch.waitForConfirms();
  const details = [];
  if (restart) {
    await conn.close();
    details.push(await restartNote('rabbitmq'));
    [conn, ch] = await open();
  }
  for (const q of queues) {
    let msg = false;
    for (let i = 0; i < 50 && !msg; i++) {
      msg = await ch.get(q.name, { noAck: false });
      if (!msg) await new Promise((r) => setTimeout(r, 100));
    }
    if (!msg) throw new Error(`no message in ${q.name}`);
    if (msg.content.toString() !== body) throw new Error(`unexpected body in ${q.name}: ${msg.content}`);
    ch.ack(msg);
    await ch.deleteQueue(q.name);
  }
  await conn.close();
  return `confirm channel: published + consumed 1 persistent message on a durable classic and a quorum queue${details.join('')}`;
}

// ---------------------------------------------------------------- Kafka (kafkajs)
async function kafka({ restart }) {
  const { Kafka, logLevel } = await import('kafkajs');
  const id = randomUUID();
  const topic = `omnibus-smoke-${id}`;
  const groupId = `omnibus-smoke-group-${id}`;
  const client = () =>
    new Kafka({ clientId: 'omnibus-smoke', brokers: endpoints.kafka.brokers, logLevel: logLevel.NOTHING });
  let k = client();
  const admin = k.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = k.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: `first ${id}` }] });

  // Consume the first message with a consumer group and commit its offset explicitly.
  const consumeOne = async (kafkaClient, expected) => {
    const consumer = kafkaClient.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await new Promise((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            await consumer.commitOffsets([
              { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
            resolve(message.value.toString());
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    if (got !== expected) throw new Error(`expected "${expected}", got "${got}"`);
  };
  await consumeOne(k, `first ${id}`);
  let [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
  if (partitions[0].offset !== '1')
    throw new Error(`committed offset is ${partitions[0].offset}, expected 1`);
  let detail = 'produced, consumed with a consumer group, committed offset 1';

  if (restart) {
    // Published but not consumed before the restart; the group must resume at offset 1.
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: `second ${id}` }] });
    await producer.disconnect();
    await admin.disconnect();
    detail += await restartNote('kafka');
    k = client();
    const admin2 = k.admin();
    await admin2.connect();
    [{ partitions }] = await admin2.fetchOffsets({ groupId, topics: [topic] });
    if (partitions[0].offset !== '1')
      throw new Error(`after restart the committed offset is ${partitions[0].offset}, expected 1`);
    await consumeOne(k, `second ${id}`);
    await admin2.deleteTopics({ topics: [topic] });
    await admin2.disconnect();
    return `${detail}; after restart: committed offset kept, unconsumed message consumed`;
  }
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  return detail;
}

// ---------------------------------------------------------------- SQS (ElasticMQ)
async function sqs({ restart }) {
  const sdk = await import('@aws-sdk/client-sqs');
  const client = new sdk.SQSClient({
    endpoint: endpoints.sqs.endpoint,
    region: endpoints.sqs.region,
    credentials: awsCredentials,
  });
  const id = randomUUID();
  const QueueName = `omnibus-smoke-${id}`;
  const body = `hello sqs ${id}`;
  let { QueueUrl } = await client.send(new sdk.CreateQueueCommand({ QueueName }));
  await client.send(new sdk.SendMessageCommand({ QueueUrl, MessageBody: body }));
  let detail = '';
  if (restart) {
    detail = await restartNote('sqs');
    ({ QueueUrl } = await client.send(new sdk.GetQueueUrlCommand({ QueueName })));
  }
  const res = await client.send(
    new sdk.ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 1 }),
  );
  const msg = res.Messages?.[0];
  if (msg?.Body !== body) throw new Error(`expected "${body}", got ${JSON.stringify(msg?.Body)}`);
  await client.send(new sdk.DeleteMessageCommand({ QueueUrl, ReceiptHandle: msg.ReceiptHandle }));
  await client.send(new sdk.DeleteQueueCommand({ QueueUrl }));
  client.destroy();
  return `send/receive/delete on a standard queue${restart ? `${detail}; queue and unconsumed message survived the restart` : ''}`;
}

// ---------------------------------------------------------------- SNS -> SQS (fauxqs)
async function sns({ restart }) {
  const sqsSdk = await import('@aws-sdk/client-sqs');
  const snsSdk = await import('@aws-sdk/client-sns');
  const common = {
    endpoint: endpoints.sns.endpoint,
    region: endpoints.sns.region,
    credentials: awsCredentials,
  };
  const sqsClient = new sqsSdk.SQSClient({ ...common, useQueueUrlAsEndpoint: false });
  const snsClient = new snsSdk.SNSClient(common);
  const id = randomUUID();
  const { QueueUrl } = await sqsClient.send(
    new sqsSdk.CreateQueueCommand({ QueueName: `omnibus-smoke-${id}` }),
  );
  const { Attributes } = await sqsClient.send(
    new sqsSdk.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const { TopicArn } = await snsClient.send(new snsSdk.CreateTopicCommand({ Name: `omnibus-smoke-${id}` }));
  await snsClient.send(
    new snsSdk.SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes.QueueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  const body = `hello sns ${id}`;
  await snsClient.send(
    new snsSdk.PublishCommand({
      TopicArn,
      Message: body,
      MessageAttributes: { 'omnibus-id': { DataType: 'String', StringValue: id } },
    }),
  );
  let detail = '';
  if (restart) detail = await restartNote('sns');
  const res = await sqsClient.send(
    new sqsSdk.ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2, MessageAttributeNames: ['All'] }),
  );
  const msg = res.Messages?.[0];
  if (msg?.Body !== body) throw new Error(`expected raw body "${body}", got ${JSON.stringify(msg?.Body)}`);
  if (msg.MessageAttributes?.['omnibus-id']?.StringValue !== id) throw new Error('message attribute missing');
  await sqsClient.send(new sqsSdk.DeleteMessageCommand({ QueueUrl, ReceiptHandle: msg.ReceiptHandle }));
  await snsClient.send(new snsSdk.DeleteTopicCommand({ TopicArn }));
  await sqsClient.send(new sqsSdk.DeleteQueueCommand({ QueueUrl }));
  sqsClient.destroy();
  snsClient.destroy();
  return `SNS topic -> SQS queue (RawMessageDelivery) delivered body + message attribute${detail}`;
}

// ---------------------------------------------------------------- Azure Service Bus emulator
async function azure({ restart }) {
  let detail = '';
  if (restart) detail = await restartNote('azure');
  if (!(await tcpProbe('127.0.0.1', endpoints.azure.port)))
    throw new Error('AMQP port 5673 does not accept connections');
  const health = await httpGet(`http://127.0.0.1:${endpoints.azure.adminPort}/health`).catch((e) => ({
    status: e.message,
  }));
  return `AMQP port accepts connections, admin /health -> ${health.status} (no entities configured; message round trips are the emulator's own tests)${detail}`;
}

async function restartNote(name) {
  const r = await restartBroker(name);
  return ` [restart: pid ${r.previousPid} -> ${r.pid} in ${(r.ms / 1000).toFixed(1)} s]`;
}

// ---------------------------------------------------------------- PostgreSQL
async function postgres({ restart }) {
  const { default: pg } = await import('pg');
  const table = `omnibus_smoke_${Date.now()}`;
  const connect = async () => {
    const client = new pg.Client({ connectionString: endpoints.postgres.url, connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    await client.connect();
    return client;
  };
  let client = await connect();
  await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  await client.query('BEGIN');
  await client.query(`INSERT INTO ${table} VALUES (1)`);
  await client.query('COMMIT');
  let detail = '';
  if (restart) {
    await client.end();
    detail = await restartNote('postgres');
    client = await connect();
  }
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
  await client.query(`DROP TABLE ${table}`);
  const { rows: version } = await client.query('SHOW server_version');
  await client.end();
  if (rows[0].n !== 1) throw new Error(`expected the committed row back, found ${rows[0].n}`);
  return `PostgreSQL ${version[0].server_version}: committed row read back${detail}`;
}

const checks = { rabbitmq, kafka, sqs, sns, azure, postgres };

/** Runs the checks (in parallel); resolves true when all passed. */
export async function smoke(name = 'all', { restart = false, log = console.log } = {}) {
  const list = expand(name);
  await up(name);
  const results = await Promise.all(
    list.map(async (b) => {
      const t0 = Date.now();
      try {
        const check = checks[b.name] ?? b.smoke?.bind(b);
        if (check === undefined) throw new Error('no smoke check (a plug-in can define smoke())');
        const detail = await withTimeout(
          check({ restart, restartNote }),
          restart ? 240_000 : 90_000,
          `${b.name} smoke`,
        );
        log(`✔ ${b.name}: ${detail} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        return true;
      } catch (error) {
        log(`✖ ${b.name}: ${error?.report?.() ?? error?.message ?? error}`);
        return false;
      }
    }),
  );
  return results.every(Boolean);
}
