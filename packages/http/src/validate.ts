import type { z } from 'zod';
import { Errors } from '@banyan/errors';

export type Parsed<S extends z.ZodType> = z.infer<S>;

/** Validate untrusted input; on failure, a 400 `VALIDATION.FAILED` listing every problem by path. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw Errors.validation(
    result.error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message })),
  );
}
