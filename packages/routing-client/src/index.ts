import { DEFAULT_ROUTE, writesTo, type RouteMode, type RouteState, type RoutingView } from './routes';
export { DEFAULT_ROUTE, routedWrite, writesTo, type RouteMode, type RouteState, type RoutingView, type Side, type WriteTicket } from './routes';
export { watchRoutes, type WatchRoutesOptions } from './watch';

/** A fixed view, for processes run without a gateway (every domain on the monolith). */
export function staticRoutes(modes: Record<string, RouteMode> = {}): RoutingView {
  const get = (domain: string): RouteState => ({ ...DEFAULT_ROUTE(domain), mode: modes[domain] ?? 'monolith' });
  return {
    get,
    isExtracted: (domain) => modes[domain] === 'extracted',
    beginWrite: async (domain) => ({ side: writesTo(get(domain)), done: () => undefined }),
    onChange: () => () => undefined,
    refresh: async () => undefined,
    stop: () => undefined,
  };
}
