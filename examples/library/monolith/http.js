'use strict';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 9457 problem details with the library's own stable codes. */
function problem(res, status, code, detail) {
  res.status(status).type('application/problem+json').json({ type: 'about:blank', title: detail, status, code });
}

/** Why `body` is not a book (or its changes, when `partial`), or undefined when it is one. */
function bookProblem(body, partial) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON object';
  for (const field of ['isbn', 'title', 'author']) {
    if (body[field] === undefined && partial) continue;
    if (typeof body[field] !== 'string' || body[field].trim() === '' || body[field].length > 200) return `${field} must be a text of 1 to 200 characters`;
  }
  if (body.copies === undefined && partial) return undefined;
  if (!Number.isInteger(body.copies) || body.copies < 0 || body.copies > 10000) return 'copies must be a whole number from 0 to 10000';
  return undefined;
}

module.exports = { UUID, problem, bookProblem };
