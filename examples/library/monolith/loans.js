'use strict';
const { randomUUID } = require('node:crypto');
const express = require('express');
const { UUID, problem } = require('./http');

const present = (loan) => ({ id: loan.id, bookId: loan.book_id, member: loan.member, returned: loan.returned_on !== null });

/** Loans stay in the monolith: they read the books table, which the two-way sync keeps whole. */
function loansRouter(db) {
  const router = express.Router();

  router.post('/', async (req, res) => {
    const { bookId, member } = req.body ?? {};
    if (typeof member !== 'string' || member.trim() === '' || member.length > 200) return problem(res, 400, 'LIBRARY.INVALID_LOAN', 'member must be a text of 1 to 200 characters');
    const book = typeof bookId === 'string' && UUID.test(bookId) ? await db('books').where({ id: bookId }).first() : undefined;
    if (!book) return problem(res, 404, 'LIBRARY.BOOK_NOT_FOUND', 'no such book');
    const [loan] = await db('loans').insert({ id: randomUUID(), book_id: bookId, member }).returning('*');
    res.status(201).location(`/api/loans/${loan.id}`).json(present(loan));
  });

  router.get('/:id', async (req, res) => {
    const loan = UUID.test(req.params.id) ? await db('loans').where({ id: req.params.id }).first() : undefined;
    if (!loan) return problem(res, 404, 'LIBRARY.LOAN_NOT_FOUND', 'no such loan');
    res.json(present(loan));
  });

  return router;
}

module.exports = { loansRouter };
