import { expect } from 'chai';
import { envelopeFromWire, envelopeToWireHeaders, isOmnibusError, type MessageEnvelope } from '@omnibus/core';
import {
  assertWithinLimits,
  BODY_ENCODING_HEADER,
  decodeWireMessage,
  encodeWireMessage,
  MAX_MESSAGE_ATTRIBUTES,
  PACKED_HEADERS_ATTRIBUTE,
  wireMessageBytes,
} from '../src/sqs-message-codec.js';

function envelope(payload: Uint8Array, headers: Record<string, string> = {}): MessageEnvelope {
  return {
    id: 'id-1',
    type: 'orders.order-placed.v1',
    payload,
    contentType: 'application/json',
    headers,
    occurredAt: new Date('2026-01-02T03:04:05.678Z'),
    correlationId: 'corr',
    causationId: 'cause',
    partitionKey: 'order-7',
  };
}

function roundTrip(e: MessageEnvelope): MessageEnvelope {
  const wire = encodeWireMessage(envelopeToWireHeaders(e), e.payload);
  const decoded = decodeWireMessage(wire.body, wire.attributes);
  return envelopeFromWire({ headers: decoded.headers, payload: decoded.payload });
}

describe('sqs message codec', () => {
  it('carries UTF-8 text payloads as the plain body', () => {
    const e = envelope(new TextEncoder().encode('{"total":12.5,"name":"Zoë 🚀"}'));
    const wire = encodeWireMessage(envelopeToWireHeaders(e), e.payload);
    expect(wire.body).to.equal('{"total":12.5,"name":"Zoë 🚀"}');
    expect(JSON.parse(wire.attributes[PACKED_HEADERS_ATTRIBUTE]?.StringValue ?? '{}')).to.not.have.property(
      BODY_ENCODING_HEADER,
    );
    expect(roundTrip(e)).to.deep.equal(e);
  });

  it('base64-encodes binary, invalid UTF-8 and control characters SQS rejects, byte-exact', () => {
    for (const bytes of [
      [0, 1, 2, 255],
      [0xc3, 0x28],
      [0x41, 0x00, 0x42],
      [0xef, 0xbb, 0xbf, 0x41],
    ]) {
      const e = envelope(new Uint8Array(bytes));
      const back = roundTrip(e);
      expect([...back.payload]).to.deep.equal(bytes);
    }
    const wire = encodeWireMessage({}, new Uint8Array([0, 1]));
    expect(JSON.parse(wire.attributes[PACKED_HEADERS_ATTRIBUTE]?.StringValue ?? '{}')).to.include({
      [BODY_ENCODING_HEADER]: 'base64',
    });
  });

  it('keeps a UTF-8 byte-order mark as text without losing it', () => {
    const bytes = [0xef, 0xbb, 0xbf, 0x7b, 0x7d];
    expect([...roundTrip(envelope(new Uint8Array(bytes))).payload]).to.deep.equal(bytes);
  });

  it('sends an empty payload as a non-empty body (SQS rejects empty bodies)', () => {
    const wire = encodeWireMessage({}, new Uint8Array(0));
    expect(wire.body).to.not.equal('');
    expect(roundTrip(envelope(new Uint8Array(0))).payload.byteLength).to.equal(0);
  });

  it('packs any number of headers into one attribute and never exceeds 10 attributes', () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 40; i += 1) headers[`x-custom-${String(i)}`] = `value ${String(i)}`;
    headers.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    headers['weird name with spaces/and:colons'] = 'ok';
    headers.control = 'a\u0000b\uffff';
    const e = envelope(new Uint8Array([1]), headers);
    const wire = encodeWireMessage(envelopeToWireHeaders(e), e.payload);
    expect(Object.keys(wire.attributes).length).to.be.at.most(MAX_MESSAGE_ATTRIBUTES);
    expect(wire.attributes[PACKED_HEADERS_ATTRIBUTE]?.StringValue).to.not.match(/[\u0000\uffff]/);
    expect(roundTrip(e)).to.deep.equal(e);
  });

  it('copies ce-id, ce-type and content-type into native attributes', () => {
    const e = envelope(new Uint8Array([1]));
    const wire = encodeWireMessage(envelopeToWireHeaders(e), e.payload);
    expect(wire.attributes['ce-type']).to.deep.equal({
      DataType: 'String',
      StringValue: 'orders.order-placed.v1',
    });
    expect(wire.attributes['ce-id']?.StringValue).to.equal('id-1');
    expect(wire.attributes['content-type']?.StringValue).to.equal('application/json');
  });

  it('decodes a foreign message: native attributes become headers, the body its UTF-8 bytes', () => {
    const decoded = decodeWireMessage('plain text', {
      'x-source': { DataType: 'String', StringValue: 'legacy' },
      count: { DataType: 'Number', StringValue: '3' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2]) },
    });
    expect(decoded.headers).to.deep.equal({ 'x-source': 'legacy', count: '3', blob: 'AQI=' });
    expect(new TextDecoder().decode(decoded.payload)).to.equal('plain text');
    const e = envelopeFromWire({ headers: decoded.headers, payload: decoded.payload, fallbackId: 'sqs-id' });
    expect(e.type).to.equal('');
    expect(e.id).to.equal('sqs-id');
  });

  it('ignores a corrupt packed attribute instead of throwing', () => {
    const decoded = decodeWireMessage('x', {
      [PACKED_HEADERS_ATTRIBUTE]: { DataType: 'String', StringValue: '{not json' },
    });
    expect(decoded.headers).to.deep.equal({});
  });

  it('counts body and attribute name, type and value bytes', () => {
    const bytes = wireMessageBytes({
      body: 'ü',
      attributes: { ab: { DataType: 'String', StringValue: 'xyz' } },
    });
    expect(bytes).to.equal(2 + 2 + 6 + 3);
  });

  it('rejects a message over the byte limit with PAYLOAD_TOO_LARGE', () => {
    const wire = encodeWireMessage({}, new TextEncoder().encode('x'.repeat(2000)));
    expect(() => assertWithinLimits(wire, 100_000, 'm')).to.not.throw();
    try {
      assertWithinLimits(wire, 1000, 'm');
      expect.fail('should throw');
    } catch (error) {
      expect(isOmnibusError(error) && error.code).to.equal('PAYLOAD_TOO_LARGE');
    }
  });

  it('rejects more than 10 attributes with PAYLOAD_TOO_LARGE', () => {
    const attributes: Record<string, { DataType: string; StringValue: string }> = {};
    for (let i = 0; i < 11; i += 1) attributes[`a${String(i)}`] = { DataType: 'String', StringValue: 'v' };
    expect(() => assertWithinLimits({ body: 'x', attributes }, 1_000_000, 'm')).to.throw(/at most 10/);
  });
});
