import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { installBanyan, EXAMPLE } from '../../examples/library/test/support/install';
import { startLibrary, type LibrarySystem } from '../../examples/library/test/support/system';
import { matches, normalise, parsePage, ROOT, runBlock } from './support/walkthrough';

/**
 * docs/adopt.md, run as written, the way the walkthrough runs its pages (support/walkthrough.ts):
 * every ```sh block not marked `norun`, in order, in examples/library (the project the page
 * adopts Banyan into), each "you should see" compared with what it printed after normalising.
 *
 * The `norun` blocks are the long-running starts and the install; the test does what they say
 * with the same programs: installBanyan() packs the same packages and installs the tarballs into
 * examples/library (with --no-save, so the committed package.json is left alone), and
 * startLibrary() starts `node monolith/server.js`, `node books-service/server.js` and the
 * gateway's `node gateway/dist/main.js` with BANYAN_MIGRATION naming the library's declaration,
 * on ports, databases and a RabbitMQ namespace of the test's own (turned back into the page's
 * defaults before comparing).
 */
const PAGE = path.join(ROOT, 'docs/adopt.md');
/** The walkthrough's switch (CI unsets it): write what a run printed into the blocks that did not match, for a person to read. */
const UPDATE = process.env.WALKTHROUGH_UPDATE === '1';

let system: LibrarySystem | undefined;
const updates: Array<{ line: number; output: string }> = [];

beforeAll(async () => {
  installBanyan();
  system = await startLibrary();
}, 240_000);

afterAll(async () => {
  await system?.stop();
  const lines = readFileSync(PAGE, 'utf8').split('\n');
  // Bottom-up, so earlier line numbers stay valid.
  for (const { line, output } of updates.sort((a, b) => b.line - a.line)) {
    let end = line;
    while (!/^```\s*$/.test(lines[end])) end++;
    lines.splice(line, end - line, ...output.split('\n'));
  }
  if (updates.length) writeFileSync(PAGE, lines.join('\n'));
}, 60_000);

test('docs/adopt.md: every command runs in examples/library and prints what the page says', async () => {
  const sys = system!;
  const state = path.join(path.dirname(sys.log), 'shell-state.sh');
  const blocks = parsePage(PAGE);
  expect(blocks.filter((b) => b.run).length).toBeGreaterThanOrEqual(8);
  for (const block of blocks.filter((b) => b.run)) {
    const where = `docs/adopt.md:${block.line}`;
    const deadline = Date.now() + block.waitSeconds * 1000;
    let result = runBlock(block, sys.env, state, 120_000, EXAMPLE);
    let actual = normalise(result.output, sys.substitutions);
    const expected = block.expected ? normalise(block.expected.text, sys.substitutions) : undefined;
    const ok = () => result.status === block.exit && (expected === undefined || matches(expected, actual));
    while (!ok() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      result = runBlock(block, sys.env, state, 120_000, EXAMPLE);
      actual = normalise(result.output, sys.substitutions);
    }
    if (ok()) continue;
    const shown = sys.substitutions.reduce((t, [from, to]) => t.split(from).join(to), result.output);
    if (UPDATE && block.expected && result.status === block.exit) {
      updates.push({ line: block.expected.line, output: shown.trimEnd() });
      continue;
    }
    throw new Error(
      `${where}: ${result.status !== block.exit ? `exit ${result.status}, expected ${block.exit}` : 'output differs'}\n` +
        `--- command ---\n${block.code}\n--- expected (normalised) ---\n${expected}\n--- actual (normalised) ---\n${actual}\n--- printed ---\n${shown}\n` +
        `--- system log (tail) ---\n${readFileSync(sys.log, 'utf8').split('\n').slice(-20).join('\n')}`,
    );
  }
}, 240_000);

test("docs/adopt.md: every ```js excerpt is the example's code, line for line", () => {
  const files = ['monolith', 'books-service'].flatMap((dir) => readdirSync(path.join(EXAMPLE, dir)).filter((f) => f.endsWith('.js')).map((f) => path.join(EXAMPLE, dir, f)));
  const code = new Set(files.flatMap((f) => readFileSync(f, 'utf8').split('\n').map((l) => l.trim())));
  const excerpts = [...readFileSync(PAGE, 'utf8').matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  expect(excerpts.length).toBeGreaterThan(0);
  const missing = excerpts.flatMap((e) => e.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !code.has(l)));
  expect(missing).toEqual([]);
});
