import type { ParityAuth, Target } from './scenario';

/** The gateway's tester override (gateway/src/override.ts): which side, and the proof of being allowed to choose. */
export const ROUTE_HEADER = 'x-banyan-route';
export const TOKEN_HEADER = 'x-banyan-token';

export interface GatewaySideOptions {
  gatewayUrl: string;
  side: 'monolith' | 'extracted';
  /** The domain under test, as the gateway's routing table names it. */
  domain: string;
  /**
   * The path prefixes the domain owns (its declaration's `prefixes`): only requests under them are
   * forced; the rest (a scenario's setup in other domains) follow the routing table.
   */
  prefixes: string[];
  /** The gateway's BANYAN_ADMIN_TOKEN, sent in x-banyan-token so any caller's request can be forced. */
  gatewayToken: string;
  /** How actors log in and customers register (the migration's parity.auth). */
  auth?: ParityAuth;
  adminToken?: string;
  adminCredentials?: { email: string; password: string };
  timeoutMs?: number;
}

/**
 * One side of the domain, reached through the gateway. The gateway ignores an override it does
 * not trust instead of refusing it, so every response is checked for the side that served it:
 * otherwise a wrong token would compare the monolith with itself and report "no differences".
 */
export function gatewaySide(options: GatewaySideOptions): Target {
  // Whole segments, as the gateway matches them: a prefix covers itself and what lies below it.
  const forced = (path: string) => options.prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`));
  return {
    name: `${options.gatewayUrl} (${options.domain} → ${options.side})`,
    baseUrl: options.gatewayUrl,
    auth: options.auth,
    adminToken: options.adminToken,
    adminCredentials: options.adminCredentials,
    timeoutMs: options.timeoutMs,
    headersFor: (path): Record<string, string> => (forced(path) ? { [ROUTE_HEADER]: options.side, [TOKEN_HEADER]: options.gatewayToken } : {}),
    checkResponse: (path, headers) => {
      if (!forced(path)) return undefined;
      const served = headers[ROUTE_HEADER];
      const [side, ...flags] = (served ?? '').split(';').map((s) => s.trim());
      if (side === options.side && flags.includes('override')) return undefined;
      return `the gateway did not serve ${path} from the ${options.side} side as asked (${ROUTE_HEADER}: ${served ?? 'absent'}); check BANYAN_ADMIN_TOKEN`;
    },
  };
}
