// Regenerates banyan.migration.schema.json from the compiled zod schema:
// `npm run schema -w @banyan/migration`. test/json-schema.test.ts fails while the file is stale.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { migrationJsonSchemaText } = require('../dist/json-schema');

writeFileSync(join(__dirname, '..', 'banyan.migration.schema.json'), migrationJsonSchemaText());
