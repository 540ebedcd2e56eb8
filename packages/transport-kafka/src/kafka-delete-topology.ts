import { ErrorCodes, OmnibusError } from '@omnibus/core';
import { sleep, withTimeout } from '@omnibus/core/adapter-kit';
import type { KafkaClientPort } from './kafka-client-port.js';
import { mapKafkaError } from './kafka-error-mapper.js';

/** What {@link deleteKafkaTopology} removes, and how long it may take. */
export interface KafkaTopologyDeletion {
  /** Consumer group ids whose committed offsets go (a missing group is not an error). */
  readonly groupIds: readonly string[];
  /** Topics to delete with their records (missing topics are skipped). */
  readonly topics: readonly string[];
  /** The whole deletion is bounded by this many ms; past it, a retriable `PROVISIONING_FAILED`. */
  readonly timeoutMs: number;
}

/** Per-group outcome kafkajs attaches to its `KafkaJSDeleteGroupsError`. */
interface GroupFailure {
  readonly groupId?: unknown;
  readonly error?: { readonly type?: unknown };
}

/** Group errors that clear up by themselves: a member still leaving, a coordinator moving. */
const GROUP_WAIT = new Set([
  'NON_EMPTY_GROUP',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
]);

/**
 * Delete consumer groups (their committed offsets) and then topics, through the admin client,
 * and wait until the cluster no longer lists the topics. Idempotent: a missing group or topic
 * is skipped. Bounded by `timeoutMs`: a group that still has members, a controller that does not
 * answer or a topic still listed when it runs out rejects with a retriable `PROVISIONING_FAILED`
 * naming what is left; broker refusals (e.g. `TOPIC_AUTHORIZATION_FAILED`, deletion disabled)
 * are mapped by {@link mapKafkaError}.
 */
export async function deleteKafkaTopology(
  client: KafkaClientPort,
  deletion: KafkaTopologyDeletion,
): Promise<void> {
  const deadline = Date.now() + deletion.timeoutMs;
  const left = (): number => deadline - Date.now();
  const timedOut = (what: string): OmnibusError =>
    new OmnibusError(
      ErrorCodes.PROVISIONING_FAILED,
      `Kafka topology deletion did not finish within ${String(deletion.timeoutMs)} ms: ${what}`,
      { retriable: true },
    );

  let groups = [...new Set(deletion.groupIds)];
  while (groups.length > 0) {
    let failure: unknown;
    const attempt = await withTimeout(
      client.deleteGroups(groups).then(
        () => [] as string[],
        (error: unknown) => {
          failure = error;
          return waitingGroups(error);
        },
      ),
      Math.max(0, left()),
    );
    if (!attempt.settled) throw timedOut(`consumer group(s) ${groups.join(', ')} not deleted`);
    if (attempt.value === undefined) throw mapKafkaError(failure, 'provision', groups.join(', '));
    groups = attempt.value;
    if (groups.length === 0) break;
    if (left() <= 0) throw timedOut(`consumer group(s) ${groups.join(', ')} still have members`);
    await sleep(Math.min(250, left()));
  }

  const names = [...new Set(deletion.topics)];
  const existing = async (): Promise<string[]> => {
    try {
      return (await client.describeTopics(names)).map((t) => t.name);
    } catch (error) {
      throw mapKafkaError(error, 'provision', names.join(', '));
    }
  };
  let present = await existing();
  if (present.length === 0) return;
  const deleted = await withTimeout(
    client.deleteTopics(present, Math.max(1, left())).catch((error: unknown) => {
      throw mapKafkaError(error, 'provision', present.join(', '));
    }),
    Math.max(0, left()),
  );
  if (!deleted.settled) throw timedOut(`topic(s) ${present.join(', ')} not deleted`);
  // The controller answered; metadata reaches every broker shortly after.
  for (;;) {
    present = await existing();
    if (present.length === 0) return;
    if (left() <= 0) throw timedOut(`topic(s) ${present.join(', ')} still listed`);
    await sleep(Math.min(100, left()));
  }
}

/**
 * The groups of a failed group deletion to try again (still-leaving members, a moving
 * coordinator), `[]` when every failure was a missing group, or `undefined` when some failure is
 * final.
 */
function waitingGroups(error: unknown): string[] | undefined {
  const failures = (error as { groups?: unknown }).groups;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  const again: string[] = [];
  for (const failure of failures as GroupFailure[]) {
    const type = failure.error?.type;
    if (type === 'GROUP_ID_NOT_FOUND') continue;
    if (typeof type !== 'string' || !GROUP_WAIT.has(type) || typeof failure.groupId !== 'string')
      return undefined;
    again.push(failure.groupId);
  }
  return again;
}
