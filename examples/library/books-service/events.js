'use strict';
const { createOutbox } = require('@banyan/outbox');

// Every write to a book also writes a book.saved event in the same transaction; the relay publishes
// it and the monolith applies it, so the monolith's copy stays current while the service answers
// and a switch back loses nothing. The event's sequence becomes the row's version.
const outbox = createOutbox({ source: '/books', origin: 'books-service' });

const snapshot = (book) => ({ id: book.id, isbn: book.isbn, title: book.title, author: book.author, copies: book.copies });

async function bookSaved(trx, book) {
  // `aggregateType` names the exchange too: book.* is not one of Banyan's own event types.
  const event = await outbox.add(trx, { type: 'book.saved', aggregateType: 'books', subject: book.id, data: snapshot(book) });
  await trx('books').where({ id: book.id }).update({ version: event.sequence });
}

module.exports = { bookSaved, snapshot };
