import { v7 as uuidv7 } from 'uuid';
import { withTransaction } from '@banyan/db';
import { DEMO_CATALOG } from './demo-catalog';
import type { ProductsDeps } from './deps';

/** Arbitrary but fixed: serialises concurrent seeders (two `npm start`s) so neither doubles the catalog. */
const SEED_LOCK = 0x62616e79;

/** Fill an empty catalog with the demo products; leave any existing catalog alone. */
export async function seedDemoCatalog(deps: ProductsDeps): Promise<number> {
  return withTransaction(deps.knex, async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [SEED_LOCK]);
    if ((await deps.repo.count(trx)) > 0) return 0;
    for (const input of DEMO_CATALOG) {
      const product = await deps.repo.insert(trx, uuidv7(), input);
      await deps.events.created(trx, product);
    }
    return DEMO_CATALOG.length;
  });
}
