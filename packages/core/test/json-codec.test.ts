import { expect } from 'chai';
import { CodecRegistry, isOmnibusError, JsonCodec, normalizeContentType } from '../src/index.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function decodeError(codec: JsonCodec, input: Uint8Array): { code: string; message: string } {
  try {
    codec.decode(input);
  } catch (error) {
    if (isOmnibusError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected decode to fail');
}

describe('JsonCodec', () => {
  const codec = new JsonCodec();

  it('round-trips JSON values', () => {
    const value = { a: 1, b: ['x', null, true], c: { d: 'é✓' } };
    expect(codec.decode(codec.encode(value))).to.deep.equal(value);
    expect(codec.contentType).to.equal('application/json');
  });

  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`rejects a "${key}" key at any depth with DECODE_FAILED`, () => {
      const error = decodeError(codec, bytes(`{"safe":{"deeper":[{"${key}":{"polluted":true}}]}}`));
      expect(error.code).to.equal('DECODE_FAILED');
      expect(error.message).to.contain(key);
      expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    });
  }

  it('rejects a forbidden key spelled with \\u escapes (the fast path cannot be bypassed)', () => {
    const error = decodeError(codec, bytes('{"a":1,"\\u005f_proto__":{"polluted":true}}'));
    expect(error.code).to.equal('DECODE_FAILED');
    expect(error.message).to.contain('__proto__');
    expect(decodeError(codec, bytes('{"construc\\u0074or":1}')).message).to.contain('constructor');
  });

  it('decodes values that merely mention a forbidden word, and escaped text, unchanged', () => {
    const value = { note: 'a prototype of the constructor', quote: 'say \u00e9 "hi"\n' };
    expect(codec.decode(codec.encode(value))).to.deep.equal(value);
  });

  it('strips forbidden keys when configured, and never pollutes prototypes', () => {
    const stripping = new JsonCodec({ forbiddenKeys: 'strip' });
    const value = stripping.decode(
      bytes('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"ok":1}'),
    ) as Record<string, unknown>;
    expect(value).to.deep.equal({ ok: 1 });
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).to.equal(false);
    expect(Object.getPrototypeOf(value)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
  });

  it('rejects payloads over the size bound before parsing', () => {
    const small = new JsonCodec({ maxBytes: 10 });
    const error = decodeError(small, bytes('{"a":"0123456789"}'));
    expect(error.code).to.equal('DECODE_FAILED');
    expect(error.message).to.match(/exceeds the JSON codec limit of 10 bytes/);
  });

  it('rejects invalid UTF-8, invalid JSON and empty input with DECODE_FAILED', () => {
    expect(decodeError(codec, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])).message).to.contain('UTF-8');
    expect(decodeError(codec, bytes('{"a":')).message).to.contain('not valid JSON');
    expect(decodeError(codec, new Uint8Array()).code).to.equal('DECODE_FAILED');
  });

  it('survives absurdly deep nesting with DECODE_FAILED or a value, never a crash', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const big = new JsonCodec({ maxBytes: 1_000_000 });
    try {
      big.decode(bytes(deep));
    } catch (error) {
      expect(isOmnibusError(error) && error.code).to.equal('DECODE_FAILED');
    }
  });

  it('fails to encode undefined, BigInt and cycles with ENCODE_FAILED', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const value of [undefined, 10n, cyclic, () => 1]) {
      try {
        codec.encode(value);
        expect.fail('encode should throw');
      } catch (error) {
        expect(isOmnibusError(error) && error.code).to.equal('ENCODE_FAILED');
      }
    }
  });
});

describe('CodecRegistry', () => {
  it('finds codecs ignoring case and parameters', () => {
    const registry = new CodecRegistry([new JsonCodec()]);
    expect(registry.get('Application/JSON; charset=utf-8')).to.be.instanceOf(JsonCodec);
    expect(registry.get('text/plain')).to.equal(undefined);
    expect(normalizeContentType(' text/Plain ;q=1')).to.equal('text/plain');
  });
});
