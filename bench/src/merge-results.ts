import type { BenchResults } from './results.js';

/**
 * Add to `primary` every measurement of `other` whose transport `primary` did not measure
 * (e.g. a broker re-run after something else restarted it mid-run), with its subject
 * descriptions and notes, marked with the other run's start time. Returns a new object.
 */
export function mergeResults(primary: BenchResults, other: BenchResults): BenchResults {
  const own = new Set(primary.measurements.map((m) => m.transport));
  const added = other.measurements.filter((m) => !own.has(m.transport));
  const transports = [...new Set(added.map((m) => m.transport))];
  if (transports.length === 0) return primary;
  const subjects = { ...primary.meta.subjects };
  for (const t of transports) {
    const s = other.meta.subjects[t];
    if (s !== undefined) subjects[t] = s;
  }
  const origin = `run started ${other.meta.startedAt}`;
  const notes = [
    ...primary.meta.notes,
    `${transports.join(', ')}: measured in a separate ${origin} (load average at its start ${other.meta.loadAverage.start.map((l) => l.toFixed(2)).join(' / ')}).`,
    ...other.meta.notes.filter((n) => transports.some((t) => n.startsWith(`${t}:`))).map((n) => `${n} (${origin})`),
  ];
  return { meta: { ...primary.meta, subjects, notes }, measurements: [...primary.measurements, ...added] };
}
