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
      name: 'use-cases-reach-data-through-their-dependencies',
      comment:
        "Inside a module or a service, domain/ (the use cases) gets its tables through its dependencies (deps, context, " +
        'or a parameter), wired by the door (index.ts), the composition root (app.ts) or an adapter (http/, events/). ' +
        "It may import data/'s types (`import type`), never its values: the rows' shape and the SQL stay data/'s business.",
      severity: 'error',
      from: { path: '(^|/)(monolith/src/modules/[^/]+|extracted/[^/]+/src)/domain/' },
      to: { path: '(^|/)$2/data/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'toolkit-stands-alone',
      comment: 'packages/ are the reusable toolkit: they never import the monolith, the gateway, a service or an example (issue 11: the toolkit names no application).',
      severity: 'error',
      // Tests may start a real monolith to compare against; the rule is about shipped code.
      from: { path: '(^|/)packages/', pathNot: '/test/' },
      to: { path: '(^|/)(monolith|gateway|extracted|examples)/' },
    },
    {
      name: 'gateway-never-imports-the-cli',
      comment:
        'The gateway runs in production; the CLI is a developer tool. What both need is a package of its own ' +
        '(@banyan/sync, @banyan/outbox), so the gateway never depends on @banyan/cli (issue 11).',
      severity: 'error',
      from: { path: '(^|/)gateway/' },
      // By name as written (unresolved, or resolved through node_modules) and by path (a relative import).
      to: { path: ['^@banyan/cli($|/)', '(^|/)node_modules/@banyan/cli/', '(^|/)packages/cli/'] },
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
    // tsconfig.tests.json's paths map each @banyan/* name to its sources, as jest does, so an import by
    // package name is seen as the file it reaches; resolved through node_modules it would land in a
    // dist/ folder, which is excluded, and no rule would see it (gateway-never-imports-the-cli).
    tsConfig: { fileName: 'tsconfig.tests.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'default', 'types'], extensions: ['.ts', '.js'] },
  },
};
