import { expect } from 'chai';
import type { Channel, Message } from 'amqplib';
import { AckCoalescer } from '../src/ack-coalescer.js';

/** A channel that records the ack/nack frames written, as `ack 5+` (multiple) / `ack 5` / `nack 5`. */
function recordingChannel(): { channel: Channel; frames: string[] } {
  const frames: string[] = [];
  const channel = {
    ack: (m: Message, allUpTo?: boolean) =>
      frames.push(`ack ${String(m.fields.deliveryTag)}${allUpTo === true ? '+' : ''}`),
    nack: (m: Message) => frames.push(`nack ${String(m.fields.deliveryTag)}`),
  } as unknown as Channel;
  return { channel, frames };
}

function message(tag: number): Message {
  return { fields: { deliveryTag: tag } } as Message;
}

describe('AckCoalescer', () => {
  it('acks a contiguous settled run with one multiple ack at the end of the turn', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new AckCoalescer(channel);
    const m = [1, 2, 3, 4].map(message);
    for (const x of m) acks.received(x);
    acks.ack(m[1] as Message);
    acks.ack(m[0] as Message);
    acks.ack(m[2] as Message);
    expect(frames, 'nothing written before the turn ends').to.deep.equal([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(frames).to.deep.equal(['ack 3+']);
  });

  it('never covers a message still being handled: later settled tags are acked one by one', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new AckCoalescer(channel);
    const m = [1, 2, 3, 4].map(message);
    for (const x of m) acks.received(x);
    acks.ack(m[0] as Message);
    acks.ack(m[2] as Message);
    acks.ack(m[3] as Message);
    await new Promise((resolve) => setImmediate(resolve));
    expect(frames).to.deep.equal(['ack 1+', 'ack 3', 'ack 4']);
    acks.ack(m[1] as Message);
    acks.flush();
    expect(frames.slice(3), 'tag 2 completes the run; 3 and 4 were already written').to.deep.equal([
      'ack 2+',
    ]);
  });

  it('writes pending acks before a nack, and a multiple ack may span a nacked tag', () => {
    const { channel, frames } = recordingChannel();
    const acks = new AckCoalescer(channel);
    const m = [1, 2, 3].map(message);
    for (const x of m) acks.received(x);
    acks.ack(m[2] as Message);
    acks.nack(m[1] as Message);
    acks.ack(m[0] as Message);
    acks.flush();
    expect(frames).to.deep.equal(['ack 3', 'nack 2', 'ack 1+']);
  });

  it('flush writes nothing when nothing is pending', () => {
    const { channel, frames } = recordingChannel();
    const acks = new AckCoalescer(channel);
    acks.received(message(1));
    acks.flush();
    expect(frames).to.deep.equal([]);
  });
});
