import type { TransportCapabilities } from '@omnibus/core';
import type { TransportContractOptions } from './contract-options.js';
import type { CaseContext } from './support/case-context.js';

/** A fault hook a case needs (see {@link ContractFaults}). */
export type FaultHook = 'restartBroker' | 'dropConnections' | 'childTransportModule';

/**
 * One case of the contract suite. `id` is stable (catalogue letter + number, e.g. `D1`) and
 * `rules` names the delivery-contract rules it checks (`DELIVERY_RULES`,
 * docs/concepts/delivery-contract.md); both appear in the test title and the report.
 */
export interface ContractCase {
  readonly id: string;
  readonly rules: readonly number[];
  /** What must hold, phrased as a fact, e.g. `a retry is not redelivered before its delay`. */
  readonly title: string;
  /**
   * Capability gate: a reason such as `capability delayedDelivery=false` when the transport's
   * capabilities exclude the case (reported as skipped, never passed); `undefined` to run it.
   */
  readonly requires?: (
    capabilities: TransportCapabilities,
    options: TransportContractOptions,
  ) => string | undefined;
  /** Fault hooks the case needs; it is a fault case (skipped when `runFaultCases` is false). */
  readonly faults?: readonly FaultHook[];
  /** Base timeout (ms, multiplied by `timeScale`); default 15 s. */
  readonly timeoutMs?: number;
  /** Base timeout computed from the options (sized cases such as V1); takes precedence over `timeoutMs`. */
  readonly timeoutFor?: (options: TransportContractOptions) => number;
  /** The case body. Throw (e.g. a chai assertion) to fail. The ledger is verified afterwards. */
  run(ctx: CaseContext): Promise<void>;
}

/** A titled group of cases (a catalogue letter). */
export interface ContractCaseGroup {
  readonly letter: string;
  readonly title: string;
  readonly cases: readonly ContractCase[];
}

/** `[rule 4] D1 a retry is …` / `[rules 5, 6] E4 …`. */
export function caseTitle(contractCase: ContractCase): string {
  const rules = contractCase.rules;
  const label = rules.length === 1 ? `rule ${String(rules[0])}` : `rules ${rules.join(', ')}`;
  return `[${label}] ${contractCase.id} ${contractCase.title}`;
}
