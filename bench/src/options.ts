import { TRANSPORT_NAMES, type TransportName } from './subjects/transports.js';

/** Workloads the harness can run. */
export const WORKLOADS = ['ceiling', 'throughput', 'sweep', 'latency', 'memory'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Parsed command line. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly transports: readonly TransportName[];
  readonly workloads: ReadonlySet<Workload>;
  readonly reps: number;
  /** Overrides each transport's message count for throughput runs. */
  readonly messages: number | undefined;
  readonly sizeBytes: number;
  readonly concurrency: number;
  readonly publishBatch: number;
  readonly publishWindow: number;
  readonly warmupSeconds: number;
  readonly latencySeconds: number;
  /** Fractions of the measured maximum the latency runs use. */
  readonly loadLevels: readonly number[];
  /** Absolute latency-run rates in msg/s (`--rates`), run in addition to the load levels (variant `rate-N`). */
  readonly latencyRates: readonly number[];
  /** Handler costs of the sweep, in µs (0 = none, < 1000 = busy spin, ≥ 1000 = awaited sleep). */
  readonly handlerCostsUs: readonly number[];
  readonly memoryPoints: readonly number[] | undefined;
  readonly nest: boolean;
  readonly nestModules: string | undefined;
  readonly manageBrokers: boolean;
  readonly exclusive: boolean;
  readonly rabbitQueueType: 'quorum' | 'classic';
  readonly outDir: string;
  readonly report: boolean;
  readonly reportFrom: string | undefined;
  /** Render the report into this folder (benchmarks.md + charts/) instead of docs/. */
  readonly reportDir: string | undefined;
  /** Earlier results files whose transports (those not measured now) join this report. */
  readonly merge: readonly string[];
  /** A "before" results file: render the in-memory before/after section against it. */
  readonly compare: string | undefined;
  /** Splice the before/after section into this markdown file (between its markers) instead of rendering the full report to docs/. */
  readonly sectionInto: string | undefined;
  readonly subjects: ReadonlySet<string> | undefined;
  readonly omnibusOptions: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

const USAGE = `usage: node bench/dist/src/cli.js [options]
  --quick                 smoke run: 1 repetition, tiny message counts, short latency runs (< 60 s)
  --transports a,b        ${TRANSPORT_NAMES.join(', ')} (default: all; --quick: in-memory)
  --workloads a,b         ceiling, throughput, sweep, latency, memory (default: all)
  --reps N                repetitions per subject and cell (default 5; --quick 1)
  --messages N            messages per throughput run (default per transport)
  --size BYTES            encoded payload size (default 1024)
  --concurrency N         handler concurrency (default 16)
  --publish-batch N       messages per publish call in throughput runs (default 100; SQS ≤ 10)
  --publish-window N      publish calls in flight (default 4)
  --warmup S / --latency-seconds S   latency-run warm-up and measured seconds (default 1.5 / 4)
  --load 0.5,0.8          latency-run rates as fractions of the measured maximum
  --rates 10000,20000     also run latency at these absolute rates (msg/s), e.g. to compare two builds at one rate
  --costs 0,100,1000      handler-cost sweep in µs (< 1000 busy-spins, ≥ 1000 awaits a timer)
  --memory-points a,b     in-flight counts of the memory runs
  --subjects omnibus,raw,nestjs   restrict the subjects
  --omnibus-options JSON  extra Omnibus transport options per transport, e.g. '{"kafka":{"trackAttempts":false}}'
  --no-nest               skip the NestJS peer comparison
  --nest-modules DIR      node_modules folder holding @nestjs/* and rxjs (default: normal resolution)
  --no-brokers            do not start brokers (use what is running)
  --exclusive             stop the other brokers while one is measured (restarts none afterwards)
  --rabbitmq-queue-type quorum|classic (default quorum, the transport's default)
  --out DIR               results folder (default bench/results)
  --no-report             only write the JSON results
  --report-from FILE      render docs/benchmarks.md and charts from an earlier results file, run nothing
  --report-dir DIR        write the report to DIR/benchmarks.md and DIR/charts/ instead of docs/
  --merge FILE[,FILE]     add the transports of earlier results files that this run (or --report-from) lacks
  --compare FILE          a "before" results file (old core, same harness): print the in-memory before/after table
  --section-into FILE     write that table into FILE between its <!-- generated:in-memory-before-after --> markers
                          (docs/benchmarks.md is then left alone unless --report-dir is given)`;

/** Parse `argv` (without node and script). Throws with the usage text on bad input. */
export function parseOptions(argv: readonly string[], repoRoot: string): BenchOptions {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (name === 'help') throw new Error(USAGE);
    const boolean = ['quick', 'no-nest', 'no-brokers', 'exclusive', 'no-report'].includes(name);
    if (boolean) flags.set(name, true);
    else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
      flags.set(name, value);
    }
  }
  const str = (name: string): string | undefined => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const num = (name: string, fallback: number): number => {
    const v = str(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0, got ${v}`);
    return n;
  };
  const list = (name: string): string[] | undefined => str(name)?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const quick = flags.has('quick');
  const transports = (list('transports') ?? (quick ? ['in-memory'] : [...TRANSPORT_NAMES])) as TransportName[];
  for (const t of transports) if (!TRANSPORT_NAMES.includes(t)) throw new Error(`unknown transport ${t}\n${USAGE}`);
  const workloads = (list('workloads') ?? [...WORKLOADS]) as Workload[];
  for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}\n${USAGE}`);
  const queueType = str('rabbitmq-queue-type') ?? 'quorum';
  if (queueType !== 'quorum' && queueType !== 'classic') throw new Error('--rabbitmq-queue-type must be quorum or classic');
  const subjects = list('subjects');
  return {
    quick,
    transports,
    workloads: new Set(workloads),
    reps: Math.max(1, Math.floor(num('reps', quick ? 1 : 5))),
    messages: str('messages') === undefined ? undefined : Math.max(10, Math.floor(num('messages', 0))),
    sizeBytes: Math.max(48, Math.floor(num('size', quick ? 256 : 1024))),
    concurrency: Math.max(1, Math.floor(num('concurrency', 16))),
    publishBatch: Math.max(1, Math.floor(num('publish-batch', 100))),
    publishWindow: Math.max(1, Math.floor(num('publish-window', 4))),
    warmupSeconds: num('warmup', quick ? 0.3 : 1.5),
    latencySeconds: num('latency-seconds', quick ? 0.7 : 4),
    loadLevels: (list('load') ?? (quick ? ['0.5'] : ['0.5', '0.8'])).map(Number),
    latencyRates: (list('rates') ?? []).map(Number).filter((r) => Number.isFinite(r) && r > 0),
    handlerCostsUs: (list('costs') ?? (quick ? ['0', '100'] : ['0', '100', '1000'])).map(Number),
    memoryPoints: list('memory-points')?.map(Number),
    nest: !flags.has('no-nest'),
    nestModules: str('nest-modules'),
    manageBrokers: !flags.has('no-brokers'),
    exclusive: flags.has('exclusive'),
    rabbitQueueType: queueType,
    outDir: str('out') ?? `${repoRoot}bench/results`,
    report: !flags.has('no-report'),
    reportFrom: str('report-from'),
    reportDir: str('report-dir'),
    merge: list('merge') ?? [],
    compare: str('compare'),
    sectionInto: str('section-into'),
    subjects: subjects === undefined ? undefined : new Set(subjects),
    omnibusOptions: parseJsonObject(str('omnibus-options')),
  };
}

function parseJsonObject(text: string | undefined): Record<string, Record<string, unknown>> {
  if (text === undefined) return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('--omnibus-options must be a JSON object keyed by transport');
  return value as Record<string, Record<string, unknown>>;
}
