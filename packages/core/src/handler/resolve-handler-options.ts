import { nameProblem } from '../events/names.js';
import { batchProblems } from './batch-handler.js';
import { filterProblems } from './handler-filter.js';
import { DEFAULT_RETRY_POLICY, retryPolicyProblems, type RetryPolicy } from '../retry/retry-policy.js';
import {
  DEFAULT_HANDLER_CONCURRENCY,
  DEFAULT_HANDLER_TIMEOUT_MS,
  type EventHandlerOptions,
  type ResolvedHandlerOptions,
} from './event-handler-options.js';

/** Bus-level defaults applied to every handler's unspecified options. */
export interface HandlerDefaults {
  /** Group for handlers that name none. */
  readonly group?: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  readonly deadLetter?: boolean;
}

/** Outcome of {@link resolveHandlerOptions}. */
export type ResolveOptionsResult =
  | { readonly ok: true; readonly options: ResolvedHandlerOptions }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Apply defaults (handler → bus defaults → built-in) and validate every option, collecting
 * all problems. Pure.
 */
export function resolveHandlerOptions(
  options: EventHandlerOptions,
  defaults: HandlerDefaults = {},
): ResolveOptionsResult {
  const problems: string[] = [];
  const raw = (options ?? {}) as Record<string, unknown>;
  const known = new Set([
    'group',
    'concurrency',
    'ordered',
    'timeoutMs',
    'retry',
    'deadLetter',
    'middleware',
    'filter',
    'batch',
  ]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) problems.push(`unknown option "${key}" (known: ${[...known].join(', ')})`);
  }
  const group = options.group ?? defaults.group;
  if (group === undefined) problems.push('no consumer group');
  else {
    const problem = nameProblem('group', group);
    if (problem !== undefined) problems.push(problem);
  }
  const concurrency = options.concurrency ?? defaults.concurrency ?? DEFAULT_HANDLER_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    problems.push(`concurrency must be an integer ≥ 1, got ${String(concurrency)}`);
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)
    problems.push(`timeoutMs must be a number > 0, got ${String(timeoutMs)}`);
  const ordered = options.ordered ?? false;
  if (typeof ordered !== 'boolean') problems.push(`ordered must be a boolean, got ${String(ordered)}`);
  const deadLetter = options.deadLetter ?? defaults.deadLetter ?? true;
  if (typeof deadLetter !== 'boolean')
    problems.push(`deadLetter must be a boolean, got ${String(deadLetter)}`);
  const middleware = options.middleware ?? [];
  if (!Array.isArray(middleware) || !middleware.every((m) => typeof m === 'function'))
    problems.push('middleware must be an array of functions');
  const retryInput = options.retry ?? {};
  if (typeof retryInput !== 'object' || retryInput === null) problems.push('retry must be an object');
  const retry: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    ...(defaults.retry ?? {}),
    ...(typeof retryInput === 'object' && retryInput !== null ? retryInput : {}),
  };
  problems.push(...retryPolicyProblems(retry));
  const filter = options.filter;
  if (filter !== undefined) problems.push(...filterProblems(filter));
  const batch = options.batch;
  if (batch !== undefined) problems.push(...batchProblems(batch, timeoutMs));
  if (problems.length > 0 || group === undefined) return { ok: false, problems };
  const resolved = {
    group,
    concurrency,
    ordered,
    timeoutMs,
    retry,
    deadLetter,
    middleware,
    ...(batch === undefined ? {} : { batch: { maxSize: batch.maxSize, maxWaitMs: batch.maxWaitMs } }),
  };
  return { ok: true, options: filter === undefined ? resolved : { ...resolved, filter } };
}
