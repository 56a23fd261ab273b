import type { z } from 'zod';

/** One thing wrong with a declaration: where (`domains.products.prefixes[0]`) and why. */
export interface DeclarationProblem {
  path: string;
  reason: string;
}

/**
 * A declaration that cannot be used: not found, not loadable, or not valid. The message has one
 * line per problem, `<file>: <path>: <reason>`, so a tool prints it as it is and stops at start.
 */
export class MigrationDeclarationError extends Error {
  constructor(
    /** The declaration as the user would name it (relative to the working directory), if one was found. */
    readonly file: string | undefined,
    readonly problems: DeclarationProblem[],
  ) {
    super(problems.map((p) => [file, p.path, p.reason].filter(Boolean).join(': ')).join('\n'));
    this.name = 'MigrationDeclarationError';
  }
}

/** `['domains', 'products', 'prefixes', 0]` → `domains.products.prefixes[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Plainer words than zod's defaults for the mistakes a hand-written file makes. */
export const errorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'is required';
    const got = issue.input === null ? 'null' : Array.isArray(issue.input) ? 'an array' : typeof issue.input;
    return `must be ${issue.expected === 'array' || issue.expected === 'object' ? `an ${issue.expected}` : `a ${issue.expected}`}, not ${got}`;
  }
  return undefined;
};

/** zod's issues as problems: one per unknown field, and a union's issues from the branch the value was shaped like. */
export function problemsOf(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): DeclarationProblem[] {
  return issues.flatMap((issue): DeclarationProblem[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: formatPath([...path, key]), reason: 'unknown field' }));
    if (issue.code === 'invalid_key') {
      const key = String(path[path.length - 1]);
      return [{ path: formatPath(path), reason: `"${key}" ${issue.issues.map((i) => i.message).join('; ')}` }];
    }
    if (issue.code === 'invalid_union') {
      // Branches that got past the value's outer shape (their issues sit deeper) say what is
      // really wrong: `{ header: "bad name" }` is a header name problem, not "not a union member".
      const shaped = issue.errors.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0 && i.code !== 'unrecognized_keys'));
      if (shaped.length === 1) return problemsOf(shaped[0], path);
    }
    return [{ path: formatPath(path), reason: issue.message }];
  });
}
