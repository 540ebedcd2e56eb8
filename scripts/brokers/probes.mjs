// Protocol probes for `status`: each opens one raw socket, speaks the first exchange of the broker's
// own protocol and resolves within a hard bound, whatever the peer does. A node that accepts TCP but
// never answers (RabbitMQ out of file descriptors, a JVM stuck in GC, a paused process) is reported
// as not answering instead of hanging the caller. No client library is involved, so no retry loop,
// reconnect timer or pooled socket can outlive the probe.
import { connect } from 'node:net';

/** Default bound of one probe (ms); OMNIBUS_BROKERS_PROBE_MS overrides. */
export const PROBE_TIMEOUT_MS = Number(process.env.OMNIBUS_BROKERS_PROBE_MS) || 3000;

/**
 * @typedef {{ ok: boolean, tcp: boolean, detail: string, ms: number }} ProbeResult
 * ok: the protocol answered as expected; tcp: the port accepted a connection at all.
 */

/**
 * Connects to host:port, writes `request`, and feeds every received chunk (concatenated) to
 * `check(buffer)`, which returns undefined (need more bytes), or { ok, detail }. Always resolves.
 * @returns {Promise<ProbeResult>}
 */
export function socketProbe(host, port, request, check, { timeoutMs = PROBE_TIMEOUT_MS, what } = {}) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let tcp = false;
    let buffer = Buffer.alloc(0);
    let settled = false;
    const socket = connect({ host, port });
    const finish = (ok, detail) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, tcp, detail, ms: Date.now() - t0 });
    };
    const timer = setTimeout(
      () =>
        finish(
          false,
          tcp
            ? `accepts TCP on ${port} but no ${what} answer within ${timeoutMs} ms`
            : `no TCP connection to ${port} within ${timeoutMs} ms`,
        ),
      timeoutMs,
    );
    socket.once('connect', () => {
      tcp = true;
      socket.write(request);
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      let verdict;
      try {
        verdict = check(buffer);
      } catch (error) {
        verdict = { ok: false, detail: `unexpected ${what} answer: ${error.message}` };
      }
      if (verdict) finish(verdict.ok, verdict.detail);
    });
    socket.once('end', () => finish(false, `closed the connection before a complete ${what} answer`));
    socket.once('error', (error) =>
      finish(false, tcp ? `${what}: ${error.message}` : (error.code ?? error.message)),
    );
  });
}

/** AMQP 0-9-1: the protocol header must be answered with a connection.start method frame. */
export function amqp091Probe(host, port, options) {
  const header = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
  return socketProbe(
    host,
    port,
    header,
    (b) => {
      if (b.length >= 4 && b.subarray(0, 4).toString('latin1') === 'AMQP')
        return {
          ok: false,
          detail: `refused AMQP 0-9-1 (offers version ${[...b.subarray(4, 8)].join('.')})`,
        };
      if (b.length < 11) return undefined;
      const ok =
        b[0] === 1 && b.readUInt16BE(1) === 0 && b.readUInt16BE(7) === 10 && b.readUInt16BE(9) === 10;
      return ok
        ? { ok, detail: 'AMQP 0-9-1 connection.start received' }
        : { ok, detail: 'not an AMQP 0-9-1 connection.start frame' };
    },
    { ...options, what: 'AMQP' },
  );
}

/**
 * AMQP 1.0 (Service Bus): the SASL protocol header must be answered with an AMQP protocol header
 * (the server echoes the one it accepts, then sends its SASL mechanisms).
 */
export function amqp10Probe(host, port, options) {
  const saslHeader = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);
  return socketProbe(
    host,
    port,
    saslHeader,
    (b) => {
      if (b.length < 8) return undefined;
      const ok = b.subarray(0, 4).toString('latin1') === 'AMQP' && b[5] === 1;
      return {
        ok,
        detail: ok ? `AMQP 1.0 header received (protocol id ${b[4]})` : 'not an AMQP 1.0 protocol header',
      };
    },
    { ...options, what: 'AMQP 1.0' },
  );
}

/** Kafka: an ApiVersions v0 request must be answered with the same correlation id and no error. */
export function kafkaProbe(host, port, options) {
  const clientId = Buffer.from('omnibus-brokers-status');
  const correlationId = 0x0b0b;
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2); // version 0
  body.writeInt32BE(correlationId, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return socketProbe(
    host,
    port,
    Buffer.concat([size, body]),
    (b) => {
      if (b.length < 10) return undefined;
      if (b.readInt32BE(4) !== correlationId)
        return { ok: false, detail: 'ApiVersions answer with a wrong correlation id' };
      const error = b.readInt16BE(8);
      if (error !== 0) return { ok: false, detail: `ApiVersions error code ${error}` };
      return b.length < 4 + b.readInt32BE(0) ? undefined : { ok: true, detail: 'Kafka ApiVersions answered' };
    },
    { ...options, what: 'Kafka ApiVersions' },
  );
}

/** HTTP: GET path must be answered with a status line (any 2xx is ok). */
export function httpProbe(host, port, path = '/health', options) {
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
  return socketProbe(
    host,
    port,
    request,
    (b) => {
      const text = b.toString('latin1');
      const eol = text.indexOf('\r\n');
      if (eol < 0) return b.length > 1024 ? { ok: false, detail: 'not an HTTP answer' } : undefined;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!m) return { ok: false, detail: 'not an HTTP answer' };
      const ok = m[1].startsWith('2');
      return { ok, detail: `HTTP ${m[1]} from GET ${path}` };
    },
    { ...options, what: 'HTTP' },
  );
}

/**
 * PostgreSQL: an SSLRequest must be answered with one byte, 'S' or 'N' (the server's protocol
 * loop is alive). The SQL round trip itself is the broker's ready() check, bounded by the caller.
 */
export function postgresProbe(host, port, options) {
  const sslRequest = Buffer.alloc(8);
  sslRequest.writeInt32BE(8, 0);
  sslRequest.writeInt32BE(80877103, 4);
  return socketProbe(
    host,
    port,
    sslRequest,
    (b) =>
      b[0] === 0x4e || b[0] === 0x53
        ? { ok: true, detail: 'PostgreSQL answered the SSL negotiation' }
        : { ok: false, detail: 'not a PostgreSQL answer' },
    { ...options, what: 'PostgreSQL' },
  );
}

/**
 * Races `promise` against a timer; resolves { ok: false, detail } when the bound passes first.
 * The timer never keeps the process alive.
 */
export function bounded(promise, timeoutMs, what) {
  let timer;
  const t0 = Date.now();
  const expiry = new Promise((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, detail: `${what} did not answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    timer.unref?.();
  });
  return Promise.race([
    Promise.resolve(promise).then(
      (value) => ({
        ok: Boolean(value),
        detail: value ? `${what} ok` : `${what} not ready`,
        ms: Date.now() - t0,
      }),
      (error) => ({ ok: false, detail: `${what}: ${error?.message ?? error}`, ms: Date.now() - t0 }),
    ),
    expiry,
  ]).finally(() => clearTimeout(timer));
}
