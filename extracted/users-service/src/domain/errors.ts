import { AppError } from '@banyan/errors';

/** The users domain's stable codes (docs/errors.md lists them). */
export const UsersErrors = {
  emailTaken: () => new AppError('USERS.EMAIL_TAKEN', 409, 'An account with this email already exists.'),
  // One message for an unknown email and a wrong password, so the answer does not say which.
  invalidCredentials: () => new AppError('USERS.INVALID_CREDENTIALS', 401, 'The email or password is wrong.'),
  notFound: () => new AppError('USERS.NOT_FOUND', 404, 'No such user.'),
  // One answer for every limit and every email, known or not: it says nothing about which accounts exist.
  tooManyAttempts: (retryAfterSeconds: number) =>
    new AppError('USERS.TOO_MANY_ATTEMPTS', 429, 'Too many attempts: wait and try again.', { retryAfter: retryAfterSeconds }),
};
