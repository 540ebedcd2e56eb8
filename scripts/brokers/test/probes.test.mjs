// The broker manager's protocol probes and `health` against fake servers: a port that accepts TCP
// and stays silent must be reported unhealthy within the probe bound, never hang the caller.
import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { health } from '../lifecycle.mjs';
import { amqp091Probe, amqp10Probe, httpProbe, kafkaProbe, postgresProbe } from '../probes.mjs';

/** A TCP server that runs `onData(socket, chunk)` for each chunk (default: accept and never answer). */
async function fakeServer(onData = () => {}) {
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => onData(socket, chunk));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const probes = {
  amqp091Probe,
  amqp10Probe,
  kafkaProbe,
  postgresProbe,
  httpProbe: (h, p, o) => httpProbe(h, p, '/health', o),
};

describe('broker manager protocol probes', function () {
  this.timeout(10_000);

  for (const [name, probe] of Object.entries(probes)) {
    it(`${name}: a port that accepts TCP but never answers is not ok, within the bound`, async () => {
      const server = await fakeServer();
      try {
        const result = await probe('127.0.0.1', server.port, { timeoutMs: 300 });
        assert.equal(result.ok, false);
        assert.equal(result.tcp, true);
        assert.match(result.detail, /accepts TCP .* but no .* answer within 300 ms/);
        assert.ok(result.ms < 1500, `took ${result.ms} ms`);
      } finally {
        await server.close();
      }
    });
  }

  it('a closed port is not ok and says TCP failed', async () => {
    const server = await fakeServer();
    const { port } = server;
    await server.close();
    const result = await amqp091Probe('127.0.0.1', port, { timeoutMs: 500 });
    assert.equal(result.ok, false);
    assert.equal(result.tcp, false);
  });

  it('amqp091Probe accepts a connection.start frame and rejects a version mismatch', async () => {
    const start = Buffer.from([1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 10, 0xce]);
    const good = await fakeServer((socket) => socket.write(start));
    const bad = await fakeServer((socket) => socket.end(Buffer.from('AMQP\x00\x00\x09\x00', 'latin1')));
    try {
      assert.equal((await amqp091Probe('127.0.0.1', good.port, { timeoutMs: 1000 })).ok, true);
      const refused = await amqp091Probe('127.0.0.1', bad.port, { timeoutMs: 1000 });
      assert.equal(refused.ok, false);
      assert.match(refused.detail, /refused AMQP 0-9-1/);
    } finally {
      await good.close();
      await bad.close();
    }
  });

  it('kafkaProbe accepts an ApiVersions answer with its correlation id and no error', async () => {
    const server = await fakeServer((socket, chunk) => {
      const answer = Buffer.alloc(4 + 4 + 2 + 4);
      answer.writeInt32BE(10, 0);
      chunk.copy(answer, 4, 8, 12); // the request's correlation id
      socket.write(answer);
    });
    try {
      assert.equal((await kafkaProbe('127.0.0.1', server.port, { timeoutMs: 1000 })).ok, true);
    } finally {
      await server.close();
    }
  });

  it('httpProbe reports the status code; a 5xx is not ok', async () => {
    const ok = await fakeServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    const failing = await fakeServer((socket) =>
      socket.end('HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n'),
    );
    try {
      assert.equal((await httpProbe('127.0.0.1', ok.port, '/health', { timeoutMs: 1000 })).ok, true);
      const r = await httpProbe('127.0.0.1', failing.port, '/health', { timeoutMs: 1000 });
      assert.equal(r.ok, false);
      assert.match(r.detail, /HTTP 503/);
    } finally {
      await ok.close();
      await failing.close();
    }
  });

  describe('health()', () => {
    it('a silent node is unhealthy and a never-settling readiness check is bounded', async () => {
      const server = await fakeServer();
      const wedged = {
        name: 'fake',
        probe: ({ timeoutMs }) => amqp091Probe('127.0.0.1', server.port, { timeoutMs }),
        ready: () => new Promise(() => {}),
      };
      const answering = {
        name: 'fake',
        probe: async () => ({ ok: true }),
        ready: () => new Promise(() => {}),
      };
      const plugin = { name: 'plug-in', ready: () => new Promise(() => {}) };
      try {
        const t0 = Date.now();
        const a = await health(wedged, { timeoutMs: 300 });
        const b = await health(answering, { timeoutMs: 300 });
        const c = await health(plugin, { timeoutMs: 300 });
        assert.equal(a.state, 'unhealthy');
        assert.match(a.note, /accepts TCP/);
        assert.equal(b.state, 'starting');
        assert.match(b.note, /did not answer within 300 ms/);
        assert.equal(c.state, 'starting/unhealthy');
        assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
      } finally {
        await server.close();
      }
    });

    it('a ready broker is up', async () => {
      const up = await health({ name: 'fake', probe: async () => ({ ok: true }), ready: async () => true });
      assert.equal(up.state, 'up');
    });
  });
});
