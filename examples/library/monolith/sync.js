'use strict';
const { continueSequences } = require('@banyan/outbox');

/**
 * Added when Banyan was adopted: the books service's changes, applied to the monolith's books
 * table while both sides take writes (the switch and back). Only the service's own events are
 * applied (ours come back on the same exchange); a copy is written only over an older one, and on
 * a tie the service's wins, as the service decides too, so both sides keep the same row.
 */
const bookSync = {
  consumer: 'library',
  eventType: 'book.saved',
  exchange: 'books',
  async handle(event, trx) {
    if (event.origin !== 'books-service') return;
    const { id, isbn, title, author, copies } = event.data;
    await trx.raw(
      `INSERT INTO books (id, isbn, title, author, copies, version) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET isbn = EXCLUDED.isbn, title = EXCLUDED.title, author = EXCLUDED.author,
         copies = EXCLUDED.copies, version = EXCLUDED.version
       WHERE books.version <= EXCLUDED.version`,
      [id, isbn, title, author, copies, event.sequence],
    );
    // After the row (one lock order with the write path): our next own write numbers past theirs.
    await continueSequences(trx, [{ aggregateType: 'books', aggregateId: id, sequence: event.sequence }]);
  },
};

module.exports = { bookSync };
