// Programmatic API of the broker manager, for test hooks and scripts:
//   import { up, down, restart, pid, status } from '<repo>/scripts/brokers/index.mjs';
//   await up('kafka');            // idempotent; resolves when clients can connect
//   await restart('rabbitmq');    // graceful stop + start with the same data + wait until ready
//   const p = await pid('sqs');   // server pid or null
// Names: rabbitmq, kafka, sqs (alias elasticmq), sns (alias fauxqs), azure, postgres (alias
// postgresql, pg), plus every plug-in in scripts/brokers/plugins/; 'all' (default).
//
// A plug-in is one file scripts/brokers/plugins/<name>.mjs whose default export is a broker
// definition like the built-in ones (name, ports, marker, readyTimeoutMs, stopTimeoutMs,
// available?, version, prepare, start, ready, stop; see azure.mjs for a small one) plus, optionally:
//   aliases: ['other-name'],          more names for `npm run brokers -- up <name>`
//   endpoint: { url: '…', port: N },  connection facts, published as endpoints[<name>]
//   probe({ timeoutMs }):             protocol-level health check for `status` (see probes.mjs)
//   smoke({ restart, restartNote }):  one message through the broker with its raw client,
//                                     resolving with a one-line description (`brokers smoke`).
// Dropping such a file in is the whole registration: up, down, restart, status, smoke and the
// test stages (package.json "omnibus.testStages" brokers) know it by name.
// Failures reject with a BrokerError: .broker, .step, .logFile, .logTail, .report().
import rabbitmq from './rabbitmq.mjs';
import kafka from './kafka.mjs';
import sqs from './elasticmq.mjs';
import sns from './sns.mjs';
import azure from './azure.mjs';
import postgres from './postgres.mjs';
import * as lifecycle from './lifecycle.mjs';
import { BrokerError } from './errors.mjs';
import { logFile } from './paths.mjs';
import { loadPlugins } from './plugins.mjs';

export { BrokerError };

const plugins = await loadPlugins();

export const brokers = { rabbitmq, kafka, sqs, sns, azure, postgres };
const aliases = {
  elasticmq: 'sqs',
  fauxqs: 'sns',
  servicebus: 'azure',
  rabbit: 'rabbitmq',
  postgresql: 'postgres',
  pg: 'postgres',
};

/** Connection facts for clients. */
export const endpoints = {
  rabbitmq: { url: rabbitmq.url, port: 5672 },
  kafka: { brokers: kafka.brokers, port: 9092 },
  sqs: { endpoint: sqs.endpoint, region: sqs.region, port: 9324 },
  sns: { endpoint: sns.endpoint, region: sns.region, port: 4566 },
  azure: { host: '127.0.0.1', port: 5673, adminPort: 5674 },
  postgres: { url: postgres.url, port: 55432 },
};

for (const plugin of plugins) {
  if (brokers[plugin.name] !== undefined || aliases[plugin.name] !== undefined)
    throw new Error(`broker plug-in "${plugin.name}" clashes with a broker of that name`);
  brokers[plugin.name] = plugin;
  for (const alias of plugin.aliases ?? []) aliases[alias] = plugin.name;
  if (plugin.endpoint !== undefined) endpoints[plugin.name] = plugin.endpoint;
}

export function resolveBroker(name) {
  const key = aliases[name] ?? name;
  const broker = brokers[key];
  if (!broker) {
    const error = new Error(
      `unknown broker "${name}" (expected one of: ${Object.keys(brokers).join(', ')}, all)`,
    );
    throw Object.assign(error, { usage: true });
  }
  return broker;
}

/**
 * Broker definitions for a name, a list of names, or 'all' (= every broker that can run here:
 * azure only once its emulator is built). Duplicates are dropped.
 */
export function expand(names = 'all') {
  const list = (Array.isArray(names) ? names : [names]).flatMap((n) =>
    n === 'all' ? Object.values(brokers).filter((b) => !b.available?.()) : [resolveBroker(n)],
  );
  return [...new Set(list)];
}

/** One name -> one result; several names or 'all' -> an array of results (run in parallel). */
async function forEach(names, fn) {
  const list = expand(names);
  if (list.length === 1 && !Array.isArray(names) && names !== 'all') return fn(list[0]);
  const settled = await Promise.allSettled(list.map((b) => fn(b)));
  const errors = settled.filter((s) => s.status === 'rejected').map((s) => s.reason);
  if (errors.length) {
    const error =
      errors.length === 1 ? errors[0] : new AggregateError(errors, errors.map((e) => e.message).join('\n'));
    error.results = settled.map((s) => (s.status === 'fulfilled' ? s.value : null)).filter(Boolean);
    throw error;
  }
  return settled.map((s) => s.value);
}

/**
 * Start a broker (name), several (array) or all ('all', the default), in parallel; idempotent.
 * Resolves with { name, pid, version, ports, ms, alreadyRunning, managed } (an array for several).
 */
export const up = (names = 'all', options) => forEach(names, (b) => lifecycle.up(b, options));
/** Stop (graceful; waits for the process to exit). Resolves { name, stopped, pid, ms }. */
export const down = (names = 'all', options) =>
  // 'all' includes an azure emulator that is running even if its build was since removed.
  forEach(names === 'all' ? Object.keys(brokers) : names, (b) => lifecycle.down(b, options));
/** Stop + start with the same data, then wait until ready. Adds previousPid to up's result. */
export const restart = (names, options) => forEach(names, (b) => lifecycle.restart(b, options));
/**
 * { name, version, ports, pid, managed, state: 'up'|'down'|'starting/unhealthy'|'unavailable', note, log }
 * ('all' lists every broker, including an unavailable azure).
 */
export const status = (names = 'all') =>
  names === 'all'
    ? Promise.all(Object.values(brokers).map((b) => lifecycle.status(b)))
    : Array.isArray(names)
      ? Promise.all(expand(names).map((b) => lifecycle.status(b)))
      : lifecycle.status(resolveBroker(names));
/** The running server's pid (rabbitmq: the Erlang VM), or null. */
export const pid = async (name) => lifecycle.findPid(resolveBroker(name))?.pid ?? null;
/** Path of a broker's log file. */
export const logPath = (name) => logFile(resolveBroker(name).name);
