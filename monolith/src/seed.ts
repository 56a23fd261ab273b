import { randomBytes } from 'node:crypto';
import type { Monolith } from './app';

export const SEED_ADMIN_EMAIL = 'admin@banyan.local';

export interface SeedResult {
  adminCreated: boolean;
  /** Only set when this run chose the password (it was not given), so it can be printed once. */
  generatedPassword?: string;
  productsCreated: number;
}

/**
 * Seed an empty system: the admin user and a demo catalog. Safe to run on every start: an
 * existing admin keeps its password unless one is given explicitly, an existing catalog is left as is.
 */
export async function seedMonolith(monolith: Monolith, adminPassword?: string): Promise<SeedResult> {
  const { users, products } = monolith.modules;
  const existing = await users.api.findUserByEmail(SEED_ADMIN_EMAIL);
  let adminCreated = false;
  let generatedPassword: string | undefined;
  if (!existing || adminPassword) {
    generatedPassword = adminPassword ? undefined : randomBytes(12).toString('base64url');
    const result = await users.api.ensureUser({
      email: SEED_ADMIN_EMAIL,
      password: adminPassword ?? generatedPassword!,
      name: 'Banyan Admin',
      role: 'admin',
    });
    adminCreated = result.created;
  }
  const productsCreated = await products.api.seedDemoCatalog();
  return { adminCreated, generatedPassword, productsCreated };
}
