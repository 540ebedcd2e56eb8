#!/usr/bin/env node
// Documentation samples cannot rot: every ```ts block in README.md and docs/**/*.md is compiled
// (strict settings, against the built packages), and every sample that is a complete program is
// run and its output compared with the ```text block that follows it.
//
//   node scripts/check-doc-samples.mjs                       compile all; run every runnable
//                                                            sample on the in-memory transport
//   node scripts/check-doc-samples.mjs --transport rabbitmq  compile all; run the runnable samples
//                                                            that read OMNIBUS_TRANSPORT on that broker
//
// Conventions:
// - A ```ts block directly followed (at most one line of prose between) by a ```text block is a
//   runnable sample; the text block is its exact standard output.
// - A ```ts block that runs to its end (a top-level `await ….stop(…)`) is a complete program and
//   must have a ```text block.
// - A ```cjs block is a CommonJS program (run with `require()` of the ESM packages) and must
//   have a ```text block too.
// - A sample that reads the environment (loadConfigFromEnv) also runs with
//   OMNIBUS_TRANSPORT=bogus and must then fail with TRANSPORT_UNKNOWN.
// - A block that is deliberately not compilable is fenced ```ts-nocheck (use sparingly).
// Without --transport it also fails on wiring a new package still lacks (scripts/workspace-packages.mjs)
// and on a stale docs/concepts/delivery-contract.md (scripts/delivery-contract.mjs).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deliveryContractProblems } from './delivery-contract.mjs';
import { transportPackages, workspaceProblems } from './workspace-packages.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'examples', 'doc-samples', 'generated');
const distDir = path.join(outDir, 'dist');

/**
 * Environment pointing each transport at the brokers `npm run brokers -- up` starts here: each
 * transport package's "omnibus.transport.localEnv" (see scripts/workspace-packages.mjs).
 */
const LOCAL_BROKERS = {
  'in-memory': {},
  ...Object.fromEntries(transportPackages().map((t) => [t.name, t.localEnv])),
};

const transportArg = process.argv.indexOf('--transport');
const transport = transportArg === -1 ? 'in-memory' : process.argv[transportArg + 1];
if (!(transport in LOCAL_BROKERS)) {
  console.error(`unknown --transport ${transport}; known: ${Object.keys(LOCAL_BROKERS).join(', ')}`);
  process.exit(2);
}

function markdownFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? markdownFiles(full) : name.endsWith('.md') ? [full] : [];
  });
}

/** Every fenced block of a markdown text with its language, body and the text before it. */
function fencedBlocks(text) {
  const blocks = [];
  let last = 0;
  for (const match of text.matchAll(/^```([\w-]*)\n([\s\S]*?)^```/gm)) {
    blocks.push({ lang: match[1], body: match[2], before: text.slice(last, match.index) });
    last = match.index + match[0].length;
  }
  return blocks;
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(distDir, { recursive: true });
// Compiled samples are ES modules; the CommonJS samples are .cjs files.
writeFileSync(path.join(distDir, 'package.json'), '{ "type": "module" }\n');
const files = [path.join(root, 'README.md'), ...markdownFiles(path.join(root, 'docs'))];
const runnable = [];
const problems = [];
// The docs stage also checks the wiring a new package still needs by hand (scripts/workspace-packages.mjs)
// and that the delivery contract's case tables match the contract suite (scripts/delivery-contract.mjs).
if (transport === 'in-memory') problems.push(...workspaceProblems(), ...(await deliveryContractProblems()));
let count = 0;
for (const file of files) {
  const relFile = path.relative(root, file);
  const rel = relFile.replace(/[\\/.]/g, '_');
  const blocks = fencedBlocks(readFileSync(file, 'utf8'));
  let tsIndex = 0;
  blocks.forEach((block, i) => {
    if (block.lang !== 'ts' && block.lang !== 'cjs') return;
    const next = blocks[i + 1];
    const expected =
      next?.lang === 'text' && next.before.trim().split('\n').filter(Boolean).length <= 1 ? next.body : undefined;
    // A program that runs to its end (it stops its bus at top level); fragments that start a bus
    // and leave it running (service set-up) are compiled only.
    const complete = block.lang === 'cjs' || /^await .*\.stop\(/m.test(block.body);
    if (block.lang === 'cjs') {
      const name = `${rel}_cjs_${i + 1}.cjs`;
      writeFileSync(path.join(distDir, name), `// From ${relFile}\n${block.body}`);
      runnable.push({ where: `${relFile} (CommonJS sample)`, script: name, body: block.body, expected });
    } else {
      tsIndex += 1;
      const name = `${rel}_${tsIndex}`;
      // Every sample is a module; `export {}` keeps top-level names from clashing across samples.
      writeFileSync(path.join(outDir, `${name}.ts`), `// From ${relFile}, sample ${tsIndex}\n${block.body}\nexport {};\n`);
      count += 1;
      if (expected !== undefined || complete)
        runnable.push({ where: `${relFile}, sample ${tsIndex}`, script: `${name}.js`, body: block.body, expected });
    }
    if (complete && expected === undefined)
      problems.push(`${relFile}: a complete program (top-level await of stop(), or CommonJS) needs a \`\`\`text block with its output right after it`);
  });
}
writeFileSync(
  path.join(outDir, 'tsconfig.json'),
  JSON.stringify(
    {
      extends: '../../../tsconfig.base.json',
      compilerOptions: {
        outDir: 'dist',
        rootDir: '.',
        composite: false,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        noUnusedLocals: false,
      },
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

/** Run one compiled sample with the given environment overrides (OMNIBUS_* of the caller removed). */
function runSample(script, overrides) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OMNIBUS_')));
  return spawnSync(process.execPath, [path.join(distDir, script)], {
    cwd: distDir,
    env: { ...env, ...overrides },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const readsEnv = (body) => /loadConfigFromEnv\(/.test(body);
const selected = transport === 'in-memory' ? runnable : runnable.filter((s) => readsEnv(s.body));
let ran = 0;
for (const sample of selected) {
  if (sample.expected === undefined) continue;
  const env = transport === 'in-memory' ? {} : { OMNIBUS_TRANSPORT: transport, ...LOCAL_BROKERS[transport] };
  const run = runSample(sample.script, env);
  ran += 1;
  if (run.status !== 0 || run.stdout !== sample.expected) {
    problems.push(
      `${sample.where} on ${transport}: exit ${run.status ?? run.signal}\n--- expected output\n${sample.expected}--- actual output\n${run.stdout}--- stderr\n${run.stderr}`,
    );
  }
  if (transport === 'in-memory' && readsEnv(sample.body)) {
    const bogus = runSample(sample.script, { OMNIBUS_TRANSPORT: 'bogus' });
    if (bogus.status === 0 || !bogus.stderr.includes('TRANSPORT_UNKNOWN'))
      problems.push(
        `${sample.where}: with OMNIBUS_TRANSPORT=bogus it must fail with TRANSPORT_UNKNOWN (exit ${bogus.status}, stderr: ${bogus.stderr.slice(0, 400)})`,
      );
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(`✖ ${p}`);
  process.exit(1);
}
console.log(`✔ ${ran} runnable documentation samples printed their documented output on ${transport}`);
