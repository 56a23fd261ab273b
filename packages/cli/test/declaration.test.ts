import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '@banyan/db';
import { outboxSchema } from '@banyan/outbox';
import { createTestDatabase, type TestDatabase } from '@banyan/testing';

/**
 * Every command reads the project's migration declaration for its domains and their targets. Here
 * the project is a library of its own (books, loans, members; none of the shop's names), and the
 * CLI runs as users run it: bin/banyan.js in a process of its own, from the project's directory.
 */
const bin = path.resolve(__dirname, '../bin/banyan.js');

const library = (monolithDatabase: string, booksDatabase: string) => ({
  name: 'Library',
  monolith: { url: 'http://127.0.0.1:4000', database: monolithDatabase },
  domains: {
    books: {
      prefixes: ['/books', '/authors'],
      service: { url: 'http://127.0.0.1:4101', database: booksDatabase },
      data: { tables: [{ source: 'public.books', target: 'books.books', key: 'id', columns: ['id', 'title'], version: 'version' }] },
    },
    loans: { prefixes: ['/loans'], service: { url: 'http://127.0.0.1:4102' } },
    members: { prefixes: ['/members'], service: { url: 'http://127.0.0.1:4103' } },
  },
});

/** Two mistakes at once: the command must print both, each with its path. */
const broken = {
  name: 'Library',
  domains: {
    books: { prefixes: ['books/'], service: { url: 'http://127.0.0.1:4101' } },
    loans: { prefix: ['/loans'], service: { url: 'http://127.0.0.1:4102' } },
  },
};

let project: string;
let monolithDb: TestDatabase;
let booksDb: TestDatabase;
let admin: http.Server;
let adminUrl: string;
const seen: string[] = [];

beforeAll(async () => {
  [monolithDb, booksDb] = await Promise.all([createTestDatabase('cli_decl_monolith'), createTestDatabase('cli_decl_books')]);
  await Promise.all([migrate(monolithDb.knex, [outboxSchema]), migrate(booksDb.knex, [outboxSchema])]);
  project = mkdtempSync(path.join(os.tmpdir(), 'banyan-cli-declaration-'));
  writeFileSync(path.join(project, 'package.json'), '{ "name": "library", "private": true }\n');
  writeFileSync(path.join(project, 'banyan.migration.json'), JSON.stringify(library(monolithDb.settings.database!, booksDb.settings.database!)));
  writeFileSync(path.join(project, 'broken.migration.json'), JSON.stringify(broken));

  // The gateway's admin API as far as status needs it: it routes books and loans, and one domain
  // the declaration does not have.
  admin = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const route = (domain: string) => ({ domain, mode: 'monolith', percent: 0, stickyKey: 'jwt-subject', targets: { monolith: 'http://127.0.0.1:4000', extracted: 'http://x' }, version: 1, updatedAt: '2026-01-01T00:00:00Z', updatedBy: 'seed' });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: 7, source: 'database', routes: ['fines', 'loans', 'books'].map(route) }));
  });
  await new Promise<void>((resolve) => admin.listen(0, '127.0.0.1', resolve));
  adminUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => admin?.close(() => resolve()));
  await Promise.all([monolithDb?.drop(), booksDb?.drop()]);
  if (project) rmSync(project, { recursive: true, force: true });
});
beforeEach(() => (seen.length = 0));

function banyan(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: project,
      env: { PATH: process.env.PATH, PGHOST: process.env.PGHOST ?? '127.0.0.1', PGUSER: process.env.PGUSER ?? 'postgres', ...(process.env.PGPASSWORD ? { PGPASSWORD: process.env.PGPASSWORD } : {}), BANYAN_ADMIN_URL: adminUrl, BANYAN_ADMIN_TOKEN: 'a-token-for-the-cli-test', OTEL_SDK_DISABLED: 'true', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const COMMANDS: string[][] = [['status'], ['route', 'books', 'extracted'], ['shadow', 'books'], ['backfill', 'books'], ['verify', 'books'], ['parity', 'books'], ['outbox']];

describe('When the declaration is wrong, then every command stops before doing anything, printing the file and each path and reason', () => {
  test.each(COMMANDS)('banyan %s … --migration broken.migration.json', async (...args) => {
    const run = await banyan([...args, '--migration', 'broken.migration.json']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('banyan: the migration declaration broken.migration.json cannot be used:');
    expect(run.stderr).toContain('broken.migration.json: domains.books.prefixes[0]: must start with "/"');
    expect(run.stderr).toContain('broken.migration.json: domains.loans.prefix: unknown field');
    expect(run.stdout).toBe('');
    expect(seen).toEqual([]);
  });

  test('The same through BANYAN_MIGRATION, and a declaration that does not exist is named', async () => {
    const viaEnv = await banyan(['status'], { BANYAN_MIGRATION: 'broken.migration.json' });
    const missing = await banyan(['route', 'books', 'extracted', '--migration', 'nowhere.migration.json']);

    expect(viaEnv).toMatchObject({ code: 2, stderr: expect.stringContaining('broken.migration.json: domains.loans.prefix: unknown field') });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('nowhere.migration.json: not found') });
    expect(seen).toEqual([]);
  });
});

describe('When a command is given a domain the declaration does not have, then it names the declared ones', () => {
  test.each([[['route', 'fines', 'extracted']], [['shadow', 'fines']], [['backfill', 'fines']], [['verify', 'fines']], [['parity', 'fines']], [['outbox', 'fines']]])('banyan %j', async (args) => {
    const run = await banyan(args);

    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('banyan: Unknown domain "fines": banyan.migration.json declares books, loans and members');
    expect(seen).toEqual([]);
  });

  test('A declared domain without data cannot be backfilled or verified; without scenarios it has no parity', async () => {
    const backfill = await banyan(['backfill', 'loans']);
    const verify = await banyan(['verify', 'members']);
    const parity = await banyan(['parity', 'loans']);

    expect(backfill).toMatchObject({ code: 2, stderr: 'banyan: "loans" has no data to backfill: banyan.migration.json declares no domains.loans.data (declared for books)\n' });
    expect(verify).toMatchObject({ code: 2, stderr: 'banyan: "members" has no data to verify: banyan.migration.json declares no domains.members.data (declared for books)\n' });
    expect(parity).toMatchObject({ code: 2, stderr: 'banyan: no parity scenarios for "loans": banyan.migration.json declares no domains.loans.parity\n' });
  });
});

test("When the gateway and the declaration disagree, then status lists the declared domains in the declaration's order and names the rest", async () => {
  const run = await banyan(['status']);

  expect(run.code).toBe(0);
  const rows = run.stdout.split('\n').filter((l) => /^(books|loans|members|fines)\s/.test(l));
  expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['books', 'loans']);
  expect(run.stdout).toContain('Declared in banyan.migration.json but not routed by this gateway: members');
  expect(run.stdout).toContain('Routed by this gateway but not declared in banyan.migration.json: fines');
});

test("When outbox is given no domain, then it reads the monolith's declared database; given a domain, its service's", async () => {
  const monolith = await banyan(['outbox', '--json']);
  const books = await banyan(['outbox', 'books']);
  const loans = await banyan(['outbox', 'loans']);

  expect(monolith.code).toBe(0);
  expect(JSON.parse(monolith.stdout)).toMatchObject({ backlog: 0, parked: [] });
  expect(books).toMatchObject({ code: 0, stdout: expect.stringContaining(booksDb.settings.database!) });
  expect(loans).toMatchObject({ code: 2, stderr: 'banyan: no database to inspect: banyan.migration.json declares no domains.loans.service.database; name one with --database\n' });
});
