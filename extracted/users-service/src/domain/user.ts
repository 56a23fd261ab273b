import { z } from 'zod';
import type { Role as TokenRole } from '@banyan/auth';

/** A person's role; `service` tokens are for the system's own processes and never belong to a user. */
export type Role = Exclude<TokenRole, 'service'>;

/** A user as every caller sees it: never with credentials. */
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export const toUser = ({ id, email, name, role }: User): User => ({ id, email, name, role });

/**
 * The field rules, shared by the HTTP DTOs and the in-process API (the seed), so a user made
 * either way meets the same invariants. Emails are lower-cased because people type them in
 * any case and expect to log in regardless; 254 is the longest address SMTP can carry.
 */
export const emailField = z.string().trim().toLowerCase().max(254).pipe(z.email());

// Counted in characters (code points), not UTF-16 units, so an emoji counts as one.
const length = (min: number, max: number) => (s: string) => {
  const n = [...s].length;
  return n >= min && n <= max;
};

/** Upper bound keeps a hash request from becoming a CPU sink; 8 is NIST 800-63B's minimum. */
export const passwordField = z.string().refine(length(8, 200), 'Must be 8 to 200 characters.');

export const nameField = z.string().trim().refine(length(1, 100), 'Must be 1 to 100 characters.');
