import { AppError, Errors, isAppError, toProblem } from '@banyan/errors';

describe('AppError and toProblem: one error type, one problem document', () => {
  test('When an AppError is made, then it is an Error carrying its stable code, status, message and extras', () => {
    const error = new AppError('ORDERS.NOT_FOUND', 404, 'No order 42.', { orderId: '42' });

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AppError');
    expect([error.code, error.status, error.message, error.details]).toEqual(['ORDERS.NOT_FOUND', 404, 'No order 42.', { orderId: '42' }]);
    expect(new AppError('X', 400, 'x').details).toEqual({});
  });

  test('When something only looks like an AppError, then isAppError says no', () => {
    expect(isAppError(new AppError('X', 400, 'x'))).toBe(true);
    expect(isAppError(new Error('x'))).toBe(false);
    expect(isAppError({ code: 'X', status: 400, message: 'x', details: {} })).toBe(false);
    expect(isAppError(undefined)).toBe(false);
  });

  test('When an AppError becomes a problem, then it is RFC 9457 with the code, its type URL, the status title, the message as detail and the extras as members', () => {
    const problem = toProblem(new AppError('USERS.TOO_MANY_ATTEMPTS', 429, 'Slow down.', { retryAfter: 30 }), '/api/users/login');

    expect(problem).toEqual({
      type: 'https://banyan.dev/errors/USERS.TOO_MANY_ATTEMPTS',
      title: 'Too Many Requests',
      status: 429,
      code: 'USERS.TOO_MANY_ATTEMPTS',
      detail: 'Slow down.',
      instance: '/api/users/login',
      retryAfter: 30,
    });
  });

  test('When there is no instance or the status has no title of its own, then instance is left out and the title is Error', () => {
    const problem = toProblem(new AppError('TEAPOT', 418, 'I am one.'));

    expect(problem).not.toHaveProperty('instance');
    expect(problem.title).toBe('Error');
    expect(problem.status).toBe(418);
  });

  test('When the shared shorthands are used, then each gives its documented code and status', () => {
    const made = [
      Errors.validation([{ path: 'email', message: 'Required' }]),
      Errors.malformedJson(),
      Errors.payloadTooLarge('1 MiB'),
      Errors.unsupportedMediaType(),
      Errors.routeNotFound('GET', '/nowhere'),
      Errors.unauthorized(),
      Errors.forbidden(),
      Errors.internal(),
      Errors.unavailable('payments is down'),
    ].map((e) => [e.code, e.status]);

    expect(made).toEqual([
      ['VALIDATION.FAILED', 400],
      ['HTTP.MALFORMED_JSON', 400],
      ['HTTP.PAYLOAD_TOO_LARGE', 413],
      ['HTTP.UNSUPPORTED_MEDIA_TYPE', 415],
      ['HTTP.NOT_FOUND', 404],
      ['AUTH.UNAUTHORIZED', 401],
      ['AUTH.FORBIDDEN', 403],
      ['INTERNAL', 500],
      ['SERVICE.UNAVAILABLE', 503],
    ]);
  });

  test('When a shorthand takes details, then they reach the problem: validation lists its errors, unavailable its retryAfter only when given', () => {
    expect(toProblem(Errors.validation([{ path: 'email', message: 'Required' }])).errors).toEqual([{ path: 'email', message: 'Required' }]);
    expect(toProblem(Errors.unavailable('down', 7)).retryAfter).toBe(7);
    expect(toProblem(Errors.unavailable('down'))).not.toHaveProperty('retryAfter');
    expect(Errors.routeNotFound('DELETE', '/x').message).toBe('No route for DELETE /x.');
    expect(Errors.forbidden('Admins only.').message).toBe('Admins only.');
  });
});
