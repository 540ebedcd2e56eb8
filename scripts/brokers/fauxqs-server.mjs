// Entry point that runs fauxqs (SNS + SQS emulator) under Node >= 22.5, started by sns.mjs:
//   <node22> scripts/brokers/fauxqs-server.mjs
// Why not fauxqs's own dist/cli.js or dist/server.js:
//   - fauxqs 2.4.1 calls app.listen({ host: "0.0.0.0" }) unconditionally (FAUXQS_HOST only changes
//     the host written into queue URLs). We bind to loopback by rewriting that listen call.
//   - its entry points force the per-request info logger on; we default to warn (FAUXQS_LOG_LEVEL).
//   - we want a graceful close (persistence DB) on SIGTERM.
// Env: FAUXQS_MODULE (path of fauxqs/dist/app.js), FAUXQS_PORT, FAUXQS_BIND (default 127.0.0.1),
//      FAUXQS_DATA_DIR (SQLite persistence when set), FAUXQS_DEFAULT_REGION, FAUXQS_LOG_LEVEL.
import net from 'node:net';
import { pathToFileURL } from 'node:url';

const bind = process.env.FAUXQS_BIND || '127.0.0.1';
const wildcard = new Set([undefined, '', '0.0.0.0', '::']);
const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listen(...args) {
  const [first] = args;
  if (first && typeof first === 'object' && 'port' in first && wildcard.has(first.host)) {
    args[0] = { ...first, host: bind };
  } else if (typeof first === 'number' && typeof args[1] !== 'string') {
    args.splice(1, 0, bind);
  } else if (typeof first === 'number' && wildcard.has(args[1])) {
    args[1] = bind;
  }
  return originalListen.apply(this, args);
};

const { startFauxqs } = await import(pathToFileURL(process.env.FAUXQS_MODULE).href);
const server = await startFauxqs({
  port: Number(process.env.FAUXQS_PORT || 4566),
  defaultRegion: process.env.FAUXQS_DEFAULT_REGION || 'us-east-1',
  logger: { level: process.env.FAUXQS_LOG_LEVEL || 'warn' },
  ...(process.env.FAUXQS_DATA_DIR ? { dataDir: process.env.FAUXQS_DATA_DIR } : {}),
});
console.log(`fauxqs listening on ${bind}:${server.port} (node ${process.version})`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log(`fauxqs: ${signal}, closing`);
    await server.stop().catch((error) => console.error(error));
    process.exit(0);
  });
}
