import { createHash, randomBytes } from 'node:crypto';

/**
 * Secrets handed to a person (session cookie, invitation and reset links): 256 random bits,
 * base64url. Only their SHA-256 is stored, so a copy of the database opens nothing.
 */
export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A token as it may arrive from a link or cookie: anything else is not worth a query. */
export function looksLikeToken(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
}
