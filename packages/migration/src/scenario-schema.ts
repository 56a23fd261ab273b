import type { Scenario } from '@banyan/parity';
import { z } from 'zod';

/**
 * @banyan/parity's Scenario as a schema, so a declaration's scenarios are checked at start and
 * editors can complete them in JSON. The type stays parity's (the assertion at the bottom fails to
 * compile when the two drift apart); `domain` may be left out, since a scenario sits under its domain.
 */
const rules = z.strictObject({
  ignore: z.array(z.string()).optional(),
  unordered: z.array(z.string()).optional(),
  shape: z.array(z.string()).optional(),
  mask: z.array(z.strictObject({ pattern: z.string(), as: z.string() })).optional(),
  headers: z.array(z.string()).optional(),
});

const step = z.strictObject({
  name: z.string().min(1),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string().startsWith('/', 'must start with "/"'),
  body: z.unknown().optional(),
  raw: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  as: z.string().min(1).optional(),
  capture: z.record(z.string(), z.string()).optional(),
  expect: z
    .strictObject({
      status: z.int().min(100).max(599).optional(),
      equals: z.record(z.string(), z.unknown()).optional(),
      length: z.record(z.string(), z.int().min(0)).optional(),
      minLength: z.record(z.string(), z.int().min(0)).optional(),
    })
    .optional(),
  eventually: z.strictObject({ timeoutMs: z.int().positive(), intervalMs: z.int().positive().optional() }).optional(),
  rules: rules.optional(),
});

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  domain: z.string().optional(),
  customers: z.array(z.string().min(1)).optional(),
  steps: z.array(step).min(1, 'must have at least one step'),
  rules: rules.optional(),
});

type Parsed = z.output<typeof scenarioSchema>;
// Both directions, with `domain` filled in: a parity Scenario is a valid declaration scenario, and
// a parsed one (given its domain) is a parity Scenario.
const _fromParity = (s: Scenario): z.input<typeof scenarioSchema> => s;
const _toParity = (s: Parsed & { domain: string }): Scenario => s;
void _fromParity;
void _toParity;
