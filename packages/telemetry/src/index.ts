import pino, { Logger } from 'pino';

export type { Logger };

/**
 * Paths that must never reach a log line. Tokens and passwords travel in these places; pino
 * replaces them before serialisation so even a debug dump of a request cannot leak them.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'authorization',
  'password',
  'token',
  '*.password',
  '*.token',
  '*.card',
  '*.cardNumber',
  'card',
  'body.password',
  'body.card',
];

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
