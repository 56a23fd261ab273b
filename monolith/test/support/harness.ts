import { randomUUID } from 'node:crypto';
import { processOnce } from '@banyan/inbox';
import type { RoutingView } from '@banyan/routing-client';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, http, startSmtpServer, type SmtpCapture, type TestDatabase } from '@banyan/testing';
import { serve, type Served } from '@banyan/http';
import type { EventEnvelope } from '@banyan/events';
import { envelopeFromRow } from '@banyan/outbox';
import type { CardProcessor } from '../../src/modules/payments';
import { buildMonolith, type Monolith } from '../../src/app';
import { monolithConfigSchema, type MonolithConfig } from '../../src/config';

export interface MonolithHarness {
  db: TestDatabase;
  /** The configuration it was built with, for a second instance on the same database. */
  config: MonolithConfig;
  monolith: Monolith;
  served: Served;
  smtp: SmtpCapture;
  api: ReturnType<typeof http>;
  /** Events the outbox holds, oldest first (optionally of one type). */
  events(type?: string): Promise<EventEnvelope<any>[]>;
  /**
   * Deliver every outbox event not yet delivered to the monolith's own subscriptions, through
   * the inbox, the way the RabbitMQ consumer does (for tests of a module's handlers without the broker).
   */
  deliverEvents(): Promise<number>;
  /** Register a user and log in; returns the token and user. */
  signUp(overrides?: Partial<{ email: string; password: string; name: string }>): Promise<{ token: string; user: any; password: string }>;
  /** Log in as the seeded-by-test admin. */
  admin(): Promise<{ token: string; user: any }>;
  close(): Promise<void>;
}

/**
 * A real monolith for one test file: its own database, a real SMTP server, served over real
 * HTTP on a free port. Nothing is mocked but the card processor (a third party).
 */
export async function startMonolith(
  label: string,
  options: { cardProcessor?: CardProcessor; routing?: RoutingView; env?: Record<string, string> } = {},
): Promise<MonolithHarness> {
  const db = await createTestDatabase(label);
  const smtp = await startSmtpServer();
  const config = monolithConfigSchema.parse({
    ...process.env,
    MONOLITH_DATABASE: db.settings.database,
    SMTP_HOST: smtp.host,
    SMTP_PORT: String(smtp.port),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Every client of a test file is one address (loopback), and tests fail logins on purpose:
    // the login and registration throttle stays out of reach unless a test sets its own limits.
    USERS_LOGIN_FAILURES_PER_ACCOUNT: '1000000',
    USERS_LOGIN_ATTEMPTS_PER_ADDRESS: '1000000',
    USERS_REGISTRATIONS_PER_ADDRESS: '1000000',
    ...options.env,
  });
  const logger = createLogger('monolith-test', config.LOG_LEVEL);
  const monolith = buildMonolith({ config, knex: db.knex, logger, cardProcessor: options.cardProcessor, routing: options.routing });
  await monolith.start();
  const served = await serve(monolith.app, 0);
  const api = http(served.url);
  const delivered = new Set<string>();
  let adminLogin: { token: string; user: any } | undefined;

  const events = async (type?: string) => {
    const rows = await db.knex('outbox.events').modify((q) => (type ? q.where({ type }) : q)).orderBy('position');
    return rows.map(envelopeFromRow);
  };

  return {
    db,
    config,
    monolith,
    served,
    smtp,
    api,
    events,
    async deliverEvents() {
      let count = 0;
      for (const event of await events()) {
        if (delivered.has(event.id)) continue;
        delivered.add(event.id);
        for (const sub of monolith.subscriptions.filter((s) => s.eventType === event.type)) {
          await processOnce(db.knex, sub.consumer, event, sub.handle);
          count++;
        }
      }
      return count;
    },
    async signUp(overrides = {}) {
      const password = overrides.password ?? 'correct horse battery staple';
      const email = overrides.email ?? `user-${randomUUID()}@example.com`;
      const created = await api.post('/api/users', { email, password, name: overrides.name ?? 'Test User' });
      if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${created.text}`);
      const login = await api.post('/api/users/login', { email, password });
      if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
      return { token: login.body.token, user: login.body.user, password };
    },
    async admin() {
      if (adminLogin) return adminLogin;
      const password = 'admin password for tests';
      await monolith.modules.users.api.ensureUser({ email: 'admin@banyan.local', password, name: 'Admin', role: 'admin' });
      const login = await api.post('/api/users/login', { email: 'admin@banyan.local', password });
      if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${login.text}`);
      adminLogin = { token: login.body.token, user: login.body.user };
      return adminLogin;
    },
    async close() {
      await served.close(1000);
      await monolith.stop();
      await smtp.close();
      await db.drop();
    },
  };
}
