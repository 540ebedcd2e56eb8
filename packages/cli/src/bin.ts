#!/usr/bin/env node
import { processIo } from './cli-io.js';
import { runCli } from './run-cli.js';

const code = await runCli(process.argv.slice(2), processIo());
// Exit explicitly: a transport that was asked to connect may keep retrying in the background.
process.exit(code);
