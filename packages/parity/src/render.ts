import type { ComparisonReport, Difference, ScenarioComparison } from './compare';
import type { NormalisedStep } from './normalise';

export interface RenderOptions {
  /** Width of each column of the side-by-side view. */
  width?: number;
  /** Also show steps that matched. */
  verbose?: boolean;
}

/**
 * The report as `diff -y` would show it: per differing step, both normalised exchanges in two
 * columns, lines aligned by their longest common subsequence and marked `|` (changed), `<` (only
 * left), `>` (only right); then each difference by path, so a reader knows what to fix.
 */
export function renderReport(report: ComparisonReport, options: RenderOptions = {}): string {
  const out: string[] = [`parity: A = ${report.a}   B = ${report.b}`, ''];
  for (const scenario of report.scenarios) out.push(...renderScenario(scenario, options), '');
  const differing = report.scenarios.filter((s) => s.differences.length > 0).length;
  const failing = report.scenarios.filter((s) => s.failures.a.length + s.failures.b.length > 0).length;
  out.push(
    report.identical
      ? `${report.scenarios.length} scenarios, no differences.`
      : `${report.scenarios.length} scenarios: ${differing} with differences, ${failing} with failed expectations.`,
  );
  return out.join('\n');
}

function renderScenario(s: ScenarioComparison, options: RenderOptions): string[] {
  const ok = s.differences.length === 0 && s.failures.a.length === 0 && s.failures.b.length === 0;
  const lines = [`${ok ? '✓' : '✗'} [${s.domain}] ${s.scenario}`];
  for (const [side, failures] of [['A', s.failures.a], ['B', s.failures.b]] as const) {
    for (const failure of failures) lines.push(`    ${side} failed: ${failure}`);
  }
  const width = options.width ?? 60;
  const steps = Math.max(s.a.steps.length, s.b.steps.length);
  for (let i = 0; i < steps; i++) {
    const differences = s.differences.filter((d) => d.index === i + 1);
    if (differences.length === 0 && !options.verbose) continue;
    const step = s.a.steps[i] ?? s.b.steps[i];
    lines.push(`  step ${i + 1} "${step.step}"${differences.length === 0 ? ' (same)' : ''}`);
    lines.push(...sideBySide(stepLines(s.a.steps[i]), stepLines(s.b.steps[i]), width).map((l) => `    ${l}`));
    for (const d of differences) lines.push(`    ≠ ${describe(d)}`);
  }
  return lines;
}

export function describe(d: Difference): string {
  if (d.kind === 'missing-step') return `step ${d.index} "${d.step}": A ${d.a as string}, B ${d.b as string}`;
  return `${d.path}: A ${show(d.a)}  B ${show(d.b)}`;
}

const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

function stepLines(step: NormalisedStep | undefined): string[] {
  if (!step) return ['(did not run)'];
  const lines = [step.request];
  if (step.requestBody !== undefined) lines.push(...pretty(step.requestBody).map((l) => `  ${l}`));
  lines.push(`→ ${step.status}`);
  for (const [name, value] of Object.entries(step.headers)) lines.push(`${name}: ${value}`);
  if (step.body !== null && step.body !== undefined) lines.push(...pretty(step.body));
  return lines;
}

const pretty = (value: unknown) => (typeof value === 'string' ? [value] : JSON.stringify(value, null, 2).split('\n'));

export function sideBySide(left: string[], right: string[], width: number): string[] {
  const cell = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width));
  return align(left, right).map(([l, r]) => {
    const mark = l === undefined ? '>' : r === undefined ? '<' : l === r ? ' ' : '|';
    return `${cell(l ?? '')} ${mark} ${r ?? ''}`.trimEnd();
  });
}

/**
 * LCS alignment; then runs of unmatched lines on both sides are paired up as changes, which is
 * how a changed value (one line each side) shows as `|` rather than a `<` and a `>`.
 */
function align(left: string[], right: string[]): Array<[string | undefined, string | undefined]> {
  const n = left.length;
  const m = right.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = left[i] === right[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const rows: Array<[string | undefined, string | undefined]> = [];
  let onlyLeft: string[] = [];
  let onlyRight: string[] = [];
  const flush = () => {
    for (let k = 0; k < Math.max(onlyLeft.length, onlyRight.length); k++) rows.push([onlyLeft[k], onlyRight[k]]);
    onlyLeft = [];
    onlyRight = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && left[i] === right[j]) {
      flush();
      rows.push([left[i++], right[j++]]);
    } else if (j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1])) onlyLeft.push(left[i++]);
    else onlyRight.push(right[j++]);
  }
  flush();
  return rows;
}
