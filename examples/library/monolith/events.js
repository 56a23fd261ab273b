'use strict';
const { createOutbox } = require('@banyan/outbox');

// Added when Banyan was adopted. Every write to a book also writes a book.saved event in the same
// transaction; the relay publishes it and the books service applies it, so the service's copy
// stays current while the monolith still answers. The event's sequence becomes the row's version.
const outbox = createOutbox({ source: '/library', origin: 'library' });

const snapshot = (book) => ({ id: book.id, isbn: book.isbn, title: book.title, author: book.author, copies: book.copies });

async function bookSaved(trx, book) {
  // `aggregateType` names the exchange too: book.* is not one of Banyan's own event types.
  const event = await outbox.add(trx, { type: 'book.saved', aggregateType: 'books', subject: book.id, data: snapshot(book) });
  await trx('books').where({ id: book.id }).update({ version: event.sequence });
}

module.exports = { bookSaved, snapshot };
