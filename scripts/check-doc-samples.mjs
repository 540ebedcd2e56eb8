#!/usr/bin/env node
// Compiles every ```ts code block in README.md and docs/**/*.md, so documentation samples
// cannot rot. Each block becomes its own module under examples/doc-samples/generated/ and is
// type-checked with the repo's strict settings against the built packages.
// A block that is deliberately not compilable must be fenced as ```ts-nocheck (use sparingly).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'examples', 'doc-samples', 'generated');

function markdownFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? markdownFiles(full) : name.endsWith('.md') ? [full] : [];
  });
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const files = [path.join(root, 'README.md'), ...markdownFiles(path.join(root, 'docs'))];
let count = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const blocks = [...text.matchAll(/^```ts\n([\s\S]*?)^```/gm)];
  blocks.forEach((match, i) => {
    const rel = path.relative(root, file).replace(/[\\/.]/g, '_');
    const body = match[1];
    const name = `${rel}_${i + 1}.ts`;
    // Every sample is a module; `export {}` keeps top-level names from clashing across samples.
    writeFileSync(path.join(outDir, name), `// From ${path.relative(root, file)}, sample ${i + 1}\n${body}\nexport {};\n`);
    count += 1;
  });
}
writeFileSync(
  path.join(outDir, 'tsconfig.json'),
  JSON.stringify(
    {
      extends: '../../../tsconfig.base.json',
      compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false, noUnusedLocals: false },
      include: ['*.ts'],
    },
    null,
    2,
  ),
);
console.log(`doc samples: ${count} TypeScript blocks extracted from ${files.length} files`);
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(outDir, 'tsconfig.json')], { stdio: 'inherit' });
if (result.status !== 0) {
  console.error('✖ a documentation sample does not compile (file names above point to the doc and sample number)');
  process.exit(1);
}
console.log(`✔ ${count} documentation samples compile`);
