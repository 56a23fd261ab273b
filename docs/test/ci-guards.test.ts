import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * .ci/run's verdict after `npm test` (.ci/summary.js): the summary line, and a failed run for a
 * skipped, todo or focused test. Checked against the report a real jest writes for planted files,
 * so a change in jest's report cannot quietly turn the guard off. The markers are assembled at run
 * time: written out here, this file would itself be a focused test file.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script run by .ci/run
const ci = require(path.resolve(__dirname, '../../.ci/summary.js')) as {
  summarise(report: unknown, read?: (file: string) => string): { line: string; problems: string[] };
};

const dot = (...parts: string[]) => parts.join('.');
let dir: string;

/** Runs jest on the planted files and gives its JSON report, as `npm test -- --json` writes it. */
function jestReport(files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const out = path.join(dir, 'report.json');
  spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--rootDir', dir, '--ci', '--json', '--outputFile', out, '-w', '1'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, JEST_WORKER_ID: undefined },
  });
  return JSON.parse(readFileSync(out, 'utf8'));
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'banyan-ci-guards-'));
  writeFileSync(path.join(dir, 'package.json'), '{"jest":{"testEnvironment":"node","transform":{}}}');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('.ci/run fails on tests that did not run', () => {
  test('When every test runs and passes, then the run passes with the summary line alone', () => {
    const { line, problems } = ci.summarise(jestReport({ 'a.test.js': "test('one', () => {}); test('two', () => {});" }));
    expect(line).toBe('Tests: 2 passed, 0 failed');
    expect(problems).toEqual([]);
  });

  test('When a test is skipped or left as a todo, then the run fails naming each one', () => {
    const report = jestReport({
      'a.test.js': `test('runs', () => {}); ${dot('test', 'skip')}('skipped one', () => {}); ${dot('test', 'todo')}('to write');`,
      'b.test.js': `describe('group', () => { x${'it'}('skipped two', () => {}); test('runs', () => {}); });`,
    });
    const { line, problems } = ci.summarise(report);
    expect(line).toBe('Tests: 2 passed, 0 failed');
    expect(problems[0]).toBe('2 skipped and 1 todo tests: make them run or delete them');
    expect(problems.join('\n')).toMatch(/a\.test\.js › skipped one \(pending\)/);
    expect(problems.join('\n')).toMatch(/a\.test\.js › to write \(todo\)/);
    expect(problems.join('\n')).toMatch(/b\.test\.js › group skipped two \(pending\)/);
  });

  test('When a file is focused, then the run fails naming the line, even when nothing is reported skipped', () => {
    const report = jestReport({ 'only.test.js': `${dot('test', 'only')}('the only test', () => {});\n` });
    expect(report.numPendingTests).toBe(0); // jest alone would call this run clean
    const { problems } = ci.summarise(report);
    expect(problems[0]).toBe('1 focused tests (.only): remove the focus');
    expect(problems[1]).toMatch(/only\.test\.js:1: test\.only\('the only test'/);
  });

  test('When jest ran no test at all, then the run fails', () => {
    expect(ci.summarise({ numPassedTests: 0, numFailedTests: 0, numTotalTests: 0, testResults: [] }).problems).toEqual(['no test ran']);
  });
});
