/**
 * Architecture rules, run by `npm run lint` and asserted by monolith/test/architecture.test.ts.
 * A module is a folder with one public door: other modules may import its index.ts (its API and
 * event types) and nothing else.
 */
module.exports = {
  forbidden: [
    {
      name: 'module-internals-are-private',
      comment: 'Import another monolith module only through its index.ts (its public door).',
      severity: 'error',
      from: { path: '(^|/)monolith/src/modules/([^/]+)/' },
      to: {
        path: '(^|/)monolith/src/modules/([^/]+)/',
        pathNot: ['(^|/)monolith/src/modules/$2/', '(^|/)monolith/src/modules/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'migrations-only-through-the-door',
      comment:
        "A module's migrations (data/migrations*.ts) are history, imported only by its door (index.ts), which hands them to migrate(); " +
        "an extracted service's only by its composition root (app.ts). Code that needs a value a migration wrote out keeps its own (domain/).",
      severity: 'error',
      from: {
        path: '(^|/)(monolith/src/modules/[^/]+|extracted/[^/]+/src)/',
        pathNot: ['(^|/)monolith/src/modules/[^/]+/index\\.ts$', '(^|/)extracted/[^/]+/src/app\\.ts$'],
      },
      to: { path: '(^|/)(monolith/src/modules/[^/]+|extracted/[^/]+/src)/data/migrations[^/]*\\.ts$' },
    },
    {
      name: 'toolkit-stands-alone',
      comment: 'packages/ are the reusable toolkit: they never import the monolith, the gateway or a service.',
      severity: 'error',
      // Tests may start a real monolith to compare against; the rule is about shipped code.
      from: { path: '(^|/)packages/', pathNot: '/test/' },
      to: { path: '(^|/)(monolith|gateway|extracted)/' },
    },
    {
      name: 'services-do-not-reach-into-the-monolith',
      comment: 'An extracted service owns its code and data; it shares only toolkit packages and the contract.',
      severity: 'error',
      from: { path: '(^|/)extracted/', pathNot: '/test/' },
      to: { path: '(^|/)monolith/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.jest.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'default', 'types'], extensions: ['.ts', '.js'] },
  },
};
