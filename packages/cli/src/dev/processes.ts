import { existsSync } from 'node:fs';
import path from 'node:path';

export interface ProcessSpec {
  name: string;
  /** The compiled entry, relative to the repository root. */
  entry: string;
  /** Where it answers /healthz once up, and what to print for people. */
  url?: string;
  readyUrl?: string;
  env?: Record<string, string>;
}

const port = (env: NodeJS.ProcessEnv, name: string, fallback: number) => Number(env[name] ?? fallback);

/**
 * Every process this repository runs, in start order. A process whose entry has not been built
 * (its workspace does not exist yet) is skipped, so the table can list what the repo grows into.
 */
export function processTable(root: string, env: NodeJS.ProcessEnv): ProcessSpec[] {
  const monolithPort = port(env, 'PORT', 3000);
  const gatewayPort = port(env, 'GATEWAY_PORT', 8080);
  const adminPort = port(env, 'GATEWAY_ADMIN_PORT', 8081);
  const services = ['users', 'products', 'orders', 'payments', 'notifications', 'analytics'];
  const table: ProcessSpec[] = [
    {
      name: 'monolith',
      entry: 'monolith/dist/main.js',
      url: `http://127.0.0.1:${monolithPort}`,
      readyUrl: `http://127.0.0.1:${monolithPort}/readyz`,
      env: { PORT: String(monolithPort) },
    },
    { name: 'relay', entry: 'packages/relay/dist/main.js' },
    ...services.map((domain, i) => {
      const servicePort = 3101 + i;
      return {
        name: `${domain}-svc`,
        entry: `extracted/${domain}-service/dist/main.js`,
        url: `http://127.0.0.1:${servicePort}`,
        readyUrl: `http://127.0.0.1:${servicePort}/readyz`,
      };
    }),
    {
      name: 'gateway',
      entry: 'gateway/dist/main.js',
      url: `http://127.0.0.1:${gatewayPort}`,
      readyUrl: `http://127.0.0.1:${adminPort}/readyz`,
    },
  ];
  return table.filter((p) => existsSync(path.join(root, p.entry)));
}
