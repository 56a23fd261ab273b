'use strict';
const { continueSequences } = require('@banyan/outbox');

/**
 * The monolith's changes, applied here while both sides take writes (before the switch, and after
 * a switch back). Only the monolith's own events; a copy only over an older one; on a tie this
 * side's write stands, as the monolith decides too (it lets ours win).
 */
const bookSync = {
  consumer: 'books-service',
  eventType: 'book.saved',
  exchange: 'books',
  async handle(event, trx) {
    if (event.origin !== 'library') return;
    const { id, isbn, title, author, copies } = event.data;
    await trx.raw(
      `INSERT INTO books (id, isbn, title, author, copies, version) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET isbn = EXCLUDED.isbn, title = EXCLUDED.title, author = EXCLUDED.author,
         copies = EXCLUDED.copies, version = EXCLUDED.version
       WHERE books.version < EXCLUDED.version`,
      [id, isbn, title, author, copies, event.sequence],
    );
    await continueSequences(trx, [{ aggregateType: 'books', aggregateId: id, sequence: event.sequence }]);
  },
};

module.exports = { bookSync };
