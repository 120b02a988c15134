// The one results table: both servers side by side, their ratio, and each throughput row as a
// fraction of the machine limit that bounds it.

export interface Limit {
  name: string;
  mbps: number;
}

export interface Row {
  metric: string;
  unit: string;
  better: 'higher' | 'lower';
  a: number;
  b: number;
  limit?: Limit;
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** "1.25× better" / "2.00× worse" / "same", from A's point of view. */
function verdict(row: Row): string {
  const ratio = row.a / row.b;
  if (!Number.isFinite(ratio) || ratio <= 0) return 'n/a';
  const advantage = row.better === 'higher' ? ratio : 1 / ratio;
  if (Math.abs(advantage - 1) < 0.03) return 'same';
  return advantage > 1 ? `${advantage.toFixed(2)}× better` : `${(1 / advantage).toFixed(2)}× worse`;
}

function pct(value: number, limit: Limit | undefined): string {
  return limit && Number.isFinite(value) ? `${((100 * value) / limit.mbps).toFixed(0)}%` : '';
}

export function renderTable(rows: Row[], labelA: string, labelB: string): string {
  const header = ['metric', 'unit', labelA, labelB, `${labelA}/${labelB}`, `${labelA} is`, `${labelA} % of limit`, `${labelB} % of limit`, 'limit'];
  const body = rows.map((row) => [
    row.metric,
    `${row.unit} ${row.better === 'higher' ? '↑' : '↓'}`,
    fmt(row.a),
    fmt(row.b),
    fmt(row.a / row.b),
    verdict(row),
    pct(row.a, row.limit),
    pct(row.b, row.limit),
    row.limit ? `${row.limit.name} ${fmt(row.limit.mbps)} MB/s` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i >= 2 && i <= 4 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

export function legend(labelA: string, labelB: string): string {
  return [
    `↑ = higher is better, ↓ = lower is better. "${labelA}/${labelB}" is the raw ratio of the two medians;`,
    `"${labelA} is" reads it the right way round (on ↓ rows a ratio below 1 means ${labelA} is better).`,
    '"% of limit" relates a throughput row to the machine limit that bounds it (push: the slowest of',
    "sha256 on one core, fsync'd disk write and loopback TCP; pull: loopback TCP).",
  ].join('\n');
}
