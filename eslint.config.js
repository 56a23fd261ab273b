// Lint: typescript-eslint's recommended rules on every workspace's sources and tests.
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  // The example applications are plain CommonJS JavaScript on purpose (examples/library: a
  // monolith not written with Banyan's kit), so their .js is linted, unlike the repository's own.
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '**/*.js', '**/*.cjs', '**/*.mjs', '!examples/**/*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-namespace': 'off',
    },
  },
  {
    files: ['examples/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // One way to call another process: @banyan/http-client (jsonPoster behind createBreaker), so
    // every call gets the same timeout, error mapping and breaker. Scoped to the shop's processes:
    // the toolkit's operator tools (the CLI, parity's runner, routing-client's poll of the admin
    // API) talk to the system from outside and keep their own small fetch.
    files: ['monolith/src/**/*.ts', 'gateway/src/**/*.ts', 'extracted/*/src/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'fetch', message: 'Call another process through @banyan/http-client (jsonPoster + createBreaker), not a hand-made fetch.' }],
    },
  },
);
