/**
 * One error type for everything a request can get wrong. `code` is stable (clients and
 * docs/errors.md rely on it); `message` is for humans and may change.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra members for the problem document, e.g. validation `errors` or `retryAfter`. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** RFC 9457 problem document, with Banyan's stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function toProblem(error: AppError, instance?: string): Problem {
  return {
    type: `https://banyan.dev/errors/${error.code}`,
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    code: error.code,
    detail: error.message,
    ...(instance ? { instance } : {}),
    ...error.details,
  };
}

/** Shorthands for the codes every domain shares. Domain codes live next to their domain. */
export const Errors = {
  validation: (errors: Array<{ path: string; message: string }>) =>
    new AppError('VALIDATION.FAILED', 400, 'The request is not valid: see `errors`.', { errors }),
  malformedJson: () => new AppError('HTTP.MALFORMED_JSON', 400, 'The request body is not valid JSON.'),
  payloadTooLarge: (limit: string) =>
    new AppError('HTTP.PAYLOAD_TOO_LARGE', 413, `The request body is larger than ${limit}.`),
  unsupportedMediaType: () =>
    new AppError('HTTP.UNSUPPORTED_MEDIA_TYPE', 415, 'Send the body as application/json.'),
  routeNotFound: (method: string, path: string) =>
    new AppError('HTTP.NOT_FOUND', 404, `No route for ${method} ${path}.`),
  unauthorized: (why = 'A valid bearer token is required.') => new AppError('AUTH.UNAUTHORIZED', 401, why),
  forbidden: (why = 'You are not allowed to do this.') => new AppError('AUTH.FORBIDDEN', 403, why),
  internal: () => new AppError('INTERNAL', 500, 'Something went wrong on our side; it has been logged.'),
  unavailable: (why: string, retryAfterSeconds?: number) =>
    new AppError('SERVICE.UNAVAILABLE', 503, why, retryAfterSeconds ? { retryAfter: retryAfterSeconds } : {}),
};
