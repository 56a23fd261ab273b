import type { DataSpec, Migration } from '@banyan/migration';
import { CliError, EXIT } from '../admin-client';
import { declaredDomain, declaredNames, shownFile } from '../declaration';

/**
 * The data spec `banyan backfill` and `banyan verify` work from: the declared domain's `data`, its
 * databases resolved by the declaration. A domain without one is refused, naming those that have one.
 */
export function dataSpecOf(migration: Migration, domain: string, command: string): DataSpec {
  const { data } = declaredDomain(migration, domain);
  if (data) return data;
  const withData = Object.values(migration.domains).filter((d) => d.data).map((d) => d.name);
  throw new CliError(
    `"${domain}" has no data to ${command}: ${shownFile(migration)} declares no domains.${domain}.data` + (withData.length ? ` (declared for ${declaredNames(withData)})` : ''),
    EXIT.invalid,
  );
}
