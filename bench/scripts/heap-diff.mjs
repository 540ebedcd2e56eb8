#!/usr/bin/env node
// Per-message retained objects of the framework path: hold K1 and then K2 messages in flight in
// gated @EventHandler calls (in-memory transport), write a heap snapshot each time, and print the
// difference in self size and count per constructor/type, divided by (K2 − K1).
// usage: node --expose-gc bench/scripts/heap-diff.mjs [K1] [K2] [payloadBytes] [transport: in-memory|rabbitmq]
import 'reflect-metadata';
import { readFileSync, rmSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { createEventBus, defineEvent, EventHandler, InMemoryBroker, InMemoryTransport } from '@omnibus/core';
import { RabbitMqTransport } from '@omnibus/transport-rabbitmq';

const [k1 = 200, k2 = 2000, size = 1024] = process.argv.slice(2, 5).map(Number);
const transportName = process.argv[5] ?? 'in-memory';

async function snapshotWith(k) {
  const event = defineEvent(`heapdiff.k${k}.${Date.now()}`);
  let arrived = 0;
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  let reached;
  const all = new Promise((resolve) => (reached = resolve));
  class Handler {
    async handle() {
      arrived += 1;
      if (arrived === k) reached();
      await gate;
    }
  }
  EventHandler(event, { group: 'g', concurrency: k })(Handler.prototype, 'handle', Object.getOwnPropertyDescriptor(Handler.prototype, 'handle'));
  const broker = new InMemoryBroker();
  const make = () => (transportName === 'rabbitmq' ? new RabbitMqTransport({ prefix: 'omnibus-heapdiff', queueType: 'classic' }) : new InMemoryTransport({ broker }));
  const bus = createEventBus({ transport: make(), handlers: [Handler], events: [event] });
  await bus.start();
  const pad = 'x'.repeat(size - 40);
  for (let i = 0; i < k; i += 100) await bus.publishBatch(event, Array.from({ length: Math.min(100, k - i) }, (_, j) => ({ seq: i + j, t: 0, pad })));
  await all;
  await new Promise((r) => setTimeout(r, 200));
  globalThis.gc();
  globalThis.gc();
  const file = writeHeapSnapshot();
  release();
  await bus.stop();
  return file;
}

function summarize(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file);
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const out = new Map();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    let name = snap.strings[nodes[i + iName]];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    else if (type === 'number') name = '(heap number)';
    else if (type === 'code' || type === 'hidden') name = `(${type})`;
    else if (type === 'closure') name = `closure ${name}`;
    else if (type === 'array') name = `(array) ${name}`;
    const key = `${type}: ${name}`.slice(0, 90);
    const entry = out.get(key) ?? { size: 0, count: 0 };
    entry.size += nodes[i + iSize];
    entry.count += 1;
    out.set(key, entry);
  }
  return out;
}

const a = summarize(await snapshotWith(k1));
const b = summarize(await snapshotWith(k2));
const dk = k2 - k1;
const rows = [];
let total = 0;
for (const [key, v] of b) {
  const u = a.get(key) ?? { size: 0, count: 0 };
  const ds = (v.size - u.size) / dk;
  const dc = (v.count - u.count) / dk;
  total += ds;
  if (Math.abs(ds) >= 8) rows.push([key, ds, dc]);
}
rows.sort((x, y) => y[1] - x[1]);
process.stdout.write(`${transportName}: heap self size per in-flight message (K ${k1} → ${k2}, payload ${size} B): ${total.toFixed(0)} B\n`);
for (const [key, ds, dc] of rows.slice(0, 40)) process.stdout.write(`${ds.toFixed(0).padStart(7)} B  ${dc.toFixed(2).padStart(6)} objs  ${key}\n`);
process.exit(0);
