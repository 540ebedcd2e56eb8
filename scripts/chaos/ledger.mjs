// The chaos run's verdict from its ledger (pure): lost, duplicates, the dead-letter set, publish
// errors, and per fault the time until consumption resumed.

/** Events begun at or after a fault whose publish-to-ack times define "consumption resumed". */
const RESUME_SAMPLE = 20;

export function analyse({
  broker,
  runId,
  total,
  rate,
  maxAttempts,
  t0,
  published,
  settlements,
  publishErrors,
  faults,
  consumerStarts,
  brokerDeadLetters,
  deadLetterReasons,
  handled = new Set(),
  ackedInFile = new Set(),
}) {
  const firstAck = new Map();
  const acks = new Map();
  const deadLettered = new Map(); // id -> [attempt, ...]
  for (const s of settlements) {
    if (s.outcome === 'acked') {
      acks.set(s.id, (acks.get(s.id) ?? 0) + 1);
      if (!firstAck.has(s.id) || firstAck.get(s.id) > s.at) firstAck.set(s.id, s.at);
    } else if (s.outcome === 'dead-lettered') {
      deadLettered.set(s.id, [...(deadLettered.get(s.id) ?? []), s.attempt]);
    }
  }
  const entries = [...published].map(([id, e]) => ({ id, ...e }));
  const ok = entries.filter((e) => e.kind === 'ok');
  const bad = entries.filter((e) => e.kind !== 'ok');
  // The broker's own dead-letter destination, where it can be listed, is the authoritative set
  // (a consumer SIGKILLed right after dead-lettering may not have reported it).
  const dlqCopies = new Map();
  for (const id of brokerDeadLetters ?? []) dlqCopies.set(id, (dlqCopies.get(id) ?? 0) + 1);
  const isDead = (id) => deadLettered.has(id) || dlqCopies.has(id);
  // Lost: never acked. An event whose ack the broker confirmed (the consumer's own file says so,
  // written before the IPC report) but no consumer reported was acked by a consumer SIGKILLed
  // before its report reached us. An event handled but never acked, that never came back, is lost:
  // the broker dropped a message whose ack it never confirmed.
  const ackedSomewhere = (id) => acks.has(id) || ackedInFile.has(id);
  const lost = [...ok.filter((e) => !ackedSomewhere(e.id)), ...bad.filter((e) => !isDead(e.id))].map(
    (e) => e.id,
  );
  const handledUnreported = ok.filter((e) => !acks.has(e.id) && ackedInFile.has(e.id)).map((e) => e.id);
  const handledNotAcked = ok.filter((e) => !ackedSomewhere(e.id) && handled.has(e.id)).map((e) => e.id);
  const byId = new Map(entries.map((e) => [e.id, e]));
  const deadIds = new Set([...deadLettered.keys(), ...dlqCopies.keys()]);
  const faultRows = faults.map((f) => {
    // The events the application began to publish right after the fault (first try at or after
    // it): the longest time from that first try to its first ack is how long consumption of new
    // work stalled. It includes waiting for the broker to come back and any rebalance.
    const after = ok
      .filter((e) => e.at !== null && e.startedAt >= f.at)
      .sort((a, b) => a.startedAt - b.startedAt)
      .slice(0, RESUME_SAMPLE);
    const times = after.map((e) => firstAck.get(e.id));
    const resumeMs =
      after.length === 0 || times.some((t) => t === undefined)
        ? null
        : Math.max(0, ...after.map((e, i) => times[i] - e.startedAt));
    const endAt = f.endAt ?? f.at;
    const lastAck = resumeMs === null ? null : Math.max(...times);
    return {
      kind: f.kind,
      detail: f.detail,
      atMs: f.at - t0,
      durationMs: endAt - f.at,
      resumeMs,
      // From the moment the fault was over (a restarted broker ready again: the broker manager's
      // readiness, which includes the group coordinator serving requests) until the same sample was
      // consumed: the part of the stall that is the clients' recovery, not the broker's restart.
      resumeAfterReadyMs: lastAck === null ? null : Math.max(0, lastAck - endAt),
      // Another fault began before this one's sample was consumed: its resume includes that one.
      overlapped: faults.some((g) => g !== f && g.at > f.at && (lastAck === null || g.at < lastAck)),
    };
  });
  const ackTimes = [...firstAck.values()].map((t) => t - t0).sort((a, b) => a - b);
  return {
    broker,
    runId,
    messages: total,
    rate,
    maxAttempts,
    published: entries.length,
    durationMs: Math.max(0, ...ackTimes),
    lost,
    handledUnreported,
    handledNotAcked,
    // When each lost event was confirmed (ms after the start) and what the consumers reported for it.
    lostDetails: lost.slice(0, 20).map((id) => ({
      id,
      kind: byId.get(id)?.kind,
      confirmedAtMs:
        byId.get(id)?.at === null || byId.get(id)?.at === undefined ? null : byId.get(id).at - t0,
      firstTryAtMs: byId.get(id) === undefined ? null : byId.get(id).startedAt - t0,
      consumers: settlements
        .filter((s) => s.id === id)
        .map((s) => `${s.outcome}@${String(s.attempt)} +${String(s.at - t0)} ms`),
    })),
    duplicates: [...acks.values()].filter((n) => n > 1).length,
    duplicateDeliveries: [...acks.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
    deadLetters: {
      count: deadIds.size,
      expected: bad.length,
      poison: bad.filter((e) => e.kind === 'poison').length,
      malformed: bad.filter((e) => e.kind === 'malformed').length,
      twice: [...deadIds].filter(
        (id) => (deadLettered.get(id)?.length ?? 0) > 1 || (dlqCopies.get(id) ?? 0) > 1,
      ).length,
      pastMaxAttempts: [...deadLettered.values()].flat().filter((a) => a > maxAttempts).length,
      unexpected: [...deadIds].filter((id) => byId.get(id)?.kind === 'ok').length,
      unexpectedIds: [...deadIds]
        .filter((id) => byId.get(id)?.kind === 'ok')
        .slice(0, 20)
        .map(
          (id) =>
            `${id} ${deadLetterReasons?.[id] ?? ''}; consumers: ${settlements
              .filter((x) => x.id === id)
              .map((x) => `${x.outcome}@${String(x.attempt)}`)
              .join(' ')}`,
        ),
      unknownIds: [...deadIds].filter((id) => !byId.has(id)).slice(0, 20),
      source:
        brokerDeadLetters === undefined
          ? 'consumer reports'
          : 'broker dead-letter destination + consumer reports',
    },
    publishErrors: publishErrors.map((e) => ({ ...e, at: e.at - t0 })),
    faults: faultRows,
    consumerStarts: consumerStarts.map((s) => ({ ...s, at: s.at - t0 })),
    ackTimesMs: ackTimes,
  };
}
