import { ErrorCodes, OmnibusError } from '@omnibus/core';
import type { EntityProvisioner, SubscriptionSettings } from './entity-provisioner.js';

/** Time allowed for one admin request to the local emulator. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Test provisioner for the repository's Service Bus emulator (tools/servicebus-emulator). The
 * emulator has no ATOM management endpoint (neither has the official one), so entities are
 * created through its loopback HTTP admin API: `GET`/`PUT /topics/:topic` and
 * `/topics/:topic/subscriptions/:subscription` with JSON `{lockDurationMs, maxDeliveryCount,
 * requiresSession, filter}`. `filter` is `{ sqlExpression: settings.sqlFilter }`, the same rule
 * the admin client creates in production (the emulator evaluates that SQL shape), so retry copies
 * addressed to other groups are filtered by the broker here too.
 *
 * An existing subscription whose rule differs from `settings.sqlFilter` gets the wanted rule (a
 * PUT replaces it in one step, like `updateRule` in production).
 *
 * Idempotent (GET first, PUT when missing or different) and safe to call concurrently. Errors reject as
 * `PROVISIONING_FAILED`; an unreachable emulator is retriable.
 */
export class EmulatorProvisioner implements EntityProvisioner {
  /** An existing subscription's rule is replaced when its filter differs. */
  readonly managesRules = true;
  readonly #baseUrl: string;

  constructor(adminUrl: string) {
    this.#baseUrl = adminUrl.replace(/\/+$/, '');
  }

  /** Create the topic when missing. */
  async ensureTopic(topic: string): Promise<void> {
    const path = `/topics/${encodeURIComponent(topic)}`;
    if ((await this.#request('GET', path)).status === 200) return;
    await this.#put(path, {}, `topic "${topic}"`);
  }

  /** Create the subscription when missing; an existing one must have the same session mode. */
  async ensureSubscription(
    topic: string,
    subscription: string,
    settings: SubscriptionSettings,
  ): Promise<void> {
    const path = `/topics/${encodeURIComponent(topic)}/subscriptions/${encodeURIComponent(subscription)}`;
    const subject = `subscription "${topic}/${subscription}"`;
    const existing = await this.#request('GET', path);
    const wanted = {
      requiresSession: settings.requiresSession,
      lockDurationMs: settings.lockDurationMs,
      maxDeliveryCount: settings.maxDeliveryCount,
      ...(settings.sqlFilter === undefined ? {} : { filter: { sqlExpression: settings.sqlFilter } }),
    };
    if (existing.status === 200) {
      const body = existing.body as
        | {
            requiresSession?: unknown;
            filter?: { sqlExpression?: unknown };
            options?: { requiresSession?: unknown; filter?: { sqlExpression?: unknown } };
          }
        | undefined;
      const requiresSession = body?.options?.requiresSession ?? body?.requiresSession;
      if (typeof requiresSession === 'boolean' && requiresSession !== settings.requiresSession) {
        throw new OmnibusError(
          ErrorCodes.PROVISIONING_FAILED,
          `Emulator ${subject} has requiresSession=${String(requiresSession)}, expected ${String(settings.requiresSession)}`,
        );
      }
      // The rule is the transport's: bring it to the wanted filter (one atomic replace).
      const rule = (body?.options ?? body)?.filter?.sqlExpression;
      if (rule !== settings.sqlFilter) await this.#put(path, wanted, subject);
      return;
    }
    await this.ensureTopic(topic);
    await this.#put(path, wanted, subject);
  }

  /** `counts.active` of the emulator's `GET /topics/:topic/subscriptions/:sub` (locked messages included). */
  async activeMessageCount(topic: string, subscription: string): Promise<number> {
    const path = `/topics/${encodeURIComponent(topic)}/subscriptions/${encodeURIComponent(subscription)}`;
    const response = await this.#request('GET', path);
    const active = (response.body as { counts?: { active?: unknown } } | undefined)?.counts?.active;
    if (response.status !== 200 || typeof active !== 'number')
      throw new Error(
        `emulator answered HTTP ${String(response.status)} ${JSON.stringify(response.body ?? '')}`,
      );
    return active;
  }

  /** `GET /topics/:topic` lists the topic's subscriptions. */
  async hasSubscriptions(topic: string): Promise<boolean> {
    const response = await this.#request('GET', `/topics/${encodeURIComponent(topic)}`);
    if (response.status === 404) return false;
    const subscriptions = (response.body as { subscriptions?: unknown } | undefined)?.subscriptions;
    if (response.status !== 200 || !Array.isArray(subscriptions)) {
      throw new OmnibusError(
        ErrorCodes.PUBLISH_FAILED,
        `Emulator could not list the subscriptions of topic "${topic}": HTTP ${String(response.status)}`,
        { retriable: response.status >= 500 },
      );
    }
    return subscriptions.length > 0;
  }

  /** `GET /topics/:topic` or `/topics/:topic/subscriptions/:sub`: 200 present, 404 missing. */
  async exists(topic: string, subscription?: string): Promise<boolean> {
    const path =
      `/topics/${encodeURIComponent(topic)}` +
      (subscription === undefined ? '' : `/subscriptions/${encodeURIComponent(subscription)}`);
    const response = await this.#request('GET', path);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw new OmnibusError(
      ErrorCodes.PROVISIONING_FAILED,
      `Emulator could not tell whether ${path} exists: HTTP ${String(response.status)} ${JSON.stringify(response.body ?? '')}`,
      { retriable: response.status >= 500 },
    );
  }

  /** `DELETE /topics/:topic/subscriptions/:sub` (404 is fine). */
  deleteSubscription(topic: string, subscription: string): Promise<void> {
    const path = `/topics/${encodeURIComponent(topic)}/subscriptions/${encodeURIComponent(subscription)}`;
    return this.#delete(path, `subscription "${topic}/${subscription}"`);
  }

  /** `DELETE /topics/:topic` (404 is fine). */
  deleteTopic(topic: string): Promise<void> {
    return this.#delete(`/topics/${encodeURIComponent(topic)}`, `topic "${topic}"`);
  }

  /** Nothing is kept open between requests. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  async #put(path: string, body: object, subject: string): Promise<void> {
    const response = await this.#request('PUT', path, body);
    if (response.status >= 200 && response.status < 300) return;
    if (response.status === 409) return; // created concurrently
    throw new OmnibusError(
      ErrorCodes.PROVISIONING_FAILED,
      `Emulator refused to create ${subject}: HTTP ${String(response.status)} ${JSON.stringify(response.body ?? '')}`,
      { retriable: response.status >= 500 },
    );
  }

  async #delete(path: string, subject: string): Promise<void> {
    const response = await this.#request('DELETE', path);
    if ((response.status >= 200 && response.status < 300) || response.status === 404) return;
    throw new OmnibusError(
      ErrorCodes.PROVISIONING_FAILED,
      `Emulator refused to delete ${subject}: HTTP ${String(response.status)} ${JSON.stringify(response.body ?? '')}`,
      { retriable: response.status >= 500 },
    );
  }

  async #request(
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    body?: object,
  ): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new OmnibusError(
        ErrorCodes.PROVISIONING_FAILED,
        `Emulator admin API at ${this.#baseUrl} is unreachable (${method} ${path}): ${(error as Error).message}`,
        { retriable: true, cause: error },
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // keep the raw text for the error message
    }
    return { status: response.status, body: parsed };
  }
}
