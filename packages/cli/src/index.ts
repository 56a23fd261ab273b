/**
 * @banyan/cli is a command, `banyan` (bin.ts), not a library: nothing is exported. What a project
 * knows about its own migration (domains, data specs, parity scenarios) is in its declaration,
 * banyan.migration.ts, which every command reads through @banyan/migration.
 */
export {};
