import { ErrorCodes, OmnibusError, type BacklogCapability, type BacklogReading } from '@omnibus/core';
import type { EntityProvisioner } from './provisioning/entity-provisioner.js';

/**
 * What backlog the transport reports with its provisioning mode: the subscription's active
 * message count through the management plane (`admin-client`, flagged approximate because the
 * service updates runtime counts asynchronously; the `emulator` admin API counts exactly), nothing
 * with `none` (no management access).
 */
export function azureBacklogCapability(
  provisioner: EntityProvisioner,
  provisioning: string,
): BacklogCapability | undefined {
  if (provisioner.activeMessageCount === undefined) return undefined;
  return { kind: 'active', approximate: provisioning !== 'emulator' };
}

/** One read of a group subscription's active count. Rejects with `BACKLOG_UNAVAILABLE`. */
export async function readAzureBacklog(
  provisioner: EntityProvisioner,
  capability: BacklogCapability,
  topic: string,
  subscription: string,
  destination: string,
  group: string,
): Promise<BacklogReading> {
  try {
    const count = await (
      provisioner.activeMessageCount as NonNullable<EntityProvisioner['activeMessageCount']>
    )(topic, subscription);
    return { destination, group, messages: count, ...capability };
  } catch (error) {
    throw new OmnibusError(
      ErrorCodes.BACKLOG_UNAVAILABLE,
      `Service Bus could not report the active count of subscription "${topic}/${subscription}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, retriable: true },
    );
  }
}
