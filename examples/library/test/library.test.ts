import knex, { type Knex } from 'knex';
import { eventually, testConnection } from '@banyan/testing';
import { installBanyan } from './support/install';
import { startLibrary, type LibrarySystem } from './support/system';

/**
 * Issue 11, item 5: Banyan adopted by a project that is not the shop. The library (examples/library:
 * an Express monolith of its own making, and the books service extracted from it) installs the
 * packed @banyan packages, declares its migration in banyan.migration.json, adds the outbox to
 * its write paths, and puts the gateway (run from this checkout) in front. Everything here runs
 * for real: PostgreSQL, RabbitMQ, the three processes, the installed `banyan` command.
 */
jest.setTimeout(120_000);

let system: LibrarySystem;
let library: Knex;
let books: Knex;

interface Book { id: string; isbn: string; title: string; author: string; copies: number }

const json = async (res: Response) => ({ status: res.status, route: res.headers.get('x-banyan-route'), body: (await res.json()) as Record<string, unknown> });
const post = (path: string, body: unknown) => fetch(system.gateway + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(json);
const patch = (path: string, body: unknown) => fetch(system.gateway + path, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(json);
const get = (path: string) => fetch(system.gateway + path).then(json);
const book = (n: number | string) => ({ isbn: `978-${n}`, title: `Book ${n}`, author: 'An Author', copies: 1 });

async function expectOk(args: string[], pattern?: RegExp) {
  const { status, output } = await system.banyan(args);
  // LIBRARY_SHOW=1 prints every command's output, to read what docs/adopt.md should show.
  if (process.env.LIBRARY_SHOW) console.log(`$ banyan ${args.join(" ")}\n${output}`);
  if (status !== 0) throw new Error(`banyan ${args.join(' ')} exited ${status}:\n${output}`);
  if (pattern) expect(output).toMatch(pattern);
  return output;
}

beforeAll(async () => {
  const { installed, ms } = installBanyan();
  // Seen in the log of a slow run: a fresh install is the one step that may take long.
  if (installed) console.log(`installed the packed @banyan packages into examples/library in ${ms} ms`);
  system = await startLibrary();
  library = knex({ client: 'pg', connection: testConnection(system.databases.library), pool: { min: 0, max: 2 } });
  books = knex({ client: 'pg', connection: testConnection(system.databases.books), pool: { min: 0, max: 2 } });
}, 240_000);

afterAll(async () => {
  await library?.destroy();
  await books?.destroy();
  await system?.stop();
}, 60_000);

test('When the gateway is put in front, then the library answers through it unchanged: books from the monolith, and loans, which no domain declares, passed through to it', async () => {
  const created = await post('/api/books', book('front'));
  expect(created).toMatchObject({ status: 201, route: expect.stringMatching(/monolith/), body: { title: 'Book front' } });
  const loan = await post('/api/loans', { bookId: created.body.id, member: 'ada' });
  expect(loan).toMatchObject({ status: 201, route: 'monolith; pass-through', body: { bookId: created.body.id, member: 'ada', returned: false } });
  expect(await post('/api/books', { ...book('bad'), copies: -1 })).toMatchObject({ status: 400, body: { code: 'LIBRARY.INVALID_BOOK' } });
  await expectOk(['status'], /books\s+monolith/);
});

test('When books are backfilled, then verify finds both databases equal, and a later write reaches the service by the two-way sync', async () => {
  for (let i = 0; i < 20; i++) await post('/api/books', book(`backfill-${i}`));
  // Rows the monolith had before the outbox: the backfill is what carries them over.
  await library('books').insert({ id: '00000000-0000-4000-8000-0000000000aa', isbn: '978-old', title: 'Older than Banyan', author: 'X', copies: 1, version: 0 });
  const [{ count }] = await library('books').count<Array<{ count: string }>>('* as count');
  await expectOk(['backfill', 'books'], new RegExp(`books: ${count} rows read, [1-9]\\d* written`));
  expect(await books('books').where({ title: 'Older than Banyan' }).first()).toMatchObject({ version: 0 });
  await expectOk(['verify', 'books'], new RegExp(`books: ${count} rows compared, 0 differences`));
  const later = await post('/api/books', book('later'));
  await eventually(() => books('books').where({ id: later.body.id }).first(), { until: (row) => row?.title === 'Book later', timeoutMs: 15_000 });
});

test('When books are shadowed, then the service answers the same reads as the monolith, and a copy changed behind its back is caught by shadow and verify', async () => {
  await expectOk(['route', 'books', 'shadow']);
  const some = (await get('/api/books')).body.items as Book[];
  for (const b of some.slice(0, 5)) expect(await get(`/api/books/${b.id}`)).toMatchObject({ status: 200, route: expect.stringMatching(/monolith/) });
  // The list is compared under the domain, a book by its id under its route rule (`book`).
  const compared = (out: string, line: RegExp) => Number(new RegExp(`${line.source}.*?(\\d+) compared`).exec(out)?.[1] ?? 0);
  const clean = await eventually(() => expectOk(['shadow', 'books']), { until: (out) => compared(out, /^books:/m) >= 1 && compared(out, /rule book:/) >= 5, timeoutMs: 10_000 });
  expect(clean).toMatch(/^books: 100\.0% match · \d+ compared, 0 mismatched/m);
  expect(clean).toMatch(/rule book: 100\.0% match · \d+ compared, 0 mismatched/);

  // A difference planted in the service's database, past the outbox: both tools must see it.
  await books('books').where({ id: some[0].id }).update({ title: 'Changed behind the sync' });
  expect((await get(`/api/books/${some[0].id}`)).body.title).toBe(some[0].title); // the monolith still answers
  await eventually(() => expectOk(['shadow', 'books']), { until: (out) => /[1-9]\d* mismatched/.test(out), timeoutMs: 10_000 });
  const verify = await system.banyan(['verify', 'books']);
  expect(verify).toMatchObject({ status: 1, output: expect.stringMatching(/1 difference/) });
  await books('books').where({ id: some[0].id }).update({ title: some[0].title });
  // Repaired, and verified so: the gateway's preflight (ADR 0214) refuses to move traffic to a side
  // whose last verify found a difference, as the next tests do.
  await expectOk(['verify', 'books'], /0 differences/);
  await expectOk(['route', 'books', 'monolith']);
});

test('When parity runs the library\'s own scenarios through both sides, then they are identical', async () => {
  await expectOk(['parity', 'books'], /identical|no differences|0 differ/i);
});

test('When the rule for GET /api/books/:id is moved to the service, then only that route goes there and the rest of books stays', async () => {
  const { id } = (await post('/api/books', book('rule'))).body as { id: string };
  await eventually(() => books('books').where({ id }).first(), { until: Boolean, timeoutMs: 15_000 });
  await expectOk(['route', 'books', 'extracted', '--rule', 'book']);
  expect(await get(`/api/books/${id}`)).toMatchObject({ status: 200, route: expect.stringMatching(/extracted/), body: { title: 'Book rule' } });
  expect((await get('/api/books')).route).toMatch(/monolith/);
  expect((await patch(`/api/books/${id}`, { copies: 4 })).route).toMatch(/monolith/);
  await expectOk(['status'], /book/);
  await expectOk(['route', 'books', 'inherit', '--rule', 'book']);
  expect((await get(`/api/books/${id}`)).route).toMatch(/monolith/);
});

test('When books switch to the service and back while four writers keep writing, then no acknowledged write is lost and verify is clean', async () => {
  const last = new Map<string, string>(); // book id → the title its writer last had acknowledged
  const served = { monolith: 0, extracted: 0 };
  let writing = true;
  const writer = async (w: number) => {
    for (let i = 0; writing; i++) {
      const created = await post('/api/books', book(`w${w}-${i}`));
      if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
      last.set(created.body.id as string, `Book w${w}-${i}`);
      for (let k = 0; k < 3 && writing; k++) {
        const title = `Book w${w}-${i} edition ${k}`;
        const changed = await patch(`/api/books/${created.body.id}`, { title });
        if (changed.status !== 200) throw new Error(`change answered ${changed.status}: ${JSON.stringify(changed.body)}`);
        last.set(created.body.id as string, title);
        served[/extracted/.test(changed.route ?? '') ? 'extracted' : 'monolith']++;
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  await new Promise((r) => setTimeout(r, 1_000));
  await expectOk(['route', 'books', 'extracted']);
  await new Promise((r) => setTimeout(r, 2_000));
  await expectOk(['route', 'books', 'monolith']);
  await new Promise((r) => setTimeout(r, 1_000));
  writing = false;
  await Promise.all(writers);

  expect(served.extracted).toBeGreaterThan(0);
  expect(served.monolith).toBeGreaterThan(0);
  const titles = async (db: Knex) => new Map((await db('books').whereIn('id', [...last.keys()]).select('id', 'title')).map((r: { id: string; title: string }) => [r.id, r.title]));
  // Both sides settle on every writer's last acknowledged title: nothing acknowledged was lost.
  for (const db of [library, books]) {
    await eventually(() => titles(db), { until: (held) => [...last].every(([id, title]) => held.get(id) === title), timeoutMs: 20_000 });
  }
  await expectOk(['verify', 'books']);
  // Nothing was lost because each switch's fence came down on the sides' own evidence (the old
  // side's outbox drained, the new side's counters past its events), not at its upper bound.
  const metrics = await (await fetch(`${system.admin}/metrics`, { headers: { authorization: `Bearer ${system.token}` } })).text();
  const fences = (outcome: string) =>
    metrics.split('\n').filter((l) => l.startsWith('banyan_gateway_switch_fences_total{') && l.includes('domain="books"') && l.includes(`outcome="${outcome}"`) && !l.includes('rule=')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  if (process.env.LIBRARY_SHOW) console.log(metrics.split('\n').filter((l) => l.includes('switch_fences_total')).join('\n'));
  expect(fences('settled')).toBeGreaterThanOrEqual(2);
  expect(fences('timeout')).toBe(0);
}, 180_000);
