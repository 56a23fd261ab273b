import type { JSONWebKeySet } from 'jose';
import { createTokenVerifier, type TokenVerifier } from '@banyan/auth';
import type { CardProcessor } from '@banyan/card-processor';
import { serve, type Served } from '@banyan/http';
import { createLogger } from '@banyan/telemetry';
import { createTestDatabase, http, type TestDatabase } from '@banyan/testing';
import { envelopeFromRow } from '@banyan/outbox';
import type { EventEnvelope } from '@banyan/events';
import { buildPaymentsService } from '../src/app';

export const CALLER_TOKEN = 'monolith-payments-door-test-credential';

export interface PaymentsServiceHarness {
  db: TestDatabase;
  served: Served;
  api: ReturnType<typeof http>;
  service: ReturnType<typeof buildPaymentsService>;
  events(type?: string): Promise<EventEnvelope<any>[]>;
  /** Close the HTTP server (the process "dies" for its callers); the database stays. */
  kill(): Promise<void>;
  /** Serve again on the same port, as a restarted process would. */
  revive(): Promise<void>;
  close(): Promise<void>;
}

/** The test-card fake behind a switch and counters: the processor is the one third party. */
export { observedProcessor } from '@banyan/card-processor';

/** A real payments service for one test file: its own database, served over HTTP on a free port. */
export async function startPaymentsService(
  label: string,
  options: { verifier: TokenVerifier; cardProcessor?: CardProcessor; callerToken?: string },
): Promise<PaymentsServiceHarness> {
  const db = await createTestDatabase(label);
  const logger = createLogger('payments-service-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const service = buildPaymentsService(
    { knex: db.knex, logger, verifier: options.verifier },
    { cardProcessor: options.cardProcessor, callerToken: options.callerToken ?? CALLER_TOKEN },
  );
  await service.start();
  let served = await serve(service.app, 0);
  const port = served.port;
  let up = true;
  return {
    db,
    get served() {
      return served;
    },
    api: http(served.url),
    service,
    events: async (type) => {
      const rows = await db.knex('outbox.events').modify((q) => (type ? q.where({ type }) : q)).orderBy('position');
      return rows.map(envelopeFromRow);
    },
    async kill() {
      await served.close(0);
      up = false;
    },
    async revive() {
      served = await serve(service.app, port);
      up = true;
    },
    async close() {
      if (up) await served.close(0);
      await service.stop();
      await db.drop();
    },
  };
}

/** A verifier reading a users domain's key set over HTTP, resolved late (the monolith starts after the service). */
export function jwksVerifier(jwksUrl: () => string): TokenVerifier {
  return createTokenVerifier({ getKey: async () => (await (await fetch(jwksUrl())).json()) as JSONWebKeySet });
}
