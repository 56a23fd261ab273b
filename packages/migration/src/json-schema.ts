import { z } from 'zod';
import { migrationSchema } from './schema';

/**
 * The declaration's JSON Schema, for editors (`"$schema": "./node_modules/@banyan/migration/banyan.migration.schema.json"`).
 * It describes what a file may hold, so defaults are optional. A data spec's `batch` function and a
 * projection's `figures` have no JSON form and are left out; cross-field rules (prefixes that overlap) are checked only by the loader.
 */
export function migrationJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(migrationSchema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      if (jsonSchema.properties && 'batch' in jsonSchema.properties) delete jsonSchema.properties.batch;
      if (jsonSchema.properties && 'figures' in jsonSchema.properties) delete jsonSchema.properties.figures;
    },
  });
  return { ...schema, title: 'Banyan migration declaration', description: 'banyan.migration.json: the domains of a strangler-fig migration. See @banyan/migration\'s README.' };
}

/** The committed file's exact text (scripts/write-schema.js writes it, a test compares it). */
export const migrationJsonSchemaText = () => `${JSON.stringify(migrationJsonSchema(), null, 2)}\n`;
