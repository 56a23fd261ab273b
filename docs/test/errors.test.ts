import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * docs/errors.md is the registry of every problem+json `code` Banyan's processes answer with, as
 * fastify's test/internals/errors.test.js holds lib/errors.js to docs/Reference/Errors.md: every
 * code the sources make has a row there, and every row names a code that the sources still make.
 *
 * A code is "made" where it is written as a literal: `new AppError('CODE', …)` (the domain
 * factories and @banyan/errors' shorthands are all of that form), a problem written by hand
 * (`code: 'CODE'`, the gateway's parser-error table), or the fallback of a client that relays
 * another service's code (`fallbackCode: 'CODE'`, `code ?? 'CODE'`). An `AppError` whose code is
 * computed is refused unless it is such a relay, so no code escapes this check.
 */
const ROOT = path.resolve(__dirname, '../..');

/** Where problems are made: every workspace's sources (compiled output and tests excluded). */
function sourceFiles(): string[] {
  const roots = ['monolith/src', 'gateway/src'];
  for (const parent of ['extracted', 'packages']) {
    for (const name of readdirSync(path.join(ROOT, parent))) roots.push(`${parent}/${name}/src`);
  }
  const files: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(path.join(ROOT, dir), { withFileTypes: true });
    } catch {
      return; // a workspace without src/
    }
    for (const e of entries) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'dist') walk(rel);
      } else if (/\.(ts|js|mjs|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) files.push(rel);
    }
  };
  roots.forEach(walk);
  return files;
}

/** The shape of a code: `DOMAIN.WHAT` in capitals (`INTERNAL` is the one code without a dot). */
const CODE_SHAPE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*(?:\.[A-Z][A-Z0-9_]*)+$|^INTERNAL$/;

interface Found {
  code: string;
  where: string;
}

/** Every code written in one source text, and every `new AppError(…)` whose code is not written. */
function codesIn(text: string, file: string): { codes: Found[]; computed: string[] } {
  const codes: Found[] = [];
  const computed: string[] = [];
  const lineOf = (index: number) => `${file}:${text.slice(0, index).split('\n').length}`;
  const add = (code: string, index: number) => {
    const where = lineOf(index);
    if (!codes.some((c) => c.code === code && c.where === where)) codes.push({ code, where });
  };

  // new AppError('CODE', …) — any code at all, so a plant without a dot is caught too.
  for (const m of text.matchAll(/new\s+AppError\(\s*(?:(['"`])([^'"`$\\]+)\1|([^,)]*))/g)) {
    if (m[2] !== undefined) add(m[2], m.index);
    // A relay passes on another service's own code, with a written fallback: String(code ?? 'X').
    else if (!/^String\(\s*[\w.]*code\s*\?\?/.test(m[3].trim())) computed.push(`${lineOf(m.index)}: ${m[0]}`);
  }
  // A problem or a fallback written by hand: code: 'X', fallbackCode: 'X', code ?? 'X'.
  for (const m of text.matchAll(/\b\w*[cC]ode\s*(?::|\?\?)\s*(['"`])([A-Z][A-Z0-9_.]*)\1/g)) add(m[2], m.index);
  // Any other literal shaped like a code (a table of codes, a tuple): quoted strings only, so
  // prose in comments (`CODE` in backticks) is not taken for a code.
  for (const m of text.matchAll(/(['"])([A-Z][A-Z0-9_.]*)\1/g)) {
    if (CODE_SHAPE.test(m[2]) && m[2].includes('.')) add(m[2], m.index);
  }
  return { codes, computed };
}

/** The codes of docs/errors.md's tables: every `CODE` in the first cell of a row. */
function documentedCodes(markdown: string): Set<string> {
  const codes = new Set<string>();
  for (const line of markdown.split('\n')) {
    const cell = /^\|([^|]*)\|/.exec(line)?.[1];
    if (!cell) continue;
    for (const m of cell.matchAll(/`([^`]+)`/g)) codes.add(m[1]);
  }
  return codes;
}

const docs = readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
const scanned = sourceFiles().map((file) => ({ file, ...codesIn(readFileSync(path.join(ROOT, file), 'utf8'), file) }));
/** The parity scenarios only expect codes; a code they name does not make it exist. */
const isExpectation = (file: string) => file.startsWith('packages/parity/');

describe('docs/errors.md, the registry of problem codes', () => {
  test('When the sources are scanned, then codes are found where problems are made (the scan itself works)', () => {
    const all = new Set(scanned.flatMap((s) => s.codes.map((c) => c.code)));
    // One of each way a code is written: an AppError, a shared shorthand, a hand-written problem,
    // a parser-error table, a relay's fallback.
    for (const code of ['ORDERS.NOT_FOUND', 'VALIDATION.FAILED', 'INTERNAL', 'GATEWAY.HEADERS_TOO_LARGE', 'PRODUCTS.ERROR', 'PAYMENTS.ERROR']) {
      expect(all).toContain(code);
    }
  });

  test('When a problem is made in the sources, then its code is written as a literal (or relays another service’s code)', () => {
    expect(scanned.flatMap((s) => s.computed)).toEqual([]);
  });

  test('When a code is made in the sources, then docs/errors.md has a row for it', () => {
    const missing = scanned.flatMap((s) => s.codes).filter((c) => !documentedCodes(docs).has(c.code));
    expect(missing.map((c) => `${c.code} (${c.where})`)).toEqual([]);
  });

  test('When docs/errors.md documents a code, then the sources still make it', () => {
    const made = new Set(scanned.filter((s) => !isExpectation(s.file)).flatMap((s) => s.codes.map((c) => c.code)));
    expect([...documentedCodes(docs)].filter((code) => !made.has(code))).toEqual([]);
  });

  test('When a code is planted in a source text, then the scan finds it (the check can fail)', () => {
    const planted = [
      "throw new AppError('ORDERS.PLANTED', 409, 'x');",
      "const p = { type: 't', status: 400, code: 'GATEWAY.PLANTED' };",
      "const T = { X: [400, 'USERS.PLANTED', 'y'] };",
      'new AppError(`NOTIFICATIONS.PLANTED`, 400, "z")',
    ].join('\n');
    const found = codesIn(planted, 'planted.ts').codes.map((c) => c.code);
    expect(new Set(found)).toEqual(new Set(['ORDERS.PLANTED', 'GATEWAY.PLANTED', 'USERS.PLANTED', 'NOTIFICATIONS.PLANTED']));
    expect(codesIn('new AppError(someCode, 400, "x")', 'planted.ts').computed).toHaveLength(1);
    expect(documentedCodes(docs).has('ORDERS.PLANTED')).toBe(false);
  });
});
