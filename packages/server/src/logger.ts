import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';

/** Paths that may carry credentials; pino replaces them before anything is written. */
const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-syncdeck-control"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.authToken',
];

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACTED, censor: '[redacted]' } });
}
