import { isDeepStrictEqual } from 'node:util';
import { createPatch } from 'rfc6902';
import type { NormalisedStep } from './normalise';
import { formatPath, getPath, pointerToSegments } from './paths';
import { runScenarios, type Transcript } from './runner';
import type { Scenario, Target } from './scenario';

export interface Difference {
  scenario: string;
  /** The step's name, and its position (1-based) in the scenario. */
  step: string;
  index: number;
  kind: 'request' | 'status' | 'headers' | 'body' | 'missing-step';
  /** Where, in the transcript's path syntax: `status`, `headers.location`, `body.items[0].name`. */
  path: string;
  a: unknown;
  b: unknown;
}

export interface ScenarioComparison {
  scenario: string;
  domain: string;
  differences: Difference[];
  /** Each target's unmet expectations: a broken scenario proves nothing, even when both sides agree. */
  failures: { a: string[]; b: string[] };
  a: Transcript;
  b: Transcript;
}

export interface ComparisonReport {
  a: string;
  b: string;
  scenarios: ScenarioComparison[];
  /** True only when no scenario differs and none failed its expectations on either side. */
  identical: boolean;
}

/**
 * Run the scenarios against both targets and diff the normalised transcripts. The two runs go
 * in parallel: each scenario only touches what it created (or compares shared data by shape),
 * so they cannot disturb each other, and a slow target does not double the wait.
 */
export async function compareTargets(scenarios: Scenario[], a: Target, b: Target): Promise<ComparisonReport> {
  const [left, right] = await Promise.all([runScenarios(scenarios, a), runScenarios(scenarios, b)]);
  return compareTranscripts(a.name, left, b.name, right);
}

export function compareTranscripts(aName: string, left: Transcript[], bName: string, right: Transcript[]): ComparisonReport {
  const scenarios = left.map((a, i) => {
    const b = right[i];
    return { scenario: a.scenario, domain: a.domain, differences: diffSteps(a, b), failures: { a: a.failures, b: b.failures }, a, b };
  });
  const identical = scenarios.every((s) => s.differences.length === 0 && s.failures.a.length === 0 && s.failures.b.length === 0);
  return { a: aName, b: bName, scenarios, identical };
}

export function diffSteps(a: Transcript, b: Transcript): Difference[] {
  const differences: Difference[] = [];
  for (let i = 0; i < Math.max(a.steps.length, b.steps.length); i++) {
    const left = a.steps[i];
    const right = b.steps[i];
    const at = (kind: Difference['kind'], path: string, x: unknown, y: unknown) =>
      differences.push({ scenario: a.scenario, step: (left ?? right).step, index: i + 1, kind, path, a: x, b: y });
    if (!left || !right) {
      at('missing-step', '', left ? 'ran' : 'did not run', right ? 'ran' : 'did not run');
      continue;
    }
    if (left.request !== right.request) at('request', 'request', left.request, right.request);
    if (!isDeepStrictEqual(left.requestBody, right.requestBody)) at('request', 'requestBody', left.requestBody, right.requestBody);
    if (left.status !== right.status) at('status', 'status', left.status, right.status);
    for (const name of new Set([...Object.keys(left.headers), ...Object.keys(right.headers)])) {
      if (left.headers[name] !== right.headers[name]) at('headers', `headers.${name}`, left.headers[name], right.headers[name]);
    }
    for (const op of bodyPatch(left, right)) {
      const segments = pointerToSegments(op.path, 'body');
      // An append is reported at `/-`, which names no element on either side: the value is in the op.
      const b = op.op === 'remove' ? undefined : 'value' in op ? op.value : getPath(right, segments);
      at('body', formatPath(segments), getPath(left, segments), b);
    }
  }
  return differences;
}

/**
 * rfc6902 answers "how to turn a into b", and for arrays that can be a cascade of moves; only
 * the paths matter here, so each operation becomes one difference at its path.
 */
function bodyPatch(left: NormalisedStep, right: NormalisedStep) {
  if (isDeepStrictEqual(left.body, right.body)) return [];
  return createPatch(left.body, right.body).filter((op) => op.op !== 'test');
}
