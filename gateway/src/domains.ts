import type { CompareRules as DeclaredCompareRules } from '@banyan/migration';

/**
 * A domain's name as the migration's declaration gives it (topology.ts): the gateway knows no
 * domain of its own. A name that comes from outside (the admin API, the dashboard) is checked
 * against the declaration with `topology.has` before it is used.
 */
export type Domain = string;

export type Side = 'monolith' | 'extracted';
/** The side a domain's traffic does not go to: where a switch comes from, or a reader's writer. */
export const otherSide = (side: Side): Side => (side === 'monolith' ? 'extracted' : 'monolith');
export const MODES = ['monolith', 'extracted', 'canary', 'shadow'] as const;
export type Mode = (typeof MODES)[number];

/**
 * How shadow responses of a domain are compared (the declaration's `compare`): `ignore`, fields
 * whose values legitimately differ between the two sides; `unordered`, arrays whose order carries
 * no meaning, compared as multisets. Paths are JSON pointers in which `*` stands for any key or
 * array index. Everything else must match exactly: widen these only for a documented reason, or
 * the comparison stops proving anything.
 */
export type CompareRules = DeclaredCompareRules;
