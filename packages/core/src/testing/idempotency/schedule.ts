import { seededRandom } from '../seeded-random.js';

/** What the adversary does to one delivery (at most once per message and group). */
export type FaultKind = 'none' | 'duplicate' | 'ack-lost' | 'crash';

/** One decision of a schedule: which waiting message goes next, and what happens to it. */
export interface Decision {
  /** Index among the deliverable messages (oldest first); 0 is publication order. */
  readonly pick: number;
  readonly fault: FaultKind;
  /** For `crash`: the handler's publish at which the process dies (1 = its first). */
  readonly at: number;
}

/** The decision of a clean run: oldest first, no fault. */
export const CLEAN: Decision = { pick: 0, fault: 'none', at: 1 };

/** A source of decisions for one run; records what it handed out. */
export interface DecisionSource {
  next(): Decision;
  readonly taken: Decision[];
}

/** Decisions replayed from a list; past its end, {@link CLEAN}. */
export function replay(decisions: readonly Decision[]): DecisionSource {
  const taken: Decision[] = [];
  return {
    taken,
    next: () => {
      const decision = decisions[taken.length] ?? CLEAN;
      taken.push(decision);
      return decision;
    },
  };
}

const FAULTS: readonly FaultKind[] = ['duplicate', 'ack-lost', 'crash'];

/** Seeded random decisions ({@link seededRandom}): the same seed gives the same schedule. */
export function randomDecisions(seed: number, faultRate: number): DecisionSource {
  const source = seededRandom(seed);
  const random = (): number => source.next();
  const taken: Decision[] = [];
  return {
    taken,
    next: () => {
      const pick = Math.floor(random() * 1_000);
      const faulty = random() < faultRate;
      const fault = faulty ? (FAULTS[Math.floor(random() * FAULTS.length)] ?? 'duplicate') : 'none';
      const decision: Decision = { pick, fault, at: 1 + Math.floor(random() * 3) };
      taken.push(decision);
      return decision;
    },
  };
}
