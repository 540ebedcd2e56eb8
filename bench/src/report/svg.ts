/** Hand-written SVG charts (no chart dependency). Every function is pure and returns SVG text. */

/** Colours of the subjects, consistent across charts. */
export const COLORS: Readonly<Record<string, string>> = {
  omnibus: '#2b6cb0',
  raw: '#718096',
  nestjs: '#c05621',
  emitter: '#2f855a',
  'async-loop': '#805ad5',
};

/** One bar: median with an optional min–max whisker. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  readonly color: string;
  /** Text after the bar (defaults to the formatted value). */
  readonly note?: string;
}

/** A panel: a titled group of bars sharing one scale. */
export interface Panel {
  readonly title: string;
  readonly bars: readonly Bar[];
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `12.3k`, `1.2M`, `0.42`. */
export function short(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  if (a >= 10) return n.toFixed(0);
  if (a >= 1) return n.toFixed(1);
  return n.toFixed(2);
}

/**
 * Horizontal bar chart in panels, each panel with its own scale (linear, or log10 when `log`),
 * median bars with min–max whiskers.
 */
export function barChart(options: {
  title: string;
  unit: string;
  panels: readonly Panel[];
  log?: boolean;
  width?: number;
  /** One linear scale for every panel, from 0 to this value (e.g. for ratios). */
  domainMax?: number;
  /** Draw a dashed vertical line at this value (e.g. 1 for ratios). */
  reference?: number;
}): string {
  const width = options.width ?? 760;
  const labelWidth = 230;
  const noteWidth = 90;
  const plotWidth = width - labelWidth - noteWidth - 20;
  const barHeight = 18;
  const gap = 6;
  const parts: string[] = [];
  let y = 46;
  parts.push(`<text x="10" y="22" font-size="15" font-weight="bold">${esc(options.title)}</text>`);
  parts.push(`<text x="10" y="38" font-size="11" fill="#555">${esc(options.unit)}${options.log === true ? ' (log scale)' : ''}; bar = median, whisker = min–max</text>`);
  for (const panel of options.panels) {
    y += 8;
    parts.push(`<text x="10" y="${String(y + 10)}" font-size="12" font-weight="bold" fill="#222">${esc(panel.title)}</text>`);
    y += 16;
    const values = panel.bars.flatMap((b) => [b.value, b.max ?? b.value]).filter((v) => Number.isFinite(v) && v > 0);
    const top = options.domainMax ?? (values.length === 0 ? 1 : Math.max(...values) * 1.05);
    const bottom = options.log === true ? Math.max(Math.min(...values.filter((v) => v > 0)) / 2, 1e-9) : 0;
    const scale = (v: number): number => {
      if (!Number.isFinite(v) || v <= 0) return 0;
      if (options.log !== true) return (v / top) * plotWidth;
      return (Math.max(0, Math.log10(v) - Math.log10(bottom)) / (Math.log10(top) - Math.log10(bottom))) * plotWidth;
    };
    if (options.reference !== undefined) {
      const x = labelWidth + scale(options.reference);
      parts.push(`<line x1="${x.toFixed(1)}" y1="${String(y - 2)}" x2="${x.toFixed(1)}" y2="${String(y + panel.bars.length * (barHeight + gap))}" stroke="#c53030" stroke-dasharray="4 3"/>`);
    }
    for (const bar of panel.bars) {
      const w = Math.min(plotWidth, Math.max(0, scale(bar.value)));
      parts.push(`<text x="${String(labelWidth - 6)}" y="${String(y + 13)}" font-size="11" text-anchor="end">${esc(bar.label)}</text>`);
      parts.push(`<rect x="${String(labelWidth)}" y="${String(y)}" width="${w.toFixed(1)}" height="${String(barHeight)}" fill="${bar.color}" opacity="0.85"/>`);
      if (bar.min !== undefined && bar.max !== undefined && Number.isFinite(bar.min) && Number.isFinite(bar.max)) {
        const x1 = labelWidth + scale(bar.min);
        const x2 = labelWidth + scale(bar.max);
        const cy = y + barHeight / 2;
        parts.push(`<line x1="${x1.toFixed(1)}" y1="${String(cy)}" x2="${x2.toFixed(1)}" y2="${String(cy)}" stroke="#111" stroke-width="1.2"/>`);
        parts.push(`<line x1="${x1.toFixed(1)}" y1="${String(cy - 4)}" x2="${x1.toFixed(1)}" y2="${String(cy + 4)}" stroke="#111"/>`);
        parts.push(`<line x1="${x2.toFixed(1)}" y1="${String(cy - 4)}" x2="${x2.toFixed(1)}" y2="${String(cy + 4)}" stroke="#111"/>`);
      }
      parts.push(`<text x="${String(labelWidth + plotWidth + 8)}" y="${String(y + 13)}" font-size="11">${esc(bar.note ?? short(bar.value))}</text>`);
      y += barHeight + gap;
    }
  }
  y += 10;
  return svg(width, y, parts);
}

/** One series of a scatter chart: points and an optional fitted line. */
export interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly fit?: { slope: number; intercept: number };
}

/** Scatter plot with fitted lines, in panels side by side (one per transport). */
export function scatterChart(options: { title: string; xLabel: string; yLabel: string; panels: readonly { title: string; series: readonly Series[] }[] }): string {
  const panelWidth = 300;
  const panelHeight = 220;
  const legendLines = Math.max(1, ...options.panels.map((p) => p.series.length));
  const margin = { left: 56, top: 46, right: 14, bottom: 48 + 14 * legendLines };
  const width = Math.max(520, Math.max(1, options.panels.length) * (panelWidth + margin.left + margin.right) + 10);
  const height = panelHeight + margin.top + margin.bottom;
  const parts: string[] = [`<text x="10" y="22" font-size="15" font-weight="bold">${esc(options.title)}</text>`];
  options.panels.forEach((panel, index) => {
    const ox = 10 + index * (panelWidth + margin.left + margin.right) + margin.left;
    const oy = margin.top;
    const xs = panel.series.flatMap((s) => s.points.map((p) => p[0]));
    const ys = panel.series.flatMap((s) => s.points.map((p) => p[1]));
    const xMax = xs.length === 0 ? 1 : Math.max(...xs) * 1.05;
    const yMin = ys.length === 0 ? 0 : Math.min(...ys) * 0.95;
    const yMax = ys.length === 0 ? 1 : Math.max(...ys) * 1.05;
    const sx = (x: number): number => ox + (x / xMax) * panelWidth;
    const sy = (y: number): number => oy + panelHeight - ((y - yMin) / (yMax - yMin || 1)) * panelHeight;
    parts.push(`<text x="${String(ox)}" y="${String(oy - 8)}" font-size="12" font-weight="bold">${esc(panel.title)}</text>`);
    parts.push(`<rect x="${String(ox)}" y="${String(oy)}" width="${String(panelWidth)}" height="${String(panelHeight)}" fill="none" stroke="#999"/>`);
    const yDigits = yMax - yMin >= 40 ? 0 : yMax - yMin >= 4 ? 1 : 2;
    for (let i = 0; i <= 4; i++) {
      const yv = yMin + ((yMax - yMin) * i) / 4;
      parts.push(`<text x="${String(ox - 4)}" y="${(sy(yv) + 4).toFixed(1)}" font-size="10" text-anchor="end">${esc(yv.toFixed(yDigits))}</text>`);
      const xv = (xMax * i) / 4;
      parts.push(`<text x="${sx(xv).toFixed(1)}" y="${String(oy + panelHeight + 14)}" font-size="10" text-anchor="middle">${esc(short(xv))}</text>`);
    }
    parts.push(`<text x="${String(ox + panelWidth / 2)}" y="${String(oy + panelHeight + 30)}" font-size="11" text-anchor="middle">${esc(options.xLabel)}</text>`);
    parts.push(`<text transform="translate(${String(ox - 44)},${String(oy + panelHeight / 2)}) rotate(-90)" font-size="11" text-anchor="middle">${esc(options.yLabel)}</text>`);
    panel.series.forEach((series, si) => {
      for (const [x, y] of series.points) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${series.color}"/>`);
      if (series.fit !== undefined && Number.isFinite(series.fit.slope)) {
        const x0 = 0;
        const x1 = xMax;
        parts.push(`<line x1="${sx(x0).toFixed(1)}" y1="${sy(series.fit.intercept).toFixed(1)}" x2="${sx(x1).toFixed(1)}" y2="${sy(series.fit.intercept + series.fit.slope * x1).toFixed(1)}" stroke="${series.color}" stroke-width="1.5" opacity="0.8"/>`);
      }
      parts.push(`<text x="${String(ox)}" y="${String(oy + panelHeight + 48 + si * 14)}" font-size="11" fill="${series.color}">■ ${esc(series.label)}</text>`);
    });
  });
  return svg(width, height, parts);
}

function svg(width: number, height: number, parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(Math.ceil(height))}" viewBox="0 0 ${String(width)} ${String(Math.ceil(height))}" font-family="Helvetica, Arial, sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}
