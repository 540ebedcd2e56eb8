// Leftover test topology: list it, and delete it on request.
//   npm run brokers -- clean <broker> [prefix] [--yes]
// Without --yes nothing is deleted (dry run: what would go). Deleting needs a prefix, so that a
// bare `clean rabbitmq --yes` cannot wipe another checkout's or another test run's entities.
// Per broker, what counts as topology:
//   rabbitmq  queues and exchanges (not amq.* / the default exchange)
//   kafka     topics (not __internal) and consumer groups
//   sqs       ElasticMQ queues
//   sns       fauxqs SNS topics and its SQS queues
//   azure     emulator topics (with their subscriptions) and queues
//   nats      JetStream streams (with their consumers), from the nats plug-in
// Brokers are shared: delete only a prefix you own (a test run's unique prefix). Another broker
// definition can take part by exporting `topology: { list(prefix), remove(entities) }`, where an
// entity is { kind, name } and remove resolves with the failed ones ({ kind, name, error }).
import { endpoints, resolveBroker } from './index.mjs';

const awsCredentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const matches = (prefix) => (name) => !prefix || name.startsWith(prefix);

/** Deletes entities one by one, collecting failures instead of stopping at the first. */
async function each(entities, remove) {
  const failed = [];
  for (const entity of entities) {
    try {
      await remove(entity);
    } catch (error) {
      failed.push({ ...entity, error: error?.message ?? String(error) });
    }
  }
  return failed;
}

const rabbitmq = {
  async list(prefix) {
    const ctl = resolveBroker('rabbitmq').ctl.bind(resolveBroker('rabbitmq'));
    const names = async (what) => {
      const { code, output } = await ctl([what, '-q', '--no-table-headers', 'name']);
      if (code !== 0) throw new Error(`rabbitmqctl ${what} failed: ${output.trim().slice(0, 300)}`);
      return output
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    };
    const queues = (await names('list_queues')).filter(matches(prefix));
    const exchanges = (await names('list_exchanges'))
      .filter((n) => !n.startsWith('amq.'))
      .filter(matches(prefix));
    return [
      ...queues.map((name) => ({ kind: 'queue', name })),
      ...exchanges.map((name) => ({ kind: 'exchange', name })),
    ];
  },
  async remove(entities) {
    const { default: amqp } = await import('amqplib');
    const conn = await amqp.connect(endpoints.rabbitmq.url, { timeout: 5000 });
    conn.on('error', () => {});
    let channel;
    const open = async () => {
      channel = await conn.createChannel();
      channel.on('error', () => {});
    };
    await open();
    try {
      return await each(entities, async ({ kind, name }) => {
        try {
          if (kind === 'queue') await channel.deleteQueue(name);
          else await channel.deleteExchange(name);
        } catch (error) {
          await open(); // a failed delete closes the channel
          throw error;
        }
      });
    } finally {
      await conn.close().catch(() => {});
    }
  },
};

const kafka = {
  async admin() {
    const { Kafka, logLevel } = await import('kafkajs');
    const admin = new Kafka({
      clientId: 'omnibus-brokers-clean',
      brokers: endpoints.kafka.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 30_000,
      retry: { retries: 2 },
    }).admin();
    await admin.connect();
    return admin;
  },
  async list(prefix) {
    const admin = await this.admin();
    try {
      const topics = (await admin.listTopics()).filter((t) => !t.startsWith('__')).filter(matches(prefix));
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(matches(prefix));
      return [
        ...topics.sort().map((name) => ({ kind: 'topic', name })),
        ...groups.sort().map((name) => ({ kind: 'group', name })),
      ];
    } finally {
      await admin.disconnect().catch(() => {});
    }
  },
  async remove(entities) {
    const admin = await this.admin();
    try {
      const topics = entities.filter((e) => e.kind === 'topic');
      const groups = entities.filter((e) => e.kind === 'group');
      const failed = [];
      // Batches of 100 topics per request; a failed batch is retried topic by topic to name the culprit.
      for (let i = 0; i < topics.length; i += 100) {
        const batch = topics.slice(i, i + 100);
        try {
          await admin.deleteTopics({ topics: batch.map((t) => t.name), timeout: 30_000 });
        } catch {
          failed.push(
            ...(await each(batch, (t) => admin.deleteTopics({ topics: [t.name], timeout: 30_000 }))),
          );
        }
      }
      failed.push(...(await each(groups, (g) => admin.deleteGroups([g.name]))));
      return failed;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  },
};

/** Queues of an SQS endpoint (ElasticMQ, or fauxqs's own SQS). */
async function sqsQueues(endpoint, region, prefix) {
  const sdk = await import('@aws-sdk/client-sqs');
  const client = new sdk.SQSClient({ endpoint, region, credentials: awsCredentials });
  try {
    const urls = [];
    let NextToken;
    do {
      const page = await client.send(
        new sdk.ListQueuesCommand({ QueueNamePrefix: prefix || undefined, MaxResults: 1000, NextToken }),
      );
      urls.push(...(page.QueueUrls ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return urls
      .map((url) => ({ kind: 'queue', name: decodeURIComponent(url.slice(url.lastIndexOf('/') + 1)), url }))
      .filter((q) => matches(prefix)(q.name))
      .sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    client.destroy();
  }
}

async function deleteSqsQueues(endpoint, region, queues) {
  const sdk = await import('@aws-sdk/client-sqs');
  const client = new sdk.SQSClient({ endpoint, region, credentials: awsCredentials });
  try {
    return await each(queues, (q) => client.send(new sdk.DeleteQueueCommand({ QueueUrl: q.url })));
  } finally {
    client.destroy();
  }
}

const sqs = {
  list: (prefix) => sqsQueues(endpoints.sqs.endpoint, endpoints.sqs.region, prefix),
  remove: (entities) => deleteSqsQueues(endpoints.sqs.endpoint, endpoints.sqs.region, entities),
};

async function snsClient() {
  const sdk = await import('@aws-sdk/client-sns');
  const { endpoint, region } = endpoints.sns;
  return { sdk, client: new sdk.SNSClient({ endpoint, region, credentials: awsCredentials }) };
}

const sns = {
  async list(prefix) {
    const { sdk, client } = await snsClient();
    try {
      const topics = [];
      let NextToken;
      do {
        const page = await client.send(new sdk.ListTopicsCommand({ NextToken }));
        for (const { TopicArn } of page.Topics ?? []) {
          const name = TopicArn.slice(TopicArn.lastIndexOf(':') + 1);
          if (matches(prefix)(name)) topics.push({ kind: 'topic', name, arn: TopicArn });
        }
        NextToken = page.NextToken;
      } while (NextToken);
      topics.sort((a, b) => a.name.localeCompare(b.name));
      return [...topics, ...(await sqsQueues(endpoints.sns.endpoint, endpoints.sns.region, prefix))];
    } finally {
      client.destroy();
    }
  },
  async remove(entities) {
    const { sdk, client } = await snsClient();
    try {
      const failed = await each(
        entities.filter((e) => e.kind === 'topic'),
        (t) => client.send(new sdk.DeleteTopicCommand({ TopicArn: t.arn })),
      );
      const queues = entities.filter((e) => e.kind === 'queue');
      return [...failed, ...(await deleteSqsQueues(endpoints.sns.endpoint, endpoints.sns.region, queues))];
    } finally {
      client.destroy();
    }
  },
};

const azure = {
  admin: `http://${endpoints.azure.host}:${endpoints.azure.adminPort}`,
  async list(prefix) {
    const res = await fetch(`${this.admin}/entities`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET /entities answered ${res.status}`);
    const { queues = [], topics = [] } = await res.json();
    return [
      ...topics
        .filter((t) => matches(prefix)(t.name))
        .map((t) => ({ kind: 'topic', name: t.name, note: `${t.subscriptions.length} subscription(s)` })),
      ...queues
        .map((q) => (typeof q === 'string' ? q : q.name))
        .filter(matches(prefix))
        .map((name) => ({ kind: 'queue', name })),
    ].sort((a, b) => a.name.localeCompare(b.name));
  },
  async remove(entities) {
    return each(entities, async ({ kind, name }) => {
      const res = await fetch(`${this.admin}/${kind}s/${encodeURIComponent(name)}`, {
        method: 'DELETE',
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE answered ${res.status}`);
    });
  },
};

const cleaners = { rabbitmq, kafka, sqs, sns, azure };

/** The cleaner for a broker name (aliases allowed); throws a usage error for brokers without topology. */
export function cleanerFor(name) {
  const definition = resolveBroker(name);
  const broker = definition.name;
  // A broker definition (a plug-in such as nats) may bring its own: topology: { list(prefix), remove(entities) }.
  const cleaner = cleaners[broker] ?? definition.topology;
  if (!cleaner) {
    throw Object.assign(
      new Error(
        `clean: ${broker} has no messaging topology to clean (one of: ${Object.keys(cleaners).join(', ')})`,
      ),
      {
        usage: true,
      },
    );
  }
  return cleaner;
}

/**
 * Lists the broker's topology whose names start with `prefix` (all of it without one) and, when
 * `yes`, deletes it. Resolves { entities, deleted, failed }.
 */
export async function clean(name, { prefix = '', yes = false } = {}) {
  const cleaner = cleanerFor(name);
  if (yes && !prefix) {
    throw Object.assign(
      new Error('clean --yes needs a prefix: the brokers are shared, delete only what you own'),
      {
        usage: true,
      },
    );
  }
  const entities = await cleaner.list(prefix);
  if (!yes || entities.length === 0) return { entities, deleted: 0, failed: [] };
  const failed = await cleaner.remove(entities);
  return { entities, deleted: entities.length - failed.length, failed };
}

/** Counts names by their first word (split at . - _), for a readable summary of thousands of names. */
export function summarize(entities) {
  const counts = new Map();
  for (const { kind, name } of entities) {
    const key = `${kind} ${name.split(/[./\-_:]/)[0] || name}*`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}
