import type { Consumers } from '@banyan/messaging';
import type { RoutingView } from '@banyan/routing-client';
import type { Logger } from '@banyan/telemetry';
import type { Monolith } from './app';
import type { Module } from './kernel';
import type { startMessaging } from './messaging';

type Start = (subscriptions: Module['subscriptions']) => ReturnType<typeof startMessaging>;

/**
 * Run each module's consumers while its domain is served here, and its sync consumers always.
 * When the gateway routes a domain to its service, the module's own consumers are closed (the
 * service's take over the same queues); when it comes back, they start again.
 */
export async function startModuleConsumers(monolith: Monolith, routing: RoutingView, start: Start, logger: Logger) {
  const running = new Map<string, Consumers>();
  const always: Consumers[] = [];
  // Changes are applied one at a time so a quick back-and-forth cannot start a module twice.
  let queue = Promise.resolve();

  const modules = Object.values(monolith.modules) as Module[];
  const follow = async (module: Module) => {
    const extracted = routing.isExtracted(module.name);
    const current = running.get(module.name);
    if (extracted && current) {
      running.delete(module.name);
      await current.close();
      logger.info({ module: module.name }, 'domain extracted: module consumers stopped');
    } else if (!extracted && !current && module.subscriptions.length) {
      running.set(module.name, await start(module.subscriptions));
    }
  };

  for (const module of modules) {
    await follow(module);
    if (module.syncSubscriptions?.length) always.push(await start(module.syncSubscriptions));
  }
  const unsubscribe = routing.onChange((next) => {
    const module = modules.find((m) => m.name === next.domain);
    if (module) queue = queue.then(() => follow(module)).catch((err: Error) => logger.error({ err, module: module.name }, 'could not follow a route change'));
  });

  return {
    async close() {
      unsubscribe();
      await queue;
      await Promise.all([...running.values(), ...always].map((c) => c.close()));
      running.clear();
    },
  };
}
