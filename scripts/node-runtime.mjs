#!/usr/bin/env node
// Supported Node.js lines: 22 and 24. When the machine's own node is older (our machines ship
// Node 20), the project installs a Node binary from the npm registry (package
// node-<platform>-<arch>) into the git-ignored .cache/node/<version>/ and runs itself under it.
//
//   import { runUnderSupportedNode } from './node-runtime.mjs'; runUnderSupportedNode();
//       re-executes the calling script under Node 24 when the current node is older than 22
//   node scripts/node-runtime.mjs bin 24|22
//       installs that line if needed and prints the path of its bin directory (used by .ci/run)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The exact release installed for each supported line. */
export const NODE_LINES = { 24: '24.22.3', 22: '22.23.5' };
/** The oldest major this project runs on. */
export const OLDEST_SUPPORTED_MAJOR = 22;

const pkg = `node-${process.platform}-${process.arch}`;

/** Directory holding the `node` binary of a supported line, installed from npm on first use. */
export function nodeBinDir(line) {
  const version = NODE_LINES[line];
  if (!version)
    throw new Error(`unsupported Node.js line ${line}; supported: ${Object.keys(NODE_LINES).join(', ')}`);
  const home = path.join(root, '.cache', 'node', version);
  const bin = path.join(home, 'node_modules', pkg, 'bin');
  if (existsSync(path.join(bin, 'node'))) return bin;
  // Install into a private directory and rename, so two scripts starting at once never see half a binary.
  const staging = `${home}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  // Its own package.json, so npm never walks up into the repository's workspaces.
  writeFileSync(
    path.join(staging, 'package.json'),
    `${JSON.stringify({ name: 'omnibus-node-runtime', private: true })}\n`,
  );
  process.stderr.write(
    `▶ installing Node.js ${version} from the npm registry (${pkg}) into ${path.relative(root, home)}\n`,
  );
  const npm = spawnSync(
    'npm',
    [
      'install',
      '--prefix',
      staging,
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      '--save-exact',
      '--engine-strict=false',
      `${pkg}@${version}`,
    ],
    { cwd: staging, stdio: ['ignore', 'ignore', 'inherit'], timeout: 10 * 60_000 },
  );
  if (npm.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `npm could not install ${pkg}@${version} (exit ${npm.status ?? npm.signal}); see the npm output above`,
    );
  }
  if (!existsSync(path.join(staging, 'node_modules', pkg, 'bin', 'node'))) {
    throw new Error(`${pkg}@${version} did not provide bin/node`);
  }
  try {
    renameSync(staging, home);
  } catch (error) {
    // Another process won the race: use its copy.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(path.join(bin, 'node'))) throw error;
  }
  return bin;
}

/**
 * Re-executes the running script under the project's Node 24 when the current node is older than
 * the oldest supported line, and exits with its exit code. Does nothing on Node 22 or newer.
 * Node 24's bin directory goes first on PATH, so every `node` the script spawns is Node 24 too.
 */
export function runUnderSupportedNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= OLDEST_SUPPORTED_MAJOR) return;
  const bin = nodeBinDir(24);
  process.stderr.write(
    `▶ this machine's Node.js is ${process.version}; Omnibus supports 22 and 24, so running under the project's Node ${NODE_LINES[24]}\n`,
  );
  const result = spawnSync(path.join(bin, 'node'), [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
  });
  process.exit(result.status ?? 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command, line] = process.argv.slice(2);
  if (command !== 'bin' || !line) {
    console.error('usage: node scripts/node-runtime.mjs bin 24|22');
    process.exit(2);
  }
  console.log(nodeBinDir(line));
}
