#!/usr/bin/env node
// Same-process interleaved A/B of two @omnibus/core builds: CPU µs per message of (a) end to end
// publishBatch → in-memory → @EventHandler (sync and async handler) and (b) publish ×1 alone, 1 KiB
// JSON payloads, concurrency 16. Both builds run in one process, alternating (A B, B A, …) after a
// discarded warm-up round, so machine load hits both alike; prints medians and B − A. Also usable
// under `valgrind --tool=callgrind` with A = B (instruction counts of one build).
// A build is a copy of packages/core/dist (core has no runtime dependencies), e.g.
//   cp -r packages/core/dist /tmp/core-old   # before the change, then rebuild
//   node --expose-gc bench/scripts/ab-core.mjs /tmp/core-old $PWD/packages/core/dist [rounds=5] [n=50000] [tests]
// tests: comma-separated names ("e2e-batch sync", "e2e-batch async", "publish x1"); default all.
import { performance } from 'node:perf_hooks';
const [distA, distB, roundsArg, nArg, onlyArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 5);
const N = Number(nArg ?? 50000);
const only = onlyArg?.split(',');
const cores = { A: await import(`${distA}/src/index.js`), B: await import(`${distB}/src/index.js`) };
const pad = 'x'.repeat(1024 - 40);
const payload = (seq) => ({ seq, t: 0, pad });
const gc = globalThis.gc ?? (() => {});

async function setup(core, { async: isAsync, consume }, onMsg) {
  const broker = new core.InMemoryBroker();
  const event = core.defineEvent(`ab.${Math.random().toString(36).slice(2)}`);
  const prov = new core.InMemoryTransport({ broker });
  await prov.connect();
  await prov.provision({ destinations: [{ name: event.name, groups: [{ name: 'g', ordered: false }] }] });
  await prov.close(0);
  class H {
    handle(p) {
      onMsg(p);
      return isAsync ? Promise.resolve() : undefined;
    }
  }
  const desc = Object.getOwnPropertyDescriptor(H.prototype, 'handle');
  core.EventHandler(event, { group: 'g', concurrency: 16 })(H.prototype, 'handle', desc);
  const pub = core.createEventBus({ transport: new core.InMemoryTransport({ broker }), events: [event] });
  await pub.start();
  let sub;
  if (consume) {
    sub = core.createEventBus({
      transport: new core.InMemoryTransport({ broker }),
      handlers: [H],
      events: [event],
    });
    await sub.start();
  }
  return { pub, sub, event };
}

async function e2e(core, opts) {
  let count = 0;
  let done;
  const all = new Promise((r) => (done = r));
  const { pub, sub, event } = await setup(core, { ...opts, consume: true }, () => {
    if (++count === N) done();
  });
  gc();
  const c0 = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i * 100 >= N) return;
      const ps = [];
      for (let s = i * 100; s < Math.min(N, (i + 1) * 100); s++) ps.push(payload(s));
      await pub.publishBatch(event, ps);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await all;
  const c = process.cpuUsage(c0);
  await sub.stop({ drainTimeoutMs: 1000 });
  await pub.stop({ drainTimeoutMs: 1000 });
  return (c.user + c.system) / N;
}

async function pubOnly(core) {
  const { pub, event } = await setup(core, { async: false, consume: false }, () => {});
  // a group exists (provisioned), nobody consumes: messages pile up in the broker, like the bench
  gc();
  const c0 = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= N) return;
      await pub.publish(event, payload(i));
    }
  };
  await Promise.all(Array.from({ length: 256 }, worker));
  const c = process.cpuUsage(c0);
  await pub.stop({ drainTimeoutMs: 1000 });
  return (c.user + c.system) / N;
}

const tests = {
  'e2e-batch sync': (core) => e2e(core, { async: false }),
  'e2e-batch async': (core) => e2e(core, { async: true }),
  'publish x1': (core) => pubOnly(core),
};
const results = {};
for (const name of Object.keys(tests))
  if (!only || only.some((o) => name === o || name.startsWith(o + ' ') || name.endsWith(' ' + o)))
    results[name] = { A: [], B: [] };
for (const name of Object.keys(results)) for (const k of ['A', 'B']) await tests[name](cores[k]); // warm-up, discarded
for (let r = 0; r < rounds; r++) {
  for (const name of Object.keys(results)) {
    const order = r % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
    for (const k of order) results[name][k].push(await tests[name](cores[k]));
  }
}
const med = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
for (const [name, { A, B }] of Object.entries(results)) {
  console.log(
    `${name.padEnd(16)} A ${med(A).toFixed(2)} [${A.map((x) => x.toFixed(2)).join(' ')}]  B ${med(B).toFixed(2)} [${B.map((x) => x.toFixed(2)).join(' ')}]  B-A ${(med(B) - med(A)).toFixed(2)}`,
  );
}
