import { createKnex, deleteInChunks, describe as describeConnection, dropDatabase, ensureDatabase, migrate, ping, quoteIdent, withTransaction, type SchemaOwner } from '@banyan/db';
import { createTestDatabase, testConnection, type TestDatabase } from '@banyan/testing';

/** @banyan/db against the machine's PostgreSQL, in a database of this file's own. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('db-package');
  await db.knex.schema.createTable('items', (t) => {
    t.increments('id');
    t.string('name').notNullable().unique();
    t.boolean('stale').notNullable().defaultTo(false);
  });
});
afterAll(() => db?.drop());
beforeEach(() => db.knex('items').truncate());

describe('withTransaction', () => {
  test('When the work succeeds, then every write commits together and its result is returned', async () => {
    const result = await withTransaction(db.knex, async (trx) => {
      await trx('items').insert({ name: 'a' });
      await trx('items').insert({ name: 'b' });
      return 'done';
    });

    expect(result).toBe('done');
    expect(await db.knex('items').orderBy('name').pluck('name')).toEqual(['a', 'b']);
  });

  test('When the work throws after writing, then nothing it wrote is kept and the error reaches the caller', async () => {
    await expect(
      withTransaction(db.knex, async (trx) => {
        await trx('items').insert({ name: 'written first' });
        throw new Error('the event could not be written');
      }),
    ).rejects.toThrow('the event could not be written');

    expect(await db.knex('items').count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
  });

  test('When a statement fails inside the work, then the earlier writes are rolled back too', async () => {
    await db.knex('items').insert({ name: 'taken' });

    await expect(
      withTransaction(db.knex, async (trx) => {
        await trx('items').insert({ name: 'fresh' });
        await trx('items').insert({ name: 'taken' });
      }),
    ).rejects.toMatchObject({ code: '23505' });

    expect(await db.knex('items').pluck('name')).toEqual(['taken']);
  });
});

describe('deleteInChunks', () => {
  test('When rows match, then only they are deleted, one short statement per chunk, and the count is returned', async () => {
    await db.knex('items').insert(Array.from({ length: 25 }, (_, i) => ({ name: `item-${i}`, stale: i < 20 })));
    const deletes: string[] = [];
    const onQuery = (q: { sql: string }) => q.sql.startsWith('DELETE') && deletes.push(q.sql);
    db.knex.on('query', onQuery);

    let deleted: number;
    try {
      deleted = await deleteInChunks(db.knex, 'items', 'id', 'stale = ?', [true], 7);
    } finally {
      db.knex.off('query', onQuery);
    }

    expect(deleted).toBe(20);
    expect(deletes).toHaveLength(3); // 7 + 7 + 6: the short chunk ends it
    expect(await db.knex('items').where({ stale: true }).count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
    expect(await db.knex('items').where({ stale: false }).count<{ count: string }[]>('* as count')).toEqual([{ count: '5' }]);
  });

  test('When nothing matches, then it deletes nothing and returns 0', async () => {
    await db.knex('items').insert({ name: 'fresh' });

    expect(await deleteInChunks(db.knex, 'items', 'id', 'stale = ?', [true])).toBe(0);
    expect(await db.knex('items').pluck('name')).toEqual(['fresh']);
  });
});

describe('migrate', () => {
  const owner = (schema: string, runs: string[]): SchemaOwner => ({
    schema,
    migrations: [
      {
        name: '001_things',
        up: async (k) => {
          runs.push('001');
          await k.raw(`CREATE TABLE ${quoteIdent(schema)}.things (id int PRIMARY KEY)`);
        },
      },
      {
        name: '002_more',
        up: async (k) => {
          runs.push('002');
          await k.raw(`ALTER TABLE ${quoteIdent(schema)}.things ADD COLUMN label text`);
        },
      },
    ],
  });

  test('When owners are migrated, then each gets its schema and its own migrations table, and a second run applies nothing', async () => {
    const runs: string[] = [];

    await migrate(db.knex, [owner('alpha', runs), owner('beta', runs)]);
    await migrate(db.knex, [owner('alpha', runs), owner('beta', runs)]);

    expect(runs).toEqual(['001', '002', '001', '002']);
    for (const schema of ['alpha', 'beta']) {
      expect(await db.knex(`${schema}.migrations`).orderBy('id').pluck('name')).toEqual(['001_things', '002_more']);
      expect(await db.knex('information_schema.columns').where({ table_schema: schema, table_name: 'things' }).orderBy('ordinal_position').pluck('column_name')).toEqual(['id', 'label']);
    }
  });
});

describe('databases and connections', () => {
  test('When ensureDatabase is called twice at once, then the database exists once and neither call fails; dropDatabase removes it', async () => {
    const settings = testConnection(`banyan_test_db_ensure_${process.pid}_${Date.now()}`);
    const knex = createKnex(settings, { max: 1 });
    try {
      await Promise.all([ensureDatabase(settings), ensureDatabase(settings)]);
      expect(await ping(knex)).toBe(true);
    } finally {
      await knex.destroy();
      await dropDatabase(settings);
    }
    expect(await db.knex('pg_database').where({ datname: settings.database }).count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
  });

  test('When the database cannot be reached, then ping answers false instead of throwing', async () => {
    const nowhere = createKnex({ ...testConnection('postgres'), port: 1 }, { quiet: true });
    try {
      expect(await ping(nowhere)).toBe(false);
    } finally {
      await nowhere.destroy();
    }
  });

  test('When a connection is described or a name quoted, then the password is left out and quotes are doubled', () => {
    expect(describeConnection({ host: 'db', port: 5432, user: 'shop', password: 'hunter2', database: 'orders' })).toBe('postgresql://shop@db:5432/orders');
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
  });
});
