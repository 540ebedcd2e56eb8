import { ServiceBusAdministrationClient } from '@azure/service-bus';
import { ErrorCodes, OmnibusError } from '@omnibus/core';
import { isEntityNotFound, mapAzureError } from '../azure-error-mapper.js';
import { toIsoDuration } from './entity-provisioner.js';
import type { EntityProvisioner, SubscriptionSettings } from './entity-provisioner.js';

/** Name of the rule Service Bus creates with every subscription. */
const DEFAULT_RULE = '$Default';

/**
 * Production provisioner on `ServiceBusAdministrationClient` (ATOM over HTTPS, needs Manage
 * rights). In `create` mode missing topics and subscriptions are created (a concurrent creator
 * winning the race is fine) and an existing subscription's `$Default` rule is brought to the
 * transport's filter (retry copies, pushed-down header filters); in `verify` mode nothing is
 * created or changed and a missing entity fails. Lock duration and max delivery count of existing
 * subscriptions stay as the operator set them; a session-mode mismatch fails because it cannot be
 * changed in place.
 *
 * Idempotent and safe to call concurrently. Errors reject as `PROVISIONING_FAILED`.
 */
export class AdminClientProvisioner implements EntityProvisioner {
  /** In `create` mode an existing subscription's `$Default` rule is brought to the wanted filter. */
  readonly managesRules: boolean;
  readonly #admin: ServiceBusAdministrationClient;
  readonly #mode: 'create' | 'verify';

  constructor(connectionString: string, mode: 'create' | 'verify') {
    this.#admin = new ServiceBusAdministrationClient(connectionString);
    this.#mode = mode;
    this.managesRules = mode === 'create';
  }

  /** Create (or verify) a topic. */
  async ensureTopic(topic: string): Promise<void> {
    try {
      if (await this.#admin.topicExists(topic)) return;
      if (this.#mode === 'verify') throw missing(`topic "${topic}"`);
      await this.#admin.createTopic(topic).catch(ignoreAlreadyExists);
    } catch (error) {
      throw mapAzureError(error, 'provision', `topic "${topic}"`);
    }
  }

  /** `activeMessageCount` of the subscription's runtime properties (needs Manage rights). */
  async activeMessageCount(topic: string, subscription: string): Promise<number> {
    const properties = await this.#admin.getSubscriptionRuntimeProperties(topic, subscription);
    return properties.activeMessageCount;
  }

  /** Create (or verify) a subscription; a different session mode on an existing one fails. */
  async ensureSubscription(
    topic: string,
    subscription: string,
    settings: SubscriptionSettings,
  ): Promise<void> {
    const subject = `subscription "${topic}/${subscription}"`;
    try {
      const existing = await this.#admin.getSubscription(topic, subscription).catch((error: unknown) => {
        if (isEntityNotFound(error)) return undefined;
        throw error;
      });
      if (existing === undefined) {
        if (this.#mode === 'verify') throw missing(subject);
        await this.#admin
          .createSubscription(topic, subscription, {
            requiresSession: settings.requiresSession,
            lockDuration: toIsoDuration(settings.lockDurationMs),
            maxDeliveryCount: settings.maxDeliveryCount,
            deadLetteringOnMessageExpiration: true,
            ...(settings.sqlFilter === undefined
              ? {}
              : {
                  defaultRuleOptions: { name: DEFAULT_RULE, filter: { sqlExpression: settings.sqlFilter } },
                }),
          })
          .catch(ignoreAlreadyExists);
        return;
      }
      if (existing.requiresSession !== settings.requiresSession) {
        throw new OmnibusError(
          ErrorCodes.PROVISIONING_FAILED,
          `Azure Service Bus ${subject} has requiresSession=${String(existing.requiresSession)} but the group is ${
            settings.requiresSession ? 'ordered (needs sessions)' : 'unordered (must not use sessions)'
          }; session mode cannot be changed, delete and recreate the subscription`,
        );
      }
      if (this.#mode === 'create') await this.#reconcileDefaultRule(topic, subscription, settings.sqlFilter);
    } catch (error) {
      throw mapAzureError(error, 'provision', subject);
    }
  }

  /**
   * Bring an existing subscription's `$Default` rule to `sqlFilter` (`1=1` when undefined): one
   * in-place `updateRule`, so the subscription never has no rule; created when missing.
   */
  async #reconcileDefaultRule(
    topic: string,
    subscription: string,
    sqlFilter: string | undefined,
  ): Promise<void> {
    const sqlExpression = sqlFilter ?? '1=1';
    const rule = await this.#admin.getRule(topic, subscription, DEFAULT_RULE).catch((error: unknown) => {
      if (isEntityNotFound(error)) return undefined;
      throw error;
    });
    if (rule === undefined) {
      await this.#admin
        .createRule(topic, subscription, DEFAULT_RULE, { sqlExpression })
        .catch(ignoreAlreadyExists);
      return;
    }
    const current = (rule.filter as { sqlExpression?: unknown }).sqlExpression;
    if (current === sqlExpression) return;
    rule.filter = { sqlExpression };
    await this.#admin.updateRule(topic, subscription, rule);
  }

  /** The topic's subscription count from its runtime properties (one management request). */
  async hasSubscriptions(topic: string): Promise<boolean> {
    try {
      return ((await this.#admin.getTopicRuntimeProperties(topic)).subscriptionCount ?? 0) > 0;
    } catch (error) {
      throw mapAzureError(error, 'publish', `topic "${topic}" (counting its subscriptions)`);
    }
  }

  /** `topicExists` / `subscriptionExists` of the admin client (one management request). */
  async exists(topic: string, subscription?: string): Promise<boolean> {
    const subject =
      subscription === undefined ? `topic "${topic}"` : `subscription "${topic}/${subscription}"`;
    try {
      return subscription === undefined
        ? await this.#admin.topicExists(topic)
        : await this.#admin.subscriptionExists(topic, subscription);
    } catch (error) {
      throw mapAzureError(error, 'provision', `checking whether ${subject} exists`);
    }
  }

  /** Delete a subscription (a missing one is fine). */
  async deleteSubscription(topic: string, subscription: string): Promise<void> {
    try {
      await this.#admin.deleteSubscription(topic, subscription);
    } catch (error) {
      if (!isEntityNotFound(error))
        throw mapAzureError(error, 'provision', `deleting subscription "${topic}/${subscription}"`);
    }
  }

  /** Delete a topic with its subscriptions (a missing one is fine). */
  async deleteTopic(topic: string): Promise<void> {
    try {
      await this.#admin.deleteTopic(topic);
    } catch (error) {
      if (!isEntityNotFound(error)) throw mapAzureError(error, 'provision', `deleting topic "${topic}"`);
    }
  }

  /** The admin client holds no connection; nothing to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function missing(subject: string): OmnibusError {
  return new OmnibusError(
    ErrorCodes.PROVISIONING_FAILED,
    `Azure Service Bus ${subject} does not exist (provisionMode=verify creates nothing; create it or use provisionMode=create)`,
  );
}

function ignoreAlreadyExists(error: unknown): void {
  const e = error as { code?: unknown; statusCode?: unknown };
  if (e.code === 'MessagingEntityAlreadyExists' || e.statusCode === 409) return;
  throw error;
}
