import { expect } from 'chai';
import { isOmnibusError } from '@omnibus/core';
import { RabbitMqDelayTiers, delayTierPublisher } from '../src/rabbitmq-delay-tiers.js';
import type { PublishRequest } from '../src/rabbitmq-publisher.js';
import { RabbitMqNames } from '../src/rabbitmq-topology.js';

const names = new RabbitMqNames('app');
const request = (exchange: string): PublishRequest => ({
  exchange,
  routingKey: 'q',
  destination: 'orders',
  content: Buffer.alloc(0),
  options: {},
});

describe('RabbitMqDelayTiers', () => {
  it('needs no declaration for publishes that target no tier or a declared one (no await added)', () => {
    const tiers = new RabbitMqDelayTiers(names, [100, 500]);
    tiers.bind(() => Promise.reject(new Error('must not declare')));
    tiers.markDeclared([100]);
    expect(tiers.ensure([request('app/orders'), request(names.delayExchange(100))])).to.equal(undefined);
  });

  it('declares a missing tier once for concurrent publishes, then never again', async () => {
    const tiers = new RabbitMqDelayTiers(names, [100, 500]);
    const declared: number[] = [];
    tiers.bind(async (tier) => {
      declared.push(tier);
      await new Promise((resolve) => setImmediate(resolve));
    });
    const sent: string[] = [];
    const publisher = delayTierPublisher(
      {
        publish: async (requests) => {
          sent.push(...requests.map((r) => r.exchange));
        },
      },
      tiers,
    );
    await Promise.all([
      publisher.publish([request(names.delayExchange(500))], 1000),
      publisher.publish([request(names.delayExchange(500)), request(names.delayExchange(500))], 1000),
    ]);
    expect(declared).to.deep.equal([500]);
    expect(tiers.declared).to.deep.equal([500]);
    expect(sent).to.have.length(3);
    expect(tiers.ensure([request(names.delayExchange(500))])).to.equal(undefined);
  });

  it('a failed declaration rejects the publish with PUBLISH_FAILED and is tried again next time', async () => {
    const tiers = new RabbitMqDelayTiers(names, [100]);
    let calls = 0;
    tiers.bind(() => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error('channel closed')) : Promise.resolve();
    });
    const publisher = delayTierPublisher({ publish: () => Promise.resolve() }, tiers);
    const error: unknown = await publisher.publish([request(names.delayExchange(100))], 1000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOmnibusError(error) && error.code).to.equal('PUBLISH_FAILED');
    await publisher.publish([request(names.delayExchange(100))], 1000);
    expect(calls).to.equal(2);
    expect(tiers.declared).to.deep.equal([100]);
  });
});
