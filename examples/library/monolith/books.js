'use strict';
const { randomUUID } = require('node:crypto');
const express = require('express');
const { bookSaved, snapshot } = require('./events');
const { UUID, problem, bookProblem } = require('./http');

function booksRouter(db) {
  const router = express.Router();

  router.get('/', async (req, res) => {
    const books = await db('books').orderBy([{ column: 'title' }, { column: 'id' }]).limit(1000);
    res.json({ items: books.map(snapshot) });
  });

  router.get('/:id', async (req, res) => {
    const book = UUID.test(req.params.id) ? await db('books').where({ id: req.params.id }).first() : undefined;
    if (!book) return problem(res, 404, 'LIBRARY.BOOK_NOT_FOUND', 'no such book');
    res.json(snapshot(book));
  });

  router.post('/', async (req, res) => {
    const invalid = bookProblem(req.body, false);
    if (invalid) return problem(res, 400, 'LIBRARY.INVALID_BOOK', invalid);
    const { isbn, title, author, copies } = req.body;
    const book = await db.transaction(async (trx) => {
      const [row] = await trx('books').insert({ id: randomUUID(), isbn, title, author, copies }).returning('*');
      await bookSaved(trx, row);
      return row;
    });
    res.status(201).location(`/api/books/${book.id}`).json(snapshot(book));
  });

  router.patch('/:id', async (req, res) => {
    const invalid = bookProblem(req.body, true);
    if (invalid) return problem(res, 400, 'LIBRARY.INVALID_BOOK', invalid);
    if (!UUID.test(req.params.id)) return problem(res, 404, 'LIBRARY.BOOK_NOT_FOUND', 'no such book');
    const changes = Object.fromEntries(['isbn', 'title', 'author', 'copies'].filter((f) => req.body[f] !== undefined).map((f) => [f, req.body[f]]));
    if (Object.keys(changes).length === 0) return problem(res, 400, 'LIBRARY.INVALID_BOOK', 'nothing to change');
    const book = await db.transaction(async (trx) => {
      const [row] = await trx('books').where({ id: req.params.id }).update(changes).returning('*');
      if (row) await bookSaved(trx, row);
      return row;
    });
    if (!book) return problem(res, 404, 'LIBRARY.BOOK_NOT_FOUND', 'no such book');
    res.json(snapshot(book));
  });

  return router;
}

module.exports = { booksRouter };
