import type { Migration } from '@banyan/db';
import { routes } from './0001_routes';
import { instances } from './0002_instances';
import { keys } from './0003_keys';
import { ruleRows } from './0004_rule_rows';
import { ramps } from './0005_ramps';
import { rampCounters } from './0006_ramp_counters';

/**
 * The gateway schema's history, one file per migration, in the order they run. A migration is
 * history: each writes out what it needs as it was when it ran (0001 names the modes and the
 * NOTIFY channel as literals) and reads no live constant, so a fresh database gets exactly the
 * schema every existing one has. A change is a new file at the end of this list. Their SQL is
 * kept byte for byte as it ran, indentation included (a function's body is stored as written).
 */
export const migrations: Migration[] = [routes, instances, keys, ruleRows, ramps, rampCounters];
