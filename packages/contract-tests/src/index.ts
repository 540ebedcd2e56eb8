export type { TransportContractOptions, ContractFaults, DeadLetteredMessage } from './contract-options.js';
