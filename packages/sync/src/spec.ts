import { isAbsolute, relative, resolve, sep } from 'node:path';
import { loadMigration, type LoadMigrationOptions } from '@banyan/migration';
import type { DomainSyncSpec } from './types';

/** The domain is not declared, or is declared without `data`: it has nothing to backfill or verify. */
export class NoSyncSpecError extends Error {
  constructor(
    readonly domain: string,
    file: string,
  ) {
    super(`no backfill/verify spec for "${domain}" (${file} declares no domains.${domain}.data)`);
    this.name = 'NoSyncSpecError';
  }
}

/**
 * A domain's spec, from the migration's declaration (`domains.<domain>.data`): its tables as
 * declared, its databases after the declaration's overrides (MONOLITH_DATABASE, <DOMAIN>_DATABASE
 * in the shop's). Throws NoSyncSpecError for a domain without one, and the declaration's own
 * MigrationDeclarationError when there is no valid declaration to ask.
 */
export function loadSyncSpec(domain: string, options: LoadMigrationOptions = {}): DomainSyncSpec {
  const migration = loadMigration(options);
  const data = Object.hasOwn(migration.domains, domain) ? migration.domains[domain].data : undefined;
  if (!data) throw new NoSyncSpecError(domain, shown(migration.file, options.cwd));
  return data;
}

/** The declaration as a person would type it: relative to where the tool runs when it is below it. */
function shown(file: string, cwd = process.cwd()): string {
  const rel = relative(resolve(cwd), file);
  return rel && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) ? rel : file;
}
