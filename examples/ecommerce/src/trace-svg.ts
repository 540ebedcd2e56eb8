import type { SpanRecord, SpanTreeNode } from '@omnibus/opentelemetry';

const ROW = 22;
const LABEL_WIDTH = 470;
const BAR_WIDTH = 430;
const COLORS: Record<SpanRecord['kind'], string> = {
  producer: '#4e79a7',
  consumer: '#59a14f',
  client: '#9c755f',
  server: '#b07aa1',
  internal: '#bab0ac',
};

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function label(span: SpanRecord): string {
  const a = span.attributes;
  const parts = [span.name];
  if (a['messaging.consumer.group.name'] !== undefined)
    parts.push(`(${String(a['messaging.consumer.group.name'])})`);
  if (a['omnibus.delivery.attempt'] !== undefined) parts.push(`#${String(a['omnibus.delivery.attempt'])}`);
  if (a['omnibus.settlement.outcome'] !== undefined) parts.push(String(a['omnibus.settlement.outcome']));
  if (a['omnibus.retry.delay_ms'] !== undefined) parts.push(`in ${String(a['omnibus.retry.delay_ms'])} ms`);
  if (a['omnibus.settlement.reason'] !== undefined && a['omnibus.settlement.outcome'] !== 'retried')
    parts.push(String(a['omnibus.settlement.reason']));
  return parts.join(' ');
}

/**
 * A waterfall picture of span trees (one row per span, indented by depth, bars on a shared
 * time axis, colour by kind). Pure; the output is a standalone SVG document.
 */
export function renderTraceSvg(roots: readonly SpanTreeNode[], title: string): string {
  const rows: { span: SpanRecord; depth: number }[] = [];
  const walk = (node: SpanTreeNode, depth: number): void => {
    rows.push({ span: node.span, depth });
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const root of roots) walk(root, 0);
  const start = Math.min(...rows.map((r) => r.span.startMs));
  const end = Math.max(...rows.map((r) => r.span.startMs + r.span.durationMs));
  const scale = BAR_WIDTH / Math.max(1, end - start);
  const height = 60 + rows.length * ROW + 40;
  const width = LABEL_WIDTH + BAR_WIDTH + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}" viewBox="0 0 ${String(width)} ${String(height)}" font-family="Menlo, Consolas, monospace" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="42" fill="#555">${String(rows.length)} spans, ${(end - start).toFixed(0)} ms, rendered from the spans exported by the demo (OMNIBUS_DEMO_TRACE=1)</text>`,
  ];
  rows.forEach(({ span, depth }, i) => {
    const y = 60 + i * ROW;
    const x = LABEL_WIDTH + (span.startMs - start) * scale;
    const w = Math.max(2, span.durationMs * scale);
    const fill = COLORS[span.kind];
    out.push(
      `<text x="${String(10 + depth * 16)}" y="${String(y + 15)}"${span.status === 'error' ? ' fill="#c0392b"' : ''}>${escape(label(span))}</text>`,
      `<rect x="${x.toFixed(1)}" y="${String(y + 4)}" width="${w.toFixed(1)}" height="14" rx="2" fill="${fill}"><title>${escape(`${span.name} [${span.kind}] ${span.durationMs.toFixed(1)} ms`)}</title></rect>`,
    );
  });
  const legendY = 60 + rows.length * ROW + 20;
  (Object.keys(COLORS) as SpanRecord['kind'][])
    .filter((kind) => rows.some((r) => r.span.kind === kind))
    .forEach((kind, i) => {
      out.push(
        `<rect x="${String(10 + i * 110)}" y="${String(legendY - 10)}" width="12" height="12" fill="${COLORS[kind]}"/>`,
        `<text x="${String(26 + i * 110)}" y="${String(legendY)}">${kind}</text>`,
      );
    });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
