import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/**
 * Paths redacted from every log line. Request bodies are never logged; these cover
 * headers and any object that carries a secret or a family's identifying fields.
 */
export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["stripe-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.identity',
  '*.familyIdentity',
  // A family's identifying fields (server/families/identities.ts), wherever an object carries them.
  '*.names',
  '*.datesOfBirth',
  '*.birthMonths',
  '*.governmentFileNumbers',
  '*.contact',
  '*.currentLocation',
  '*.notes',
  'req.body',
];

export function createLogger(config: Pick<Config, 'logLevel' | 'env'>): Logger {
  return pino({
    level: config.env === 'test' ? 'silent' : config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'haven' },
  });
}
