import type { Target } from './scenario';

/** The gateway's tester override (gateway/src/override.ts): which side, and the proof of being allowed to choose. */
export const ROUTE_HEADER = 'x-banyan-route';
export const TOKEN_HEADER = 'x-banyan-token';

export interface GatewaySideOptions {
  gatewayUrl: string;
  side: 'monolith' | 'extracted';
  /** The domain under test: only its requests are forced; the rest follow the routing table. */
  domain: string;
  /** The gateway's BANYAN_ADMIN_TOKEN, sent in x-banyan-token so any caller's request can be forced. */
  gatewayToken: string;
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
  const prefix = `/api/${options.domain}`;
  const forced = (path: string) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);
  return {
    name: `${options.gatewayUrl} (${options.domain} → ${options.side})`,
    baseUrl: options.gatewayUrl,
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
