import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { matches, normalise, parsePage, ROOT, runBlock, startSystem, stepFiles, type Block, type System } from './support/walkthrough';

/**
 * docs/walkthrough, run as written: every ```sh block of every step, in order, against a system
 * started the way `npm start` starts it, each "you should see" (the ```text block after it)
 * compared with what the command printed. A page that drifts from the code fails here.
 *
 * WALKTHROUGH_UPDATE=1 writes what a run printed into the blocks that did not match (after the
 * test's own ports, prefix and namespace are turned back into the reader's defaults), for a
 * person to read and commit: the pages only ever show captured output.
 */
const UPDATE = process.env.WALKTHROUGH_UPDATE === '1';

// The breaker's reset is shortened so step 5 waits seconds, not 30: the page's loop waits either way.
// 10 s, not less: on a loaded machine the commands between opening it and reading the metric may
// take several seconds, and a breaker already half-open would print 1 where the page says 2.
const OVERRIDES = { PAYMENTS_BREAKER_RESET_MS: '10000' };

let system: System | undefined;
let failed: string | undefined;
const updates = new Map<string, Array<{ block: Block; output: string }>>();

beforeAll(async () => {
  system = await startSystem(OVERRIDES);
}, 300_000);

afterAll(async () => {
  await system?.stop();
  for (const [file, list] of updates) {
    const lines = readFileSync(file, 'utf8').split('\n');
    // Bottom-up, so earlier line numbers stay valid.
    for (const { block, output } of list.sort((a, b) => b.block.line - a.block.line)) {
      const start = block.expected!.line; // the ```text line, 1-based
      let end = start;
      while (!/^```\s*$/.test(lines[end])) end++;
      lines.splice(start, end - start, ...output.split('\n'));
    }
    writeFileSync(file, lines.join('\n'));
  }
}, 60_000);

describe('docs/walkthrough', () => {
  for (const file of stepFiles()) {
    const page = path.relative(ROOT, file);
    test(`${page}: every command runs and prints what the page says`, async () => {
      if (failed) throw new Error(`skipped: an earlier step failed (${failed})`);
      const sys = system!;
      const state = path.join(sys.tmp, 'shell-state.sh');
      for (const block of parsePage(file).filter((b) => b.run)) {
        const where = `${page}:${block.line}`;
        const deadline = Date.now() + block.waitSeconds * 1000;
        let result = runBlock(block, sys.env, state, 120_000);
        let actual = normalise(result.output, sys.substitutions);
        const expected = block.expected ? normalise(block.expected.text, sys.substitutions) : undefined;
        const ok = () => result.status === block.exit && (expected === undefined || matches(expected, actual));
        while (!ok() && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          result = runBlock(block, sys.env, state, 120_000);
          actual = normalise(result.output, sys.substitutions);
        }
        if (ok()) continue;
        if (UPDATE && block.expected && result.status === block.exit) {
          const shown = sys.substitutions.reduce((t, [from, to]) => t.split(from).join(to), result.output).split('\n').filter((l) => !/^npm warn /.test(l)).join('\n').trimEnd();
          updates.set(file, [...(updates.get(file) ?? []), { block, output: shown }]);
          continue;
        }
        failed = where;
        const log = readFileSync(sys.log, 'utf8').split('\n').slice(-30).join('\n');
        throw new Error(
          `${where}: ${result.status !== block.exit ? `exit ${result.status}, expected ${block.exit}` : 'output differs'}\n` +
            `--- command ---\n${block.code}\n--- expected (normalised) ---\n${expected}\n--- actual (normalised) ---\n${actual}\n--- system log (tail) ---\n${log}`,
        );
      }
    }, 300_000);
  }
});
