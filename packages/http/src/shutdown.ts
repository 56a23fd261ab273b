import { shutdownTelemetry, type Logger } from '@banyan/telemetry';

type Step = { name: string; run: () => Promise<unknown> };
const steps: Step[] = [];

/** Register a shutdown step; steps run in reverse order of registration (last opened, first closed). */
export function onShutdown(name: string, run: () => Promise<unknown>): void {
  steps.push({ name, run });
}

let installed = false;

/**
 * SIGTERM/SIGINT: run the steps (stop accepting, finish in-flight work, flush, close pools) and
 * exit 0. A second signal exits at once. Errors that mean the process can no longer work (a lost
 * pool, an unhandled rejection) end it with 1 so the supervisor restarts it.
 */
export function installShutdownHandlers(logger: Logger, timeoutMs = 15_000): void {
  if (installed) return;
  installed = true;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, timeoutMs);
    force.unref();
    for (const step of [...steps].reverse()) {
      try {
        await step.run();
      } catch (err) {
        logger.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
    // Last: flush the spans of everything above (a no-op when tracing is off).
    await shutdownTelemetry().catch((err: Error) => logger.error({ err }, 'flushing spans failed'));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection: exiting so the supervisor restarts the process');
    process.exit(1);
  });
}
