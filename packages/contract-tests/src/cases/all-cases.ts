import type { ContractCaseGroup } from '../contract-case.js';
import { backlogCases } from './backlog.js';
import { basicsCases } from './basics.js';
import { closeCases } from './close.js';
import { concurrencyCases } from './concurrency.js';
import { sigkillCase } from './crash.js';
import { deadLetterCases } from './dead-letter.js';
import { deadLetterStoreCases } from './dead-letter-store.js';
import { endToEndCases } from './end-to-end.js';
import { flowCases } from './flows.js';
import { batchCases, declarationCases, duplicateCases } from './duplicates-and-batches.js';
import { groupCases } from './groups.js';
import { headerCases } from './headers.js';
import { noSubscriberCases } from './no-subscribers.js';
import { orderingCases } from './ordering.js';
import { persistenceCases } from './persistence.js';
import { poisonCases } from './poison.js';
import { reconnectCases } from './reconnect.js';
import { recoveryCases } from './publish-outage.js';
import { retryCases } from './retry.js';
import { settlementCases } from './settlement.js';
import { delayCases, sizeCases } from './size-and-delay.js';
import { telemetryCases } from './telemetry.js';
import { volumeCases } from './volume.js';

/** Every case of the contract suite, grouped by catalogue letter, in registration order. */
export const allCaseGroups: readonly ContractCaseGroup[] = [
  declarationCases,
  basicsCases,
  headerCases,
  { ...settlementCases, cases: [...settlementCases.cases, sigkillCase] },
  retryCases,
  deadLetterCases,
  deadLetterStoreCases,
  orderingCases,
  groupCases,
  noSubscriberCases,
  concurrencyCases,
  persistenceCases,
  reconnectCases,
  recoveryCases,
  closeCases,
  poisonCases,
  sizeCases,
  delayCases,
  duplicateCases,
  batchCases,
  endToEndCases,
  flowCases,
  telemetryCases,
  volumeCases,
  backlogCases,
];
