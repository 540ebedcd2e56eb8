import {
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type HrTime,
  type Link,
  type SpanContext,
} from '@opentelemetry/api';

/** A finished span reduced to what trees, tests and pictures need. */
export interface SpanRecord {
  readonly name: string;
  readonly kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  readonly traceId: string;
  readonly spanId: string;
  /** Absent for a root span. */
  readonly parentSpanId?: string;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  readonly attributes: Readonly<Attributes>;
  readonly status: 'unset' | 'ok' | 'error';
  /** Start, epoch ms. */
  readonly startMs: number;
  readonly durationMs: number;
}

/**
 * The part of an SDK `ReadableSpan` that {@link toSpanRecord} reads (sdk-trace-base 1.x uses
 * `parentSpanId`, 2.x `parentSpanContext`; both are accepted).
 */
export interface ReadableSpanLike {
  readonly name: string;
  readonly kind: SpanKind;
  /** Trace and span ids of the span. */
  spanContext(): SpanContext;
  readonly parentSpanContext?: SpanContext | undefined;
  readonly parentSpanId?: string | undefined;
  readonly links: readonly Link[];
  readonly attributes: Attributes;
  readonly status: { readonly code: SpanStatusCode };
  readonly startTime: HrTime;
  readonly duration: HrTime;
}

const KINDS: Record<SpanKind, SpanRecord['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

const toMs = (time: HrTime): number => time[0] * 1000 + time[1] / 1e6;

/** Convert an exported SDK span. Pure. */
export function toSpanRecord(span: ReadableSpanLike): SpanRecord {
  const parent = span.parentSpanContext?.spanId ?? span.parentSpanId;
  const context = span.spanContext();
  return {
    name: span.name,
    kind: KINDS[span.kind],
    traceId: context.traceId,
    spanId: context.spanId,
    ...(parent === undefined || parent === '' ? {} : { parentSpanId: parent }),
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    attributes: span.attributes,
    status:
      span.status.code === SpanStatusCode.ERROR
        ? 'error'
        : span.status.code === SpanStatusCode.OK
          ? 'ok'
          : 'unset',
    startMs: toMs(span.startTime),
    durationMs: toMs(span.duration),
  };
}

/** A span with its children (ordered by start time). */
export interface SpanTreeNode {
  readonly span: SpanRecord;
  readonly children: readonly SpanTreeNode[];
}

/**
 * Arrange spans into trees: roots are spans without a parent or whose parent is not among
 * `spans`; siblings are ordered by start time. Pure.
 */
export function buildSpanTree(spans: readonly SpanRecord[]): SpanTreeNode[] {
  const byId = new Map(spans.map((s) => [s.spanId, { span: s, children: [] as SpanTreeNode[] }]));
  const roots: { span: SpanRecord; children: SpanTreeNode[] }[] = [];
  for (const node of byId.values()) {
    const parent = node.span.parentSpanId === undefined ? undefined : byId.get(node.span.parentSpanId);
    (parent?.children ?? roots).push(node);
  }
  const order = (nodes: { span: SpanRecord; children: SpanTreeNode[] }[]): void => {
    nodes.sort((a, b) => a.span.startMs - b.span.startMs);
    for (const n of nodes) order(n.children as { span: SpanRecord; children: SpanTreeNode[] }[]);
  };
  order(roots);
  return roots;
}

/** Options of {@link formatSpanTree}. */
export interface FormatSpanTreeOptions {
  /** Attributes printed after each span, when present. Default: group, attempt, outcome, reason, delay, error.type. */
  readonly attributes?: readonly string[];
  /** Print durations. Default true. */
  readonly durations?: boolean;
}

const DEFAULT_ATTRIBUTES = [
  'messaging.consumer.group.name',
  'omnibus.delivery.attempt',
  'omnibus.settlement.outcome',
  'omnibus.settlement.reason',
  'omnibus.retry.delay_ms',
  'error.type',
];

const SHORT: Readonly<Record<string, string>> = {
  'messaging.consumer.group.name': 'group',
  'omnibus.delivery.attempt': 'attempt',
  'omnibus.settlement.outcome': 'outcome',
  'omnibus.settlement.reason': 'reason',
  'omnibus.retry.delay_ms': 'delay_ms',
};

/** One line per span, indented as a tree: `name [kind] key=value … (12.3 ms)`. Pure. */
export function formatSpanTree(roots: readonly SpanTreeNode[], options: FormatSpanTreeOptions = {}): string {
  const keys = options.attributes ?? DEFAULT_ATTRIBUTES;
  const lines: string[] = [];
  const walk = (node: SpanTreeNode, prefix: string, last: boolean, depth: number): void => {
    const { span } = node;
    const details = keys
      .filter((k) => span.attributes[k] !== undefined)
      .map((k) => `${SHORT[k] ?? k}=${String(span.attributes[k])}`);
    const duration = options.durations === false ? '' : ` (${span.durationMs.toFixed(1)} ms)`;
    const branch = depth === 0 ? '' : last ? '└─ ' : '├─ ';
    lines.push(
      `${prefix}${branch}${span.name} [${span.kind}]${details.length > 0 ? ` ${details.join(' ')}` : ''}${duration}`,
    );
    const childPrefix = depth === 0 ? '' : `${prefix}${last ? '   ' : '│  '}`;
    node.children.forEach((child, i) => walk(child, childPrefix, i === node.children.length - 1, depth + 1));
  };
  for (const root of roots) walk(root, '', true, 0);
  return lines.join('\n');
}
