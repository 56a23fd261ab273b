// Validates rendered objects (multi-document YAML on stdin) against the Kubernetes API's OpenAPI
// schemas (kubernetes-models) and CloudNativePG's CRD schemas (@kubernetes-models/cloudnative-pg).
// Prints one JSON line: per object its kind, name and either null (valid), the schema's errors,
// or "no model" (RabbitmqCluster: its operator publishes no npm model; the test checks it with zod).
//   npx node deploy/validate.mjs < deploy/rendered/banyan.yaml
// Plain ESM run by Node, not by jest: these packages ship ES modules only, which jest's CommonJS
// runtime cannot load without remapping each of them in jest.config.js.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const MODULES = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'postgresql.cnpg.io/v1': '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1',
};

const objects = parseAllDocuments(readFileSync(0, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const results = [];
for (const object of objects) {
  const name = object.metadata?.name;
  const module = MODULES[object.apiVersion];
  const Model = module && (await import(module))[object.kind];
  if (!Model) {
    results.push({ kind: object.kind, name, errors: 'no model' });
    continue;
  }
  try {
    new Model(object).validate();
    results.push({ kind: object.kind, name, errors: null });
  } catch (err) {
    results.push({ kind: object.kind, name, errors: String(err.message ?? err) });
  }
}
console.log(JSON.stringify(results));
