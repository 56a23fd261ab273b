'use strict';
const knex = require('knex');

/** Plain knex on the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD). */
function settings(database) {
  return {
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 5432),
    user: process.env.PGUSER || 'postgres',
    password: process.env.PGPASSWORD,
    database,
  };
}

const connect = (database) => knex({ client: 'pg', connection: settings(database), pool: { min: 0, max: 10 } });

module.exports = { connect, settings };
