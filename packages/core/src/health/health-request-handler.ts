import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BusHealth } from './bus-health.js';

/** Anything with a `health()` snapshot (an `EventBus`). */
export interface HealthSource {
  /** The current health snapshot. */
  health(): BusHealth;
}

/** Options of {@link healthRequestHandler}. */
export interface HealthRequestHandlerOptions {
  /** Path of the liveness probe. Default `/health/live`. */
  readonly livePath?: string;
  /** Path of the readiness probe. Default `/health/ready`. */
  readonly readyPath?: string;
}

/**
 * A `node:http` request handler for liveness and readiness probes, without a web framework.
 * `GET`/`HEAD` on the live path answers 200 when `health().live`, else 503; the ready path the
 * same with `ready`. The body is the JSON snapshot (no secrets: names, states and counters only).
 * Returns `false` without touching the response for any other path, so it can sit in front of
 * your own routes; other methods on a probe path get 405. Never throws.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const probes = healthRequestHandler(bus);
 * createServer((req, res) => {
 *   if (!probes(req, res)) res.writeHead(404).end();
 * }).listen(8080);
 * ```
 */
export function healthRequestHandler(
  source: HealthSource,
  options: HealthRequestHandlerOptions = {},
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const livePath = options.livePath ?? '/health/live';
  const readyPath = options.readyPath ?? '/health/ready';
  return (request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== livePath && path !== readyPath) return false;
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return true;
      }
      const health = source.health();
      const ok = path === livePath ? health.live : health.ready;
      const body = JSON.stringify(health);
      response.writeHead(ok ? 200 : 503, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      if (!response.headersSent) response.writeHead(503);
      response.end();
    }
    return true;
  };
}
