// Prints every Banyan object as one multi-document YAML file: `npm run deploy:render` is not a
// script (package.json's scripts are shared), so run it as
//   npx node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON deploy/render.mjs > deploy/rendered/banyan.yaml
// and `kubectl apply -n banyan -f deploy/rendered/banyan.yaml` on a cluster (deploy/README.md).
// Node 24 runs deploy/banyan.ts as it is (erasable TypeScript); docs/test/deploy.test.ts checks
// that the committed file is exactly this output.
import { stringify } from 'yaml';
import { defaultValues, render } from './banyan.ts';

const values = process.argv[2] ? { ...defaultValues, ...JSON.parse(process.argv[2]) } : defaultValues;
const toYaml = (data) => stringify(data, { lineWidth: 0 });
process.stdout.write(
  '# Rendered by deploy/render.mjs from deploy/banyan.ts: edit those, not this file.\n' +
    render(values, toYaml).map((object) => toYaml(object)).join('---\n'),
);
