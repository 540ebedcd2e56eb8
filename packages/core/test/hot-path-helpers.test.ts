import { expect } from 'chai';
import { encodeUtf8 } from '../src/codec/utf8-slab.js';
import { randomTraceparent, randomUuid } from '../src/instrumentation/random-ids.js';
import { parseTraceparent } from '../src/instrumentation/traceparent.js';

describe('hot-path helpers (issue 12)', () => {
  it('encodeUtf8 gives the bytes TextEncoder gives, for ASCII, multi-byte, astral and empty texts, across slab boundaries', () => {
    const encoder = new TextEncoder();
    const texts = [
      '',
      'a',
      '{"seq":1}',
      'é✓€',
      '😀 astral',
      'x'.repeat(1500),
      'é'.repeat(1536),
      'y'.repeat(5000),
    ];
    const held: { text: string; bytes: Uint8Array }[] = [];
    for (let round = 0; round < 40; round += 1) {
      for (const text of texts) {
        const bytes = encodeUtf8(text);
        expect(bytes).to.be.instanceOf(Uint8Array);
        expect(Buffer.isBuffer(bytes), 'a plain Uint8Array, so slice() copies').to.equal(false);
        expect([...bytes]).to.deep.equal([...encoder.encode(text)]);
        held.push({ text, bytes });
      }
    }
    // Earlier results are never overwritten by later ones (regions of the slab are not reused).
    for (const { text, bytes } of held) expect(new TextDecoder().decode(bytes)).to.equal(text);
  });

  it('randomUuid returns distinct version-4 UUIDs in canonical form', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i += 1) {
      const id = randomUuid();
      expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).to.equal(2000);
  });

  it('randomTraceparent makes valid headers: a new trace, or a child of a given trace id with its flags', () => {
    const fresh = parseTraceparent(randomTraceparent());
    expect(fresh?.traceId).to.have.length(32);
    expect(fresh?.parentId).to.have.length(16);
    expect(fresh?.flags).to.equal('01');
    const child = randomTraceparent('4bf92f3577b34da6a3ce929d0e0e4736', '00');
    expect(child).to.match(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    const spans = new Set(Array.from({ length: 500 }, () => parseTraceparent(randomTraceparent())?.parentId));
    expect(spans.size).to.equal(500);
  });
});
