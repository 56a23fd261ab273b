import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { backfill, loadSyncSpec, verify } from '@banyan/sync';
import { startUsersPair, type UsersPair } from './support/pair';

// No broker: the service starts empty and only the backfill fills it.
let pair: UsersPair;
beforeAll(async () => {
  pair = await startUsersPair('ubackfill', { broker: false });
}, 30_000);
afterAll(() => pair?.close());

const spec = loadSyncSpec('users');
const stores = () => ({ source: pair.mono.db.knex, target: pair.service.db.knex });

/** `banyan` as users run it, pointed at this file's two databases. */
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.resolve(__dirname, '../../../packages/cli/bin/banyan.js'), ...args], {
    env: { ...process.env, MONOLITH_DATABASE: pair.mono.db.settings.database, USERS_DATABASE: pair.service.db.settings.database, OTEL_SDK_DISABLED: 'true' },
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('banyan backfill / verify for users', () => {
  test('When accounts are backfilled, then verify finds 0 differences and each logs in at the service with the password it had on the monolith', async () => {
    const people = [];
    for (let i = 0; i < 4; i++) people.push(await pair.mono.signUp({ password: `backfilled password ${i}` }));
    // A profile change and a password change before the copy: the copy carries the latest hash.
    await pair.mono.api.patch('/api/users/me', { name: 'Renamed', password: 'changed password 0' }, people[0].token);
    expect((await verify(spec, stores())).differences.length).toBeGreaterThan(0);

    const first = await backfill(spec, stores(), { batchSize: 2 });
    const total = Number((await pair.mono.db.knex('users.users').count<{ c: string }[]>('* as c'))[0].c);
    expect(first).toEqual({ read: total, written: total, skipped: 0 });
    expect((await verify(spec, stores())).differences).toEqual([]);
    expect(await backfill(spec, stores())).toEqual({ read: total, written: 0, skipped: total });

    for (const [i, p] of people.entries()) {
      const password = i === 0 ? 'changed password 0' : `backfilled password ${i}`;
      const login = await pair.service.api.post('/api/users/login', { email: p.user.email, password });
      expect({ status: login.status, name: login.body.user?.name }).toEqual({ status: 200, name: i === 0 ? 'Renamed' : 'Test User' });
    }
    // The service's next change to a copied account numbers after the monolith's (sequences continued).
    const { body } = await pair.service.api.post('/api/users/login', { email: people[1].user.email, password: 'backfilled password 1' });
    await pair.service.api.patch('/api/users/me', { name: 'Changed at the service' }, body.token);
    const [mono, svc] = await Promise.all([
      pair.mono.db.knex('users.users').where({ id: people[1].user.id }).first('version'),
      pair.service.db.knex('users.users').where({ id: people[1].user.id }).first('version'),
    ]);
    expect(Number(svc.version)).toBeGreaterThan(Number(mono.version));
    await backfill(spec, stores());
    expect((await pair.service.db.knex('users.users').where({ id: people[1].user.id }).first('name')).name).toBe('Changed at the service');
    // Put it back as the monolith has it, for the next test.
    await pair.service.db.knex('users.users').where({ id: people[1].user.id }).update({ name: 'Test User', version: mono.version });
  }, 30_000);

  test('When a password hash differs on one account, then verify reports the column and the CLI exits 1 without printing either hash', async () => {
    await pair.mono.signUp({ password: 'the monolith password' });
    await backfill(spec, stores());
    const victim = await pair.mono.db.knex('users.users').orderBy('id').first('id', 'password_hash');
    const planted = victim.password_hash.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A'));
    await pair.service.db.knex('users.users').where({ id: victim.id }).update({ password_hash: planted });

    const { differences } = await verify(spec, stores());
    expect(differences).toEqual([
      { table: 'users.users', key: victim.id, kind: 'differs', columns: { password_hash: ['(secret, not shown)', '(secret, not shown)'] } },
    ]);

    const verified = cli('verify', 'users');
    expect(verified.status).toBe(1);
    expect(verified.stdout).toContain(`users.users ${victim.id}: differs password_hash: "(secret, not shown)" ≠ "(secret, not shown)"`);
    expect(verified.stdout).toContain(', 1 difference (');
    const output = verified.stdout + verified.stderr;
    expect(output).not.toContain(victim.password_hash);
    expect(output).not.toContain(planted);
    expect(output).not.toMatch(/scrypt\$/);
  }, 30_000);
});
