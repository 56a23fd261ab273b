import { databaseConnection } from '@banyan/config';
import { createKnex } from '@banyan/db';
import { onShutdown } from '@banyan/http';
import { runService } from '@banyan/service-kit';
import { defineUsersService, SERVICE_NAME, usersServiceOptions } from './app';
import { loadUsersServiceConfig } from './config';

void runService(SERVICE_NAME, () => loadUsersServiceConfig(), (parts, config) => {
  // Not created if missing, never migrated here: the key store is the monolith's users schema (ADR 0333).
  const keyStore = createKnex(databaseConnection(config, config.USERS_KEY_STORE_DATABASE ?? config.MONOLITH_DATABASE));
  onShutdown('key store pool', () => keyStore.destroy());
  return defineUsersService(parts, usersServiceOptions(config, keyStore));
});
