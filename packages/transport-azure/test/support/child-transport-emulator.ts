// Loaded by the contract suite's SIGKILL child process (faults.childTransportModule).
import type { Transport } from '@omnibus/core';
import { createEmulatorTransport } from './contract-config.js';

/** The transport the child consumer uses: same options as the emulator contract run. */
export function createTransport(): Transport {
  return createEmulatorTransport();
}
