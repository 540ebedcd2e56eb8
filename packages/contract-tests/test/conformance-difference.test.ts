import { expect } from 'chai';
import { failureDifference } from '../src/index.js';

/** The error a failing chai assertion throws. */
function assertionError(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('the assertion did not fail');
}

describe('conformance report: the full expected/actual difference of a failed assertion', function () {
  const expected = Array.from({ length: 300 }, (_, i) => `id-${String(i)}`);
  const actual = expected.map((id, i) => (i === 250 ? 'id-250-changed' : id));

  it('keeps every element chai’s message leaves out', function () {
    const error = assertionError(() => expect(actual, 'ids').to.deep.equal(expected)) as Error;
    expect(error.message, 'chai shortens its message').to.not.include('id-250-changed');
    const difference = failureDifference(error);
    expect(difference?.actual).to.include("'id-250-changed'").and.include("'id-299'");
    expect(difference?.expected).to.include("'id-250'").and.include("'id-299'");
    expect(difference?.expected).to.not.include('more item');
  });

  it('keeps nested objects and long strings whole', function () {
    const deep = { a: { b: { c: { d: { e: { f: 'x'.repeat(20_000) } } } } } };
    const difference = failureDifference(
      assertionError(() => expect({ a: { b: { c: { d: { e: { f: 'y' } } } } } }).to.deep.equal(deep)),
    );
    expect(difference?.expected).to.include('x'.repeat(20_000));
    expect(difference?.expected).to.not.include('[Object]');
  });

  it('reads an assertion wrapped as the cause of a handler error; none for other errors', function () {
    const inner = assertionError(() => expect(1, 'attempt').to.equal(2));
    const wrapped = new Error('1 error(s) thrown inside a handler', { cause: inner });
    expect(failureDifference(wrapped)).to.deep.equal({ expected: '2', actual: '1' });
    expect(failureDifference(new Error('plain'))).to.equal(undefined);
    expect(failureDifference('text')).to.equal(undefined);
  });
});
