import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { FaultProxy } from '../src/index.js';
import { sleep, waitFor } from '../src/support/wait-for.js';

/** An echo server counting the connections it accepted. */
async function echoServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => socket.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, sockets };
}

/** A client that collects what it receives and how its connection ended. */
async function client(port: number): Promise<{
  socket: Socket;
  received: () => string;
  ended: () => string | undefined;
}> {
  const socket = connect({ host: '127.0.0.1', port });
  let text = '';
  let end: string | undefined;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  socket.on('error', (error: NodeJS.ErrnoException) => (end ??= error.code ?? error.message));
  socket.on('close', () => (end ??= 'closed'));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => text, ended: () => end };
}

describe('FaultProxy (TCP fault injection between a client and a broker)', function () {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: FaultProxy;
  const clients: Socket[] = [];

  beforeEach(async function () {
    echo = await echoServer();
    proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: echo.port } });
  });

  afterEach(async function () {
    for (const socket of clients.splice(0)) socket.destroy();
    await proxy.close();
    for (const socket of echo.sockets) socket.destroy();
    await new Promise<void>((resolve) => echo.server.close(() => resolve()));
  });

  async function open(): Promise<Awaited<ReturnType<typeof client>>> {
    const c = await client(proxy.port);
    clients.push(c.socket);
    return c;
  }

  it('forwards bytes both ways, in order, and counts them', async function () {
    const c = await open();
    const parts = Array.from({ length: 50 }, (_, i) => `part-${String(i)};`);
    for (const part of parts) c.socket.write(part);
    await waitFor(() => c.received() === parts.join(''), 'the echo of every part', 2_000, {
      detail: () => c.received(),
    });
    const stats = proxy.stats();
    expect(stats.accepted).to.equal(1);
    expect(stats.open).to.equal(1);
    expect(stats.bytesUp).to.equal(parts.join('').length);
    expect(stats.bytesDown).to.equal(parts.join('').length);
  });

  it('with latency, forwards every chunk no sooner than the latency in each direction, in order', async function () {
    const c = await open();
    proxy.setLatency(40);
    const started = performance.now();
    c.socket.write('a');
    c.socket.write('b');
    c.socket.write('c');
    await waitFor(() => c.received() === 'abc', 'the delayed echo', 2_000);
    // Up and down are each delayed: the round trip takes at least twice the latency.
    expect(performance.now() - started).to.be.at.least(80 - 2);
    proxy.setLatency(0);
    c.socket.write('d');
    await waitFor(() => c.received() === 'abcd', 'the echo without latency', 2_000);
    expect(() => proxy.setLatency(-1)).to.throw(RangeError);
  });

  it('reset tears every open connection down with a TCP RST; new connections work afterwards', async function () {
    const first = await open();
    const second = await open();
    first.socket.write('x');
    await waitFor(() => first.received() === 'x' && echo.sockets.length === 2, 'both connections up', 2_000);
    expect(proxy.reset()).to.equal(2);
    await waitFor(
      () => first.ended() !== undefined && second.ended() !== undefined,
      'both clients to see the end',
      2_000,
    );
    expect(first.ended()).to.equal('ECONNRESET');
    expect(second.ended()).to.equal('ECONNRESET');
    await waitFor(() => echo.sockets.every((s) => s.destroyed), 'the broker side to be closed', 2_000);
    expect(proxy.stats()).to.include({ reset: 2, open: 0 });
    const third = await open();
    third.socket.write('again');
    await waitFor(() => third.received() === 'again', 'a connection after the reset', 2_000);
  });

  it('blackhole holds bytes and new connections (nothing reaches the broker) until heal, then delivers them in order', async function () {
    const c = await open();
    c.socket.write('1');
    await waitFor(() => c.received() === '1', 'the first echo', 2_000);
    proxy.blackhole();
    c.socket.write('2');
    c.socket.write('3');
    const late = await open();
    late.socket.write('late');
    // Bounds a negative check: nothing may cross the partition while it lasts.
    await sleep(100);
    expect(c.received(), 'bytes crossing the blackhole').to.equal('1');
    expect(echo.sockets.length, 'connections dialled during the blackhole').to.equal(1);
    expect(c.ended(), 'the blackholed connection stays open').to.equal(undefined);
    proxy.heal();
    await waitFor(() => c.received() === '123', 'the held bytes after heal', 2_000);
    await waitFor(() => late.received() === 'late', 'the held connection after heal', 2_000);
    expect(echo.sockets.length).to.equal(2);
  });

  it('a client whose broker refuses the connection sees its connection end', async function () {
    const target = echo.port;
    await new Promise<void>((resolve) => echo.server.close(() => resolve()));
    echo.server = createServer();
    await new Promise<void>((resolve) => echo.server.listen(0, '127.0.0.1', resolve));
    const dead = await FaultProxy.start({ target: { host: '127.0.0.1', port: target } });
    try {
      const c = await client(dead.port);
      clients.push(c.socket);
      await waitFor(() => c.ended() !== undefined, 'the connection to end', 2_000);
      expect(dead.stats().open).to.equal(0);
    } finally {
      await dead.close();
    }
  });
});
