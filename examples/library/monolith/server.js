'use strict';
const { readFileSync } = require('node:fs');
const path = require('node:path');
const express = require('express');
const { migrate } = require('@banyan/db');
const { inboxSchema } = require('@banyan/inbox');
const { startConsumers } = require('@banyan/messaging');
const { outboxSchema } = require('@banyan/outbox');
const { createRelay } = require('@banyan/relay');
const { createLogger } = require('@banyan/telemetry');
const { booksRouter } = require('./books');
const { connect, settings } = require('./db');
const { loansRouter } = require('./loans');
const { bookSync } = require('./sync');

function buildApp(db) {
  const app = express();
  app.use(express.json({ limit: '64kb' }));
  app.get('/healthz', (req, res) => res.json({ ok: true }));
  // Banyan's gateway asks /readyz before it switches traffic here (its preflight).
  app.get('/readyz', async (req, res) => {
    try {
      await db.raw('SELECT 1');
      res.json({ ready: true });
    } catch {
      res.status(503).json({ ready: false });
    }
  });
  app.use('/api/books', booksRouter(db));
  app.use('/api/loans', loansRouter(db));
  app.use((req, res) => res.status(404).type('application/problem+json').json({ type: 'about:blank', title: 'not found', status: 404, code: 'LIBRARY.NOT_FOUND' }));
  // A body that is not JSON is the client's mistake; anything else is ours, logged, never shown.
  app.use((err, req, res, _next) => {
    if (err.type === 'entity.parse.failed') return res.status(400).type('application/problem+json').json({ type: 'about:blank', title: 'the body is not JSON', status: 400, code: 'LIBRARY.MALFORMED' });
    console.error(err);
    res.status(500).type('application/problem+json').json({ type: 'about:blank', title: 'internal error', status: 500, code: 'LIBRARY.INTERNAL' });
  });
  return app;
}

async function main() {
  const database = process.env.LIBRARY_DATABASE || 'library';
  const db = connect(database);
  await db.raw(readFileSync(path.join(__dirname, 'schema.sql'), 'utf8'));

  // Banyan's part: the outbox the write paths fill, the relay that publishes it, and the consumer
  // that applies the books service's changes through the inbox (each event once).
  const logger = createLogger('library', process.env.LOG_LEVEL || 'info');
  const rabbit = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
  const namespace = process.env.BANYAN_MQ_NAMESPACE || '';
  await migrate(db, [outboxSchema, inboxSchema]);
  const relay = createRelay({ database: settings(database), url: rabbit, logger, namespace });
  await relay.start();
  const consumers = await startConsumers({ url: rabbit, knex: db, logger, namespace, subscriptions: [bookSync] });

  const port = Number(process.env.PORT || 4000);
  const server = buildApp(db).listen(port, process.env.HOST || '127.0.0.1', () => logger.info({ port }, 'library listening'));
  const stop = async () => {
    server.close();
    await Promise.allSettled([consumers.close(), relay.stop()]);
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { buildApp };
