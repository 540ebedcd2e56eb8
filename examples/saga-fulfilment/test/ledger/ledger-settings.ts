// What the saga ledger's processes share: settings, names and the ledger table.
import {
  fulfilmentEvents,
  fulfilmentSaga,
  type FulfilmentEvents,
  type FulfilmentState,
} from '../../src/fulfilment.js';
import type { SagaDefinition } from '@omnibus/saga';

/** Settings of a ledger consumer, passed as JSON in argv[2]. */
export interface SagaLedgerSettings {
  readonly url: string;
  readonly schema: string;
  readonly transport: string;
  /** Unique per run: event, destination and group names. */
  readonly run: string;
  readonly paymentTimeoutMs: number;
}

/** The run's events and saga. */
export function ledgerFlow(settings: SagaLedgerSettings): {
  events: FulfilmentEvents;
  saga: SagaDefinition<FulfilmentState>;
} {
  const events = fulfilmentEvents(`sagaledger.${settings.run}`);
  return {
    events,
    saga: fulfilmentSaga(`sagaledger.${settings.run}.fulfilment`, events, settings.paymentTimeoutMs),
  };
}

/** Orders placed (with their OrderPlaced in the same transaction) and the services' effects (one row per application). */
export const ledgerDdl = (schema: string): string => `
CREATE TABLE "${schema}".ledger_orders (order_id text PRIMARY KEY);
CREATE TABLE "${schema}".ledger_effects (kind text NOT NULL, order_id text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
`;
