import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { loadMigration } from '@banyan/migration';

/**
 * Issue 11, item 3: the toolkit knows no application. The shop's domain names, read from its own
 * declaration (so a seventh domain is guarded too), must not appear in packages/<name>/src as an
 * identifier or a string, in any case, as a whole word or a camelCase or snake_case part
 * (`productsSyncSpec`, `USERS_JWKS_URL`, '/api/orders'). Comments may use them as examples: they
 * explain, they do not decide.
 *
 * KNOWN lists what is left, each with its reason. It must match exactly: a file cleaned up fails
 * this test until its line is removed, and a new offender fails it until it is fixed (or, with a
 * reason a reviewer accepts, listed).
 */
const repo = path.join(__dirname, '..', '..');
const names = Object.keys(loadMigration({ cwd: repo, env: {} }).domains);

const KNOWN: Record<string, string> = {
  'packages/auth/src/index.ts':
    "TOKEN_ISSUER 'banyan-users': the issuer every process checks. Renaming it is one line here, but gateway/test/support/gateway.ts signs its test tokens with that issuer by hand (another change's files).",
  'packages/events/src/index.ts':
    "The shop's event catalog: the Domain union, DOMAINS and the type-to-exchange map (`product` → 'products'). The monolith, the services and the relay import them; moving the catalog to the shop (its own events package, or the declaration) is its own change.",
  'packages/service-kit/src/config.ts':
    "USERS_JWKS_URL and its default (the gateway's /api/users/.well-known/jwks.json): the variable every service verifies tokens with. A neutral name (JWKS_URL) touches compose, deploy, the walkthrough and banyan.migration.ts's start env at once.",
  'packages/service-kit/src/run.ts': 'Reads config.USERS_JWKS_URL (above): goes with it.',
};

/** `productsSyncSpec` → products, sync, spec; `USERS_JWKS_URL` → users, jwks, url; '/api/orders?x' → api, orders, x. */
const words = (text: string) =>
  text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

/** Each identifier and string (template parts included) of a file that names a domain, with its line. */
function offences(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, /* skipTrivia: comments are skipped */ true, ts.LanguageVariant.Standard, text);
  const found: string[] = [];
  // Open `{` and template substitutions: a `}` that closes a substitution is rescanned as the
  // template's next part, so the text after it is read as a string, not as code.
  const open: Array<'brace' | 'template'> = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.OpenBraceToken) open.push('brace');
    else if (kind === ts.SyntaxKind.CloseBraceToken && open.pop() === 'template') kind = scanner.reScanTemplateToken(false);
    if (kind === ts.SyntaxKind.TemplateHead || kind === ts.SyntaxKind.TemplateMiddle) open.push('template');
    const named =
      kind === ts.SyntaxKind.Identifier ||
      kind === ts.SyntaxKind.StringLiteral ||
      kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral ||
      kind === ts.SyntaxKind.TemplateHead ||
      kind === ts.SyntaxKind.TemplateMiddle ||
      kind === ts.SyntaxKind.TemplateTail;
    if (!named) continue;
    const token = kind === ts.SyntaxKind.Identifier ? scanner.getTokenText() : scanner.getTokenValue();
    const hit = words(token).find((w) => names.includes(w));
    if (hit) found.push(`${text.slice(0, scanner.getTokenStart()).split('\n').length}: ${scanner.getTokenText()}`);
  }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(ts|js|cjs|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

test("The shop's declaration names the domains this guard looks for", () => {
  expect(names).toEqual(expect.arrayContaining(['users', 'products', 'orders', 'payments', 'notifications', 'analytics']));
});

test("No package's sources name one of the shop's domains, except the files listed with their reason", () => {
  const offenders: Record<string, string[]> = {};
  for (const pkg of readdirSync(path.join(repo, 'packages'))) {
    const src = path.join(repo, 'packages', pkg, 'src');
    let files: string[];
    try {
      files = sources(src);
    } catch {
      continue; // a package without sources
    }
    for (const file of files) {
      const found = offences(file);
      if (found.length) offenders[path.relative(repo, file)] = found;
    }
  }

  // Printed in full when it fails: every offending token, by file and line.
  expect(offenders).toEqual(Object.fromEntries(Object.keys(KNOWN).map((file) => [file, expect.any(Array)])));
});
