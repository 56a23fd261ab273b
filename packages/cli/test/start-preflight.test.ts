import { spawnSync } from 'node:child_process';
import path from 'node:path';

// The compiled CLI, as `npm start` runs it (`npm test` builds with `tsc -b` first).
const bin = path.resolve(__dirname, '../dist/bin.js');

function start(env: Record<string, string>) {
  return spawnSync(process.execPath, [bin, 'start'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
}

describe('npm start on a machine missing a dependency', () => {
  test('When PostgreSQL is unreachable, then it exits non-zero with one line naming what it tried and how to start it', () => {
    const run = start({ PGHOST: '127.0.0.1', PGPORT: '1' });

    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'banyan start: PostgreSQL is not reachable at 127.0.0.1:1; start it with: docker compose up -d postgres rabbitmq',
    ]);
  });

  test('When RabbitMQ is unreachable, then it exits non-zero with one line naming what it tried and how to start it', () => {
    const run = start({ RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:1' });

    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'banyan start: RabbitMQ is not reachable at 127.0.0.1:1; start it with: docker compose up -d postgres rabbitmq',
    ]);
  });
});
