import type { Transport, TransportStatus, TransportStatusListener } from '../transport.js';

const STATUS_RANK: readonly TransportStatus[] = [
  'ready',
  'idle',
  'connecting',
  'reconnecting',
  'closing',
  'closed',
];

/** The least healthy status of `transports` (`closed` > `closing` > `reconnecting` > `connecting` > `idle` > `ready`). Pure. */
export function worstStatus(transports: readonly Transport[]): TransportStatus {
  let worst = 0;
  for (const transport of transports) worst = Math.max(worst, STATUS_RANK.indexOf(transport.status));
  return STATUS_RANK[worst] ?? 'idle';
}

/**
 * Listen to the combined status of several transports: `listener` gets their
 * {@link worstStatus} whenever it changes, or when one of them reports an error. Returns a
 * disposer that detaches from every transport.
 */
export function onCombinedStatusChange(
  transports: readonly Transport[],
  listener: TransportStatusListener,
): () => void {
  let last = worstStatus(transports);
  const disposers = transports.map((transport) =>
    transport.onStatusChange((_status, error) => {
      const now = worstStatus(transports);
      if (now === last && error === undefined) return;
      last = now;
      listener(now, error);
    }),
  );
  return () => {
    for (const dispose of disposers) dispose();
  };
}
