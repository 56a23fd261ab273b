import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, Errors, isAppError, toProblem } from '@banyan/errors';

export function sendProblem(res: Response, error: AppError, instance?: string): void {
  const problem = toProblem(error, instance);
  if (typeof error.details.retryAfter === 'number') res.setHeader('Retry-After', String(error.details.retryAfter));
  res.status(error.status).type('application/problem+json').send(JSON.stringify(problem));
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(Errors.routeNotFound(req.method, req.path));
};

/** body-parser's errors carry a `type`; map them to the contract's codes. */
function fromParserError(err: { type?: string; status?: number; limit?: number }): AppError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return Errors.malformedJson();
    case 'entity.too.large':
      return Errors.payloadTooLarge('1 MiB');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return Errors.unsupportedMediaType();
    default:
      return undefined;
  }
}

/**
 * The one place a request error becomes a response. AppErrors keep their code; anything else is
 * a bug: logged with its stack, answered with a generic 500 that leaks nothing.
 */
export const problemHandler: ErrorRequestHandler = (err, req, res, _next) => {
  let error: AppError;
  if (isAppError(err)) {
    error = err;
  } else {
    error = fromParserError(err) ?? Errors.internal();
    if (error.status >= 500) req.log?.error({ err }, 'unhandled error');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendProblem(res, error, req.originalUrl);
};
