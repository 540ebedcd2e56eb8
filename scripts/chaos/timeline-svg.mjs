// One chaos run as an SVG timeline (no dependencies): acked messages per second as bars, each
// fault as a vertical line with a shaded band up to the moment consumption resumed, publish errors
// as ticks under the axis.
const W = 900;
const H = 320;
const M = { left: 56, right: 20, top: 48, bottom: 64 };
const COLORS = { sigkill: '#d9822b', restart: '#c23030', drop: '#2b6cd9' };
const esc = (s) =>
  String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

export function timelineSvg(r) {
  const seconds = Math.max(1, Math.ceil(r.durationMs / 1000));
  const buckets = new Array(seconds + 1).fill(0);
  for (const t of r.ackTimesMs) buckets[Math.min(seconds, Math.max(0, Math.floor(t / 1000)))] += 1;
  const peak = Math.max(1, ...buckets);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (s) => M.left + (s / seconds) * pw;
  const y = (v) => M.top + ph - (v / peak) * ph;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  const lost = r.lost.length;
  out.push(
    `<text x="${M.left}" y="18" font-size="14" font-weight="bold">${esc(`chaos run: ${r.broker} — ${r.published} messages, ${lost} lost, ${r.duplicates} duplicated, ${r.deadLetters.count}/${r.deadLetters.expected} dead-lettered, ${r.publishErrors.length} publish errors`)}</text>`,
  );
  out.push(
    `<text x="${M.left}" y="34" fill="#555">${esc(`acked per second; lines: faults (orange SIGKILL consumer, red broker restart, blue connection drop), band: until consumption resumed; run ${r.runId}`)}</text>`,
  );
  for (const f of r.faults) {
    const from = f.atMs / 1000;
    const to = f.resumeMs === null ? seconds : (f.atMs + f.resumeMs) / 1000;
    out.push(
      `<rect x="${x(from).toFixed(1)}" y="${M.top}" width="${Math.max(1, x(to) - x(from)).toFixed(1)}" height="${ph}" fill="${COLORS[f.kind] ?? '#888'}" opacity="0.12"/>`,
    );
  }
  const bw = Math.max(1, pw / (seconds + 1) - 1);
  buckets.forEach((v, s) => {
    if (v > 0)
      out.push(
        `<rect x="${x(s).toFixed(1)}" y="${y(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(M.top + ph - y(v)).toFixed(1)}" fill="#4a7f5a"/>`,
      );
  });
  out.push(`<line x1="${M.left}" y1="${M.top + ph}" x2="${M.left + pw}" y2="${M.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="#333"/>`);
  const step = seconds > 300 ? 60 : seconds > 120 ? 30 : 10;
  for (let s = 0; s <= seconds; s += step) {
    out.push(
      `<line x1="${x(s).toFixed(1)}" y1="${M.top + ph}" x2="${x(s).toFixed(1)}" y2="${M.top + ph + 4}" stroke="#333"/>`,
    );
    out.push(`<text x="${x(s).toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle">${s} s</text>`);
  }
  out.push(`<text x="${M.left - 6}" y="${M.top + 4}" text-anchor="end">${peak}/s</text>`);
  out.push(`<text x="${M.left - 6}" y="${M.top + ph}" text-anchor="end">0</text>`);
  r.faults.forEach((f, i) => {
    const fx = x(f.atMs / 1000).toFixed(1);
    const color = COLORS[f.kind] ?? '#888';
    const label = `${f.kind}${f.detail ? ` ${f.detail}` : ''}: ${f.resumeMs === null ? 'not resumed' : `${(f.resumeMs / 1000).toFixed(1)} s`}`;
    out.push(
      `<line x1="${fx}" y1="${M.top}" x2="${fx}" y2="${M.top + ph}" stroke="${color}" stroke-width="2"/>`,
    );
    out.push(
      `<text x="${(Number(fx) + 3).toFixed(1)}" y="${M.top + 12 + (i % 4) * 13}" fill="${color}">${esc(label)}</text>`,
    );
  });
  for (const e of r.publishErrors) {
    const ex = x(e.at / 1000).toFixed(1);
    out.push(
      `<line x1="${ex}" y1="${M.top + ph + 22}" x2="${ex}" y2="${M.top + ph + 30}" stroke="#c23030"/>`,
    );
  }
  if (r.publishErrors.length)
    out.push(
      `<text x="${M.left}" y="${M.top + ph + 44}" fill="#c23030">${esc(`ticks: rejected publishes (${r.publishErrors.length}, retried by the publisher)`)}</text>`,
    );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
