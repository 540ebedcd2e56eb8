import { expect } from 'chai';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  ENCODED_VALUE_PREFIX,
  decodeHeaderValue,
  encodeHeaderValue,
  envelopeToNatsHeaders,
  fromNatsHeaders,
  receivedToEnvelope,
} from '../src/nats-message-mapper.js';

describe('NATS message mapper', () => {
  it('keeps plain values and encodes the ones a header line would change', () => {
    for (const plain of ['value', 'héllo 日本 😀', 'a=b; c=d', 'in ner'])
      expect(encodeHeaderValue(plain)).to.equal(plain);
    for (const awkward of ['', '  padded  ', 'line\nbreak', 'cr\r', 'tab\t', `${ENCODED_VALUE_PREFIX}x`]) {
      const encoded = encodeHeaderValue(awkward);
      expect(encoded.startsWith(ENCODED_VALUE_PREFIX), JSON.stringify(awkward)).to.equal(true);
      expect(decodeHeaderValue(encoded)).to.equal(awkward);
    }
  });

  it('round-trips an envelope through NATS headers, dropping server-owned headers', () => {
    const envelope = {
      id: 'id-1',
      type: 'orders.placed.v1',
      payload: new Uint8Array([1, 2, 3]),
      contentType: 'application/json',
      headers: { 'x-a': ' padded ', 'X-Mixed': 'Case', 'x-empty': '' },
      occurredAt: new Date('2024-01-02T03:04:05.678Z'),
      correlationId: 'c',
      partitionKey: 'k',
    };
    const h = envelopeToNatsHeaders(envelope);
    h.set('Nats-Msg-Id', 'id-1');
    expect(fromNatsHeaders(h)).not.to.have.property('Nats-Msg-Id');
    const back = receivedToEnvelope({
      headers: h,
      data: envelope.payload,
      stream: 's',
      seq: 7,
      timestampMs: 0,
    });
    expect(back.id).to.equal('id-1');
    expect(back.headers).to.deep.equal(envelope.headers);
    expect(back.occurredAt.toISOString()).to.equal(envelope.occurredAt.toISOString());
    expect(back.partitionKey).to.equal('k');
  });

  it('gives a foreign message type "" and a stable id: Nats-Msg-Id, else stream:sequence', () => {
    const h = natsHeaders();
    h.set('x-n', '42');
    const foreign = receivedToEnvelope({
      headers: h,
      data: new Uint8Array(),
      stream: 'st',
      seq: 9,
      timestampMs: 1_000,
    });
    expect(foreign.type).to.equal('');
    expect(foreign.id).to.equal('st:9');
    expect(foreign.occurredAt.getTime()).to.equal(1_000);
    h.set('Nats-Msg-Id', 'm-1');
    expect(
      receivedToEnvelope({ headers: h, data: new Uint8Array(), stream: 'st', seq: 9, timestampMs: 0 }).id,
    ).to.equal('m-1');
    expect(
      receivedToEnvelope({ headers: undefined, data: new Uint8Array(), stream: 'st', seq: 3, timestampMs: 0 })
        .id,
    ).to.equal('st:3');
  });
});
