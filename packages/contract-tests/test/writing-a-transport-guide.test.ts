import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { allCaseGroups } from '../src/index.js';

// Keeps docs/guides/writing-a-transport.md honest: its wiring sample is this package's compiled
// sample file, verbatim, and its catalogue lists every case the suite registers.
const guide = readFileSync(
  new URL('../../../../docs/guides/writing-a-transport.md', import.meta.url),
  'utf8',
);
const sample = readFileSync(
  new URL('../../test/docs-sample/my-transport.contract.sample.ts', import.meta.url),
  'utf8',
);

describe('docs/guides/writing-a-transport.md', function () {
  it('embeds the compiled wiring sample verbatim', function () {
    expect(
      guide.includes('```ts\n' + sample + '```'),
      'the guide’s first ts block must equal test/docs-sample/my-transport.contract.sample.ts',
    ).to.equal(true);
  });

  it('lists every case of the suite with its rules', function () {
    for (const group of allCaseGroups) {
      for (const contractCase of group.cases) {
        const row = new RegExp(
          `^\\|\\s*${contractCase.id}\\s*\\|\\s*${contractCase.rules.join(', ')}\\s*\\|`,
          'm',
        );
        expect(
          row.test(guide),
          `catalogue row of case ${contractCase.id} (rules ${contractCase.rules.join(', ')})`,
        ).to.equal(true);
      }
    }
  });
});
