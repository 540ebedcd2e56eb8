import type { Delivery, MessageEnvelope } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext } from '../support/case-context.js';
import { describeBytesDiff, sameBytes } from '../support/test-envelope.js';
import { binaryPayload } from './case-helpers.js';

/** Every envelope field a transport must carry unchanged (rule 9). */
function expectSameEnvelope(got: MessageEnvelope, sent: MessageEnvelope, what: string): void {
  expect(got.id, `${what}: id`).to.equal(sent.id);
  expect(got.type, `${what}: type`).to.equal(sent.type);
  expect(got.contentType, `${what}: contentType`).to.equal(sent.contentType);
  expect(got.headers, `${what}: headers`).to.deep.equal(sent.headers);
  expect(got.occurredAt.toISOString(), `${what}: occurredAt`).to.equal(sent.occurredAt.toISOString());
  expect(got.correlationId, `${what}: correlationId`).to.equal(sent.correlationId);
  expect(got.causationId, `${what}: causationId`).to.equal(sent.causationId);
  expect(got.partitionKey, `${what}: partitionKey`).to.equal(sent.partitionKey);
  expect(
    sameBytes(got.payload, sent.payload),
    `${what}: payload ${describeBytesDiff(sent.payload, got.payload)}`,
  ).to.equal(true);
}

/** A string as hex UTF-16 code units, so a normalised value shows where it differs. */
function codeUnits(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : Array.from({ length: value.length }, (_, i) => value.charCodeAt(i).toString(16).padStart(4, '0'));
}

/** Publish `sent` to a fresh destination and return what one consumer received for each. */
async function roundTrip(ctx: CaseContext, sent: readonly MessageEnvelope[]): Promise<Map<string, Delivery>> {
  const t = await ctx.transport();
  const { destination, groups } = await ctx.topology(t);
  const consumer = await ctx.consume(t, { destination, group: groups[0] as string, concurrency: 4 });
  await ctx.publishInOrder(t, destination, sent);
  await ctx.waitForIds(
    consumer,
    sent.map((e) => e.id),
    'every message',
  );
  return new Map(consumer.received.map((r) => [r.delivery.envelope.id, r.delivery]));
}

/** B. Headers and metadata round-trip byte-exact. */
export const headerCases: ContractCaseGroup = {
  letter: 'B',
  title: 'headers and metadata',
  cases: [
    {
      id: 'B1',
      rules: [9],
      title:
        'custom headers, id, type, content type, time, correlation, causation, partition key and W3C trace context arrive unchanged',
      async run(ctx) {
        const sent = ctx.envelope({
          contentType: 'application/vnd.omnibus.test+json; charset=utf-8',
          occurredAt: new Date('2024-02-29T23:59:58.123Z'),
          correlationId: 'corr-7f3a9c',
          causationId: 'cause-19be',
          partitionKey: 'customer-42',
          headers: {
            'x-custom': 'value',
            traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
            tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
            baggage: 'userId=alice,serverNode=DF%2028,isProduction=false',
            'x-json': '{"a":[1,2,{"b":null}],"c":"d"}',
            'x-spaces': '  padded value  ',
            'X-Mixed-Case': 'Keep-Case',
            'x-number-like': '0012.50',
            'x-bool-like': 'false',
          },
        });
        const got = await roundTrip(ctx, [sent]);
        expectSameEnvelope((got.get(sent.id) as Delivery).envelope, sent, 'round trip');
      },
    },
    {
      id: 'B2',
      rules: [9],
      title:
        'unicode (emoji, CJK, accents), quotes, separators, empty-string and long header values round-trip byte-exact',
      async run(ctx) {
        const sent = ctx.envelope({
          correlationId: 'corrélation-😀',
          partitionKey: 'clé-日本-🔑',
          headers: {
            'x-accents': 'héllo wörld çà',
            'x-cjk': '日本語のテキスト',
            'x-emoji': '😀👍🏽👨‍👩‍👧 surrogate pairs',
            'x-quotes': `"double" 'single' \\back\\slash /slash`,
            'x-separators': 'a=b; c=d, e:f | g\th',
            'x-empty': '',
            'x-long': 'λ'.repeat(2048),
          },
        });
        const got = await roundTrip(ctx, [sent]);
        expectSameEnvelope((got.get(sent.id) as Delivery).envelope, sent, 'unicode round trip');
      },
    },
    {
      id: 'B3',
      rules: [9],
      title: 'binary, empty, invalid-UTF-8 and JSON payloads arrive byte-exact',
      async run(ctx) {
        const sent = [
          ctx.envelope({ payload: binaryPayload(), contentType: 'application/octet-stream' }),
          ctx.envelope({ payload: new Uint8Array(0), contentType: 'application/octet-stream' }),
          ctx.envelope({
            payload: new Uint8Array([0xed, 0xa0, 0x80, 0xc0, 0xaf, 0x00]),
            contentType: 'application/octet-stream',
          }),
          ctx.envelope({
            payload: new TextEncoder().encode('{"emoji":"😀","n":1.5e-7,"nested":{"a":[true,null]}}'),
          }),
        ];
        const got = await roundTrip(ctx, sent);
        for (const envelope of sent)
          expectSameEnvelope(
            (got.get(envelope.id) as Delivery).envelope,
            envelope,
            `payload of ${envelope.id}`,
          );
      },
    },
    {
      id: 'B4',
      rules: [4, 9],
      title: 'id, headers and payload are identical on every attempt of a retried message',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const sent = ctx.envelope({
          correlationId: 'c-b4',
          causationId: 'k-b4',
          headers: { 'x-keep': 'me', 'x-empty': '' },
        });
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string }, async (d) => {
          if (d.deliveryAttempt < 3) await d.retry(0);
          else await d.ack();
        });
        await ctx.publish(t, destination, [sent]);
        await ctx.waitFor(() => consumer.received.length >= 3, 'three attempts');
        consumer.received.forEach((r, i) =>
          expectSameEnvelope(r.delivery.envelope, sent, `attempt ${String(i + 1)}`),
        );
      },
    },
    {
      id: 'B5',
      rules: [9],
      title:
        'non-NFC unicode (decomposed NFD letters, stacked combining marks, compatibility characters) in headers, correlation and partition key arrives unnormalised, code unit for code unit',
      async run(ctx) {
        const values = {
          // "é" as e + U+0301 and "Å" as A + U+030A: NFC would compose them.
          'x-nfd': 'Cafe\u0301 A\u030Angstro\u0308m',
          // Hangul as conjoining jamo (NFD form of 한국어).
          'x-jamo': '\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165',
          // Marks in non-canonical order (NFC/NFD reorder them) and a stack of five.
          'x-mark-order': 'a\u0301\u0323 o\u0323\u0301 x\u0300\u0301\u0302\u0303\u0304',
          // Singletons NFC replaces (Ångström sign, Ohm sign) and compatibility forms NFKC folds.
          'x-singletons': '\u212b \u2126 \ufb01 \u2460 \uff21',
          // A lone combining mark at the start, then a decomposable one.
          'x-leading-mark': '\u0301 lone, then o\u0308',
        };
        for (const [name, value] of Object.entries(values))
          expect(
            value.normalize('NFC') !== value || value.normalize('NFKC') !== value,
            `test value ${name} must differ from its normal form`,
          ).to.equal(true);
        const sent = ctx.envelope({
          correlationId: 'corre\u0301lation-\u212b',
          partitionKey: 'cle\u0301-\u1100\u1161',
          headers: values,
        });
        const got = await roundTrip(ctx, [sent]);
        const envelope = (got.get(sent.id) as Delivery).envelope;
        for (const [name, value] of Object.entries(values))
          expect(codeUnits(envelope.headers[name]), `header ${name} (code units)`).to.deep.equal(
            codeUnits(value),
          );
        expect(codeUnits(envelope.correlationId), 'correlationId (code units)').to.deep.equal(
          codeUnits(sent.correlationId),
        );
        expect(codeUnits(envelope.partitionKey), 'partitionKey (code units)').to.deep.equal(
          codeUnits(sent.partitionKey),
        );
        expectSameEnvelope(envelope, sent, 'non-NFC round trip');
      },
    },
  ],
};
