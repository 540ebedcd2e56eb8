import 'reflect-metadata';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { expect } from 'chai';
import { EventBus, EventHandler, defineEvent, type PayloadOf } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { z } from 'zod';
import { OmnibusModule } from '../src/index.js';

const OrderPlaced = defineEvent('nest.order-placed.v1', { schema: z.object({ orderId: z.string() }) });
const OrderBilled = defineEvent('nest.order-billed.v1', { schema: z.object({ orderId: z.string() }) });

/** A plain Nest provider the handler depends on. */
@Injectable()
class Ledger {
  readonly entries: string[] = [];
}

/** A handler provider with constructor injection, the EventBus included. */
@Injectable()
class BillingHandler {
  constructor(
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(EventBus) private readonly bus: EventBus,
  ) {}

  @EventHandler(OrderPlaced, { group: 'billing' })
  async bill(order: PayloadOf<typeof OrderPlaced>): Promise<void> {
    this.ledger.entries.push(`billed ${order.orderId}`);
    await this.bus.publish(OrderBilled, { orderId: order.orderId });
  }
}

@Injectable()
class ReceiptHandler {
  constructor(@Inject(Ledger) private readonly ledger: Ledger) {}

  @EventHandler(OrderBilled, { group: 'receipts' })
  send(order: PayloadOf<typeof OrderBilled>): Promise<void> {
    this.ledger.entries.push(`receipt ${order.orderId}`);
    return Promise.resolve();
  }
}

/** A stand-in for @nestjs/config's ConfigService. */
@Injectable()
class Settings {
  readonly transport = 'in-memory';
}

@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

describe('@omnibus/nestjs OmnibusModule', function () {
  this.timeout(20_000);

  it('forRoot: discovers handler providers, injects the EventBus, starts on bootstrap and stops on close', async function () {
    const moduleRef = await Test.createTestingModule({
      imports: [
        OmnibusModule.forRoot({ transport: { name: 'in-memory' }, events: [OrderPlaced, OrderBilled] }),
      ],
      providers: [Ledger, BillingHandler, ReceiptHandler],
    }).compile();
    const bus = moduleRef.get(EventBus);
    expect(bus.status, 'before init').to.equal('idle');
    await moduleRef.init();
    expect(bus.status, 'after bootstrap').to.equal('started');
    await bus.publish(OrderPlaced, { orderId: 'o-1' });
    const ledger = moduleRef.get(Ledger);
    await waitFor(() => ledger.entries.length === 2, { timeoutMs: 5_000 });
    expect(ledger.entries).to.deep.equal(['billed o-1', 'receipt o-1']);
    await moduleRef.close();
    expect(bus.status, 'after close').to.equal('stopped');
  });

  it('forRootAsync: builds the options from injected providers (ConfigService style)', async function () {
    const moduleRef = await Test.createTestingModule({
      imports: [
        OmnibusModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({ transport: { name: settings.transport } }),
        }),
      ],
      providers: [Ledger, BillingHandler, ReceiptHandler],
    }).compile();
    await moduleRef.init();
    const bus = moduleRef.get(EventBus);
    await bus.publish(OrderPlaced, { orderId: 'o-2' });
    const ledger = moduleRef.get(Ledger);
    await waitFor(() => ledger.entries.includes('receipt o-2'), { timeoutMs: 5_000 });
    await moduleRef.close();
    expect(bus.status).to.equal('stopped');
  });

  it('close drains an in-flight handler before the bus stops', async function () {
    let started = false;
    let release: () => void = () => undefined;
    const finished: string[] = [];
    @Injectable()
    class SlowHandler {
      @EventHandler(OrderPlaced, { group: 'slow' })
      async handle(order: PayloadOf<typeof OrderPlaced>): Promise<void> {
        started = true;
        await new Promise<void>((resolve) => (release = resolve));
        finished.push(order.orderId);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [OmnibusModule.forRoot({ transport: { name: 'in-memory' }, drainTimeoutMs: 5_000 })],
      providers: [SlowHandler],
    }).compile();
    await moduleRef.init();
    await moduleRef.get(EventBus).publish(OrderPlaced, { orderId: 'o-3' });
    await waitFor(() => started, { timeoutMs: 5_000 });
    let closed = false;
    const closing = moduleRef.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed, 'close waits for the in-flight handler').to.equal(false);
    release();
    await closing;
    expect(finished, 'the handler finished before close resolved').to.deep.equal(['o-3']);
  });

  it('a configuration problem fails the bootstrap with every problem listed', async function () {
    const moduleRef = await Test.createTestingModule({
      imports: [OmnibusModule.forRoot({ transport: { name: 'nope' } })],
      providers: [Ledger, BillingHandler, ReceiptHandler],
    }).compile();
    let caught: unknown;
    try {
      await moduleRef.init();
    } catch (error) {
      caught = error;
    }
    expect(String(caught)).to.contain('unknown transport "nope"');
    expect(moduleRef.get(EventBus).status, 'a failed start leaves the bus stopped').to.equal('stopped');
    // Nest's close() re-throws the failed initialisation; nothing of ours is left running.
    await moduleRef.close().catch(() => undefined);
  });
});
