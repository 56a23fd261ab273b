import type { HistoryPoint } from './history';

/** One line of a panel: its name in the legend, its class (colour, in the SVG's own style), its values. */
interface Line {
  name: string;
  css: string;
  values: Array<number | null>;
  area?: boolean;
}

const W = 640;
const PANEL_H = 64;
const GAP = 30;
const LEFT = 46;
const RIGHT = 8;
const TOP = 22;

/** Declared names and figures only, but escaped all the same: an SVG is markup. */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (n: number) => (Math.round(n * 10) / 10).toString();

/**
 * One panel: lines over the hour (x: time, right is now), y from 0 to `max`, gaps where a value
 * is null (no traffic in that interval), the axis labelled by `format`.
 */
function panel(title: string, y0: number, at: number[], from: number, to: number, max: number, format: (v: number) => string, lines: Line[]): string {
  const x = (t: number) => LEFT + ((t - from) / (to - from)) * (W - LEFT - RIGHT);
  const y = (v: number) => y0 + PANEL_H - (Math.min(v, max) / max) * PANEL_H;
  const paths = lines.map((line) => {
    let d = '';
    let open = false;
    line.values.forEach((v, i) => {
      if (v === null) return void (open = false);
      d += `${open ? 'L' : 'M'}${num(x(at[i]))},${num(y(v))}`;
      open = true;
    });
    if (!d) return '';
    const area = line.area ? `<path class="${line.css} area" d="${d}L${num(x(at[at.length - 1]))},${num(y(0))}L${num(x(at[0]))},${num(y(0))}Z"/>` : '';
    return `${area}<path class="${line.css}" d="${d}"/>`;
  });
  const legend = lines.map((l, i) => `<text class="legend ${l.css.split(' ')[0]}-text" x="${W - RIGHT - (lines.length - i) * 118}" y="${y0 - 6}">■ ${esc(l.name)}</text>`).join('');
  return [
    `<text class="title" x="${LEFT}" y="${y0 - 6}">${esc(title)}</text>${legend}`,
    `<rect class="frame" x="${LEFT}" y="${y0}" width="${W - LEFT - RIGHT}" height="${PANEL_H}"/>`,
    `<text class="axis" x="${LEFT - 4}" y="${y0 + 8}" text-anchor="end">${esc(format(max))}</text>`,
    `<text class="axis" x="${LEFT - 4}" y="${y0 + PANEL_H}" text-anchor="end">0</text>`,
    ...paths,
  ].join('');
}

/** A ceiling for a panel's axis: the largest value, rounded up to a readable step, at least `floor`. */
function ceiling(values: Array<number | null>, floor: number): number {
  const top = Math.max(floor, ...values.filter((v): v is number => v !== null));
  const steps = [1, 2, 2.5, 5, 10];
  const magnitude = 10 ** Math.floor(Math.log10(top));
  return steps.map((s) => s * magnitude).find((s) => s >= top) ?? top;
}

const percent = (v: number) => `${num(v * 100)}%`;
const ms = (v: number) => (v >= 1000 ? `${num(v / 1000)} s` : `${num(v)} ms`);

/**
 * A domain's last hour as one SVG, drawn on the server (ADR 0501, amended): the traffic split,
 * the 5xx rate per side, p50/p99 per side and the shadow match rate. Served as an image: an SVG
 * shown by <img> runs no script, and its styles are its own.
 */
export function renderChart(domain: string, points: readonly HistoryPoint[], now: number, spanMs: number): string {
  // The hour, or as much of it as was sampled (a gateway started minutes ago draws those minutes across the width).
  const first = points.find((p) => p.at >= now - spanMs);
  const from = Math.max(now - spanMs, Math.min(first?.at ?? now, now - 60_000));
  const shown = points.filter((p) => p.at >= from);
  const at = shown.map((p) => p.at);
  const pick = <T>(f: (p: HistoryPoint) => T) => shown.map(f);
  const errors = [...pick((p) => p.errorRate.monolith), ...pick((p) => p.errorRate.extracted)];
  const latency = [...pick((p) => p.p99Ms.monolith), ...pick((p) => p.p99Ms.extracted)];
  const panels = [
    panel('traffic answered by the service', TOP, at, from, now, 1, percent, [{ name: 'extracted share', css: 'extracted', values: pick((p) => p.extractedShare), area: true }]),
    panel('5xx / failed attempts', TOP + PANEL_H + GAP, at, from, now, ceiling(errors, 0.05), percent, [
      { name: 'monolith', css: 'monolith', values: pick((p) => p.errorRate.monolith) },
      { name: 'extracted', css: 'extracted', values: pick((p) => p.errorRate.extracted) },
    ]),
    panel('latency p50 / p99', TOP + 2 * (PANEL_H + GAP), at, from, now, ceiling(latency, 10), ms, [
      { name: 'monolith p50', css: 'monolith thin', values: pick((p) => p.p50Ms.monolith) },
      { name: 'monolith p99', css: 'monolith', values: pick((p) => p.p99Ms.monolith) },
      { name: 'extracted p50', css: 'extracted thin', values: pick((p) => p.p50Ms.extracted) },
      { name: 'extracted p99', css: 'extracted', values: pick((p) => p.p99Ms.extracted) },
    ]),
    panel('shadow match rate', TOP + 3 * (PANEL_H + GAP), at, from, now, 1, percent, [{ name: 'matched', css: 'shadow', values: pick((p) => p.matchRate) }]),
  ];
  const height = TOP + 4 * (PANEL_H + GAP) - GAP + 18;
  const minutes = Math.max(1, Math.round((now - from) / 60_000));
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(domain)}: the last ${minutes === 1 ? 'minute' : `${minutes} minutes`}">
<style>
text{font:11px system-ui,sans-serif;fill:#444}.title{font-weight:600}.axis{fill:#888;font-size:10px}
.frame{fill:#fafafa;stroke:#ddd}path{fill:none;stroke-width:1.6}.thin{stroke-width:1;stroke-dasharray:3 2}
.monolith{stroke:#6b7280}.extracted{stroke:#d97706}.shadow{stroke:#2563eb}.area{fill:#d97706;fill-opacity:.15;stroke:none}
.monolith-text{fill:#6b7280}.extracted-text{fill:#d97706}.shadow-text{fill:#2563eb}
</style>
${panels.join('\n')}
<text class="axis" x="${LEFT}" y="${height - 4}">${minutes} min ago</text><text class="axis" x="${W - RIGHT}" y="${height - 4}" text-anchor="end">now · ${shown.length} samples</text>
</svg>
`;
}
