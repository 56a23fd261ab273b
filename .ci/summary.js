#!/usr/bin/env node
/**
 * What `.ci/run` says after `npm test`, read from jest's JSON report: the one line
 * `Tests: N passed, M failed`, then why the run fails when it must although no test failed:
 * - no test ran at all;
 * - a test was skipped (`.skip`, `xit`) or left as a `.todo`: a test that does not run proves
 *   nothing, and a green run would hide it (jest's numPendingTests / numTodoTests, each named);
 * - a test file is focused (`.only`, `fit`, `fdescribe`): jest then runs only the focused tests of
 *   that file, and when every test of the file is focused nothing is reported as skipped, so the
 *   files jest ran are read for the markers themselves.
 * A test that must not run on some machine fails there with the reason instead (the dashboard's
 * browser test does, without chromium).
 *
 * Usage: node .ci/summary.js <jest-report.json>; exit 1 when the run must fail.
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const NOT_RUN = new Set(['pending', 'skipped', 'todo', 'disabled']);
/** `.only` on describe/it/test (also `test.concurrent.only`, `describe.each(…).only` is rare enough to leave), and jasmine's f-prefixed forms. */
const FOCUS = /\b(?:describe|it|test)(?:\.concurrent)?\.only\b|(?:^|[^\w.$])(?:fdescribe|fit|ftest)\s*\(/;

/** `file:line: text` for every focus marker in one test file's text (comments and strings included: rename the word). */
function focusMarkers(text, file) {
  return text
    .split('\n')
    .map((line, i) => (FOCUS.test(line) ? `${file}:${i + 1}: ${line.trim()}` : undefined))
    .filter(Boolean);
}

/** The summary line and the reasons the run fails beyond failed tests. `read(file)` gives a test file's text. */
function summarise(report, read = (file) => readFileSync(file, 'utf8')) {
  const line = `Tests: ${report.numPassedTests} passed, ${report.numFailedTests + (report.numRuntimeErrorTestSuites || 0)} failed`;
  const problems = [];
  if (report.numTotalTests === 0) problems.push('no test ran');
  const notRun = [];
  const focused = [];
  for (const suite of report.testResults ?? []) {
    const file = path.relative(ROOT, suite.name);
    for (const t of suite.assertionResults ?? []) {
      if (NOT_RUN.has(t.status)) notRun.push(`${file} › ${t.fullName ?? t.title} (${t.status})`);
    }
    let text;
    try {
      text = read(suite.name);
    } catch {
      continue; // a file jest ran but that is gone: nothing to read
    }
    focused.push(...focusMarkers(text, file));
  }
  if (report.numPendingTests || report.numTodoTests || notRun.length) {
    problems.push(`${report.numPendingTests || 0} skipped and ${report.numTodoTests || 0} todo tests: make them run or delete them`, ...notRun.map((n) => `  ${n}`));
  }
  if (focused.length) problems.push(`${focused.length} focused tests (.only): remove the focus`, ...focused.map((f) => `  ${f}`));
  return { line, problems };
}

module.exports = { summarise, focusMarkers };

if (require.main === module) {
  const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const { line, problems } = summarise(report);
  console.log(line);
  for (const p of problems) console.error(p.startsWith('  ') ? `[ci]${p}` : `[ci] ${p}`);
  process.exit(problems.length ? 1 : 0);
}
