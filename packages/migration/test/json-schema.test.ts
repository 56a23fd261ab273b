import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrationJsonSchema, migrationJsonSchemaText } from '@banyan/migration';

describe('The JSON Schema for editors', () => {
  it('When the zod schema changes, then the committed banyan.migration.schema.json is regenerated (npm run schema -w @banyan/migration)', () => {
    const committed = readFileSync(join(__dirname, '..', 'banyan.migration.schema.json'), 'utf8');

    expect(committed).toBe(migrationJsonSchemaText());
  });

  it('When an editor reads it, then defaults are optional, a table has no batch function, a projection no figures function, and the package exports the file', () => {
    const schema = migrationJsonSchema() as { required: string[]; $defs?: unknown; properties: { domains: { additionalProperties: { properties: Record<string, unknown> } } } };
    const domain = schema.properties.domains.additionalProperties;
    const table = JSON.stringify(domain.properties.data);
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));

    expect(schema.required).toEqual(['name', 'domains']);
    expect(Object.keys(domain.properties)).toEqual(['prefixes', 'service', 'stickyKey', 'compare', 'internal', 'routes', 'data', 'projection', 'parity']);
    expect(JSON.stringify(domain.properties.projection)).toContain('"sourceSchema"');
    expect(JSON.stringify(domain.properties.projection)).not.toContain('"figures"');
    expect(table).toContain('"aggregateType"');
    expect(table).not.toContain('"batch"');
    expect(manifest.exports['./banyan.migration.schema.json']).toBe('./banyan.migration.schema.json');
    expect(manifest.files).toContain('banyan.migration.schema.json');
  });
});
