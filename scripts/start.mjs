#!/usr/bin/env node
// `npm start` and `npm run bench`: build, then run a compiled entry point (with its arguments).
// On a machine whose node is older than 22 it runs itself under the project's Node 24 (node-runtime.mjs).
// Usage: node scripts/start.mjs <compiled entry .js> [args...]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runUnderSupportedNode } from './node-runtime.mjs';

runUnderSupportedNode();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/start.mjs <compiled entry .js> [args...]');
  process.exit(2);
}
const tsc = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.json'],
  { cwd: root, stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const run = spawnSync(process.execPath, [path.resolve(root, entry), ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
