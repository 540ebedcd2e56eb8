/**
 * For adapters that emulate delays with a fixed set of delay queues/topics (RabbitMQ TTL
 * queues, Kafka retry topics): the smallest tier that is ≥ `delayMs`, so a message is never
 * delivered *before* its delay (it may arrive up to one tier step late). `undefined` when the
 * delay is longer than the largest tier. `tiersMs` must be sorted ascending.
 */
export function chooseDelayTier(delayMs: number, tiersMs: readonly number[]): number | undefined {
  for (const tier of tiersMs) {
    if (tier >= delayMs) return tier;
  }
  return undefined;
}
