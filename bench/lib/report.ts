/**
 * Writers of the benchmark suite's output: markdown tables, the section of docs/benchmarks.md
 * between the suite's markers (the rest of the file is left alone), and a plain hand-written SVG
 * chart of msgs/s and p99 latency against connections (log x).
 */

export const SECTION_START = '<!-- suite:start -->';
export const SECTION_END = '<!-- suite:end -->';

/** A markdown table; `align` is 'l' or 'r' per column. */
export function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  align?: string,
): string {
  const sep = head.map((_, i) => (align?.[i] === 'l' ? '---' : '---:'));
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(sep), ...rows.map(line)].join('\n');
}

/**
 * Replaces the suite's section in `existing` (the markers included) with `body` between fresh
 * markers; when there are no markers the section is inserted after the first heading (or the
 * file is created with `title`). Everything outside the markers is kept byte for byte.
 */
export function replaceSection(
  existing: string | undefined,
  body: string,
  title = '# Benchmarks',
): string {
  const section = `${SECTION_START}\n${body.trim()}\n${SECTION_END}`;
  if (existing === undefined || existing.trim() === '') return `${title}\n\n${section}\n`;
  const start = existing.indexOf(SECTION_START);
  const end = existing.indexOf(SECTION_END, Math.max(start, 0));
  if (start >= 0 && end > start) {
    return existing.slice(0, start) + section + existing.slice(end + SECTION_END.length);
  }
  const heading = /^# .*$/m.exec(existing);
  if (heading === null) return `${section}\n\n${existing}`;
  const at = heading.index + heading[0].length;
  return `${existing.slice(0, at)}\n\n${section}\n${existing.slice(at)}`;
}

export interface Series {
  readonly label: string;
  /** [connections, value] points; undefined values are skipped. */
  readonly points: readonly (readonly [number, number | undefined])[];
}

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
];

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function shortNum(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(1)}`;
}

/** One panel: log-x connections, linear y from 0; returns SVG elements. */
function panel(
  x0: number,
  title: string,
  unit: string,
  series: readonly Series[],
  xs: readonly number[],
  logY = false,
): string {
  const w = 400;
  const h = 260;
  const left = x0 + 60;
  const top = 40;
  const right = x0 + w - 10;
  const bottom = top + h - 70;
  const values = series.flatMap((s) => s.points.map((p) => p[1] ?? 0));
  const ymax = niceMax(Math.max(0, ...values));
  const lx = xs.map((x) => Math.log10(Math.max(1, x)));
  const lmin = Math.min(...lx);
  const lmax = Math.max(...lx);
  const px = (x: number) =>
    lmax === lmin
      ? (left + right) / 2
      : left + ((Math.log10(Math.max(1, x)) - lmin) / (lmax - lmin)) * (right - left);
  // Log y (p99 spans decades): from the power of 10 below the smallest value to the one above the largest.
  const positive = values.filter((v) => v > 0);
  const ylo = 10 ** Math.floor(Math.log10(Math.min(...positive, 1)));
  const yhi = Math.max(ylo * 10, 10 ** Math.ceil(Math.log10(Math.max(...positive, 1))));
  const py = (y: number) =>
    logY
      ? bottom -
        ((Math.log10(Math.max(y, ylo)) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo))) *
          (bottom - top)
      : bottom - (y / ymax) * (bottom - top);
  const ticks: number[] = [];
  if (logY) for (let t = ylo; t <= yhi * 1.001; t *= 10) ticks.push(t);
  else for (let i = 0; i <= 4; i++) ticks.push((ymax * i) / 4);
  const out: string[] = [];
  out.push(
    `<text x="${(left + right) / 2}" y="22" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
  );
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`);
  for (const y of ticks) {
    const yy = py(y).toFixed(1);
    out.push(`<line x1="${left}" y1="${yy}" x2="${right}" y2="${yy}" stroke="#ddd"/>`);
    out.push(
      `<text x="${left - 5}" y="${yy}" text-anchor="end" dominant-baseline="middle">${esc(shortNum(y))}</text>`,
    );
  }
  for (const x of xs) {
    out.push(
      `<text x="${px(x).toFixed(1)}" y="${bottom + 15}" text-anchor="middle">${esc(shortNum(x))}</text>`,
    );
  }
  out.push(
    `<text x="${(left + right) / 2}" y="${bottom + 32}" text-anchor="middle">connections (log scale)${logY ? '; log y' : ''}</text>`,
  );
  out.push(
    `<text x="${x0 + 14}" y="${(top + bottom) / 2}" text-anchor="middle" transform="rotate(-90 ${x0 + 14} ${(top + bottom) / 2})">${esc(unit)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] ?? '#000';
    const pts = s.points
      .filter((p): p is readonly [number, number] => p[1] !== undefined)
      .map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`,
      );
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
  });
  return out.join('\n');
}

/** Two panels (msgs/s, p99 ms) side by side with a shared legend. */
export function chart(
  throughput: readonly Series[],
  p99ms: readonly Series[],
  note: string,
): string {
  const xs = [...new Set(throughput.flatMap((s) => s.points.map((p) => p[0])))].sort(
    (a, b) => a - b,
  );
  const width = 820;
  const legendY = 282;
  const legend = throughput
    .map((s, i) => {
      const x = 20 + i * 130;
      const color = COLORS[i % COLORS.length] ?? '#000';
      return `<rect x="${x}" y="${legendY}" width="12" height="12" fill="${color}"/><text x="${x + 16}" y="${legendY + 10}">${esc(s.label)}</text>`;
    })
    .join('\n');
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="330" viewBox="0 0 ${width} 330" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="330" fill="white"/>`,
    panel(0, 'messages per second (higher is better)', 'msgs/s', throughput, xs),
    panel(410, 'p99 latency (lower is better)', 'p99 ms', p99ms, xs, true),
    legend,
    `<text x="20" y="318" fill="#555">${esc(note)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
