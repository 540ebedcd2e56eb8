// Commands: a definition with exactly one handling group (point to point).
import { expect } from 'chai';
import {
  ConfigurationError,
  createEventBus,
  defineCommand,
  defineEvent,
  EventHandler,
  isOmnibusError,
} from '../src/index.js';
import { MessageSpy } from '../src/testing/index.js';

let sequence = 0;
const unique = (name: string): string => `command.${name}.${String(process.pid)}.${String(++sequence)}`;

describe('commands', () => {
  it('defineCommand marks the definition and checks names like defineEvent', () => {
    const ship = defineCommand<{ orderId: string }>('shipping.ship-order.v1');
    expect(ship.kind).to.equal('command');
    expect(defineEvent('shipping.shipped.v1').kind).to.equal(undefined);
    expect(() => defineCommand('not ok')).to.throw(/may only contain/);
  });

  it('is handled by its one group like an event', async () => {
    const Ship = defineCommand<{ orderId: string }>(unique('ship'));
    const shipped: string[] = [];
    class Shipping {
      @EventHandler(Ship, { group: 'shipping' })
      on(command: { orderId: string }): void {
        shipped.push(command.orderId);
      }
    }
    const bus = createEventBus({ transport: { name: 'in-memory' }, handlers: [Shipping] });
    const spy = new MessageSpy(bus);
    await bus.start();
    try {
      const sent = await bus.publish(Ship, { orderId: 'o-1' });
      await spy.waitFor({ id: sent.id, outcome: 'acked' });
      expect(shipped).to.deep.equal(['o-1']);
    } finally {
      spy.dispose();
      await bus.stop();
    }
  });

  it('two groups handling one command fail start with one ConfigurationError naming both', async () => {
    const Ship = defineCommand<{ orderId: string }>(unique('ship'));
    const Shipped = defineEvent<{ orderId: string }>(unique('shipped'));
    class Shipping {
      @EventHandler(Ship, { group: 'shipping' })
      on(): void {}
      @EventHandler(Shipped, { group: 'shipping' })
      onShipped(): void {}
    }
    class Warehouse {
      @EventHandler(Ship, { group: 'warehouse' })
      on(): void {}
      // An event may be handled by any number of groups.
      @EventHandler(Shipped, { group: 'warehouse' })
      onShipped(): void {}
    }
    const bus = createEventBus({ transport: { name: 'in-memory' }, handlers: [Shipping, Warehouse] });
    try {
      await bus.start();
      expect.fail('start should reject');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigurationError);
      expect(isOmnibusError(error) && error.code).to.equal('CONFIGURATION_INVALID');
      const { problems } = error as ConfigurationError;
      expect(problems.map((p) => p.code)).to.deep.equal(['HANDLER_DUPLICATE']);
      expect(problems[0]?.problem).to.equal(
        `command "${Ship.name}" is handled in two groups: "shipping" (Shipping.on) and "warehouse" (Warehouse.on)`,
      );
    }
    expect(bus.status).to.equal('stopped');
  });
});
