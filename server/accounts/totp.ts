import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';

/**
 * Authenticator-app codes (TOTP, RFC 6238: SHA-1, 6 digits, 30 s, what every app speaks) for
 * sponsors, with otpauth. The shared secret is sealed with AES-256-GCM under a key derived from
 * SESSION_SECRET (bound to the account), so a copy of the database cannot make codes; a code is
 * accepted one step either side of now, and each time step only once (replay).
 */
export const TOTP_ISSUER = 'HanVoice Haven';

export type TotpSealer = { key: Buffer };

/** Without SESSION_SECRET (development, tests) a fixed key: SESSION_SECRET is required in production. */
export function totpSealer(sessionSecret: string | undefined): TotpSealer {
  const ikm = sessionSecret ?? 'haven development totp key';
  return { key: Buffer.from(hkdfSync('sha256', ikm, 'haven', 'haven totp secrets v1', 32)) };
}

function aad(userId: number) {
  return Buffer.from(`haven:totp:v1:user:${userId}`, 'utf8');
}

function seal(sealer: TotpSealer, userId: number, secret: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealer.key, iv, { authTagLength: 16 });
  cipher.setAAD(aad(userId));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function unseal(sealer: TotpSealer, userId: number, sealed: Buffer): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealer.key, sealed.subarray(0, 12), { authTagLength: 16 });
    decipher.setAAD(aad(userId));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    // SESSION_SECRET changed: the person sets their app up again (a recovery code or a reset gets them in).
    return undefined;
  }
}

function totpOf(secret: string, label: string) {
  return new TOTP({ issuer: TOTP_ISSUER, label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
}

export type TotpSetup = { secret: string; uri: string };

/** Starts (or restarts) setting up an app: a new secret, not yet in force until a code from it is confirmed. */
export async function startTotpSetup(trx: Transaction<Database>, sealer: TotpSealer, user: { id: number; email: string }): Promise<TotpSetup> {
  const secret = new Secret({ size: 20 }).base32;
  const sealed = seal(sealer, user.id, secret);
  await trx
    .insertInto('totp_authenticators')
    .values({ user_id: user.id, sealed_secret: sealed })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ sealed_secret: sealed, last_time_step: 0, confirmed_at: null }).where('totp_authenticators.confirmed_at', 'is', null))
    .execute();
  const row = await trx.selectFrom('totp_authenticators').select('confirmed_at').where('user_id', '=', user.id).executeTakeFirstOrThrow();
  if (row.confirmed_at) throw new Error('an authenticator app is already set up: remove it first');
  return { secret, uri: totpOf(secret, user.email).toString() };
}

/** The set-up in progress (to show its QR code again), if any. */
export async function pendingTotpSetup(db: Db | Transaction<Database>, sealer: TotpSealer, user: { id: number; email: string }): Promise<TotpSetup | undefined> {
  const row = await db.selectFrom('totp_authenticators').select('sealed_secret').where('user_id', '=', user.id).where('confirmed_at', 'is', null).executeTakeFirst();
  const secret = row ? unseal(sealer, user.id, row.sealed_secret) : undefined;
  return secret ? { secret, uri: totpOf(secret, user.email).toString() } : undefined;
}

/**
 * Checks a code against the account's app (`confirmed`: the one in force; otherwise the set-up in
 * progress, which the code then confirms). Each 30-second step is accepted once.
 */
export async function checkTotpCode(db: Db | Transaction<Database>, sealer: TotpSealer, userId: number, typed: string, which: 'confirmed' | 'setup', now = Date.now()): Promise<boolean> {
  const code = typed.replace(/\s/g, '');
  if (!/^\d{6}$/.test(code)) return false;
  const row = await db
    .selectFrom('totp_authenticators')
    .select(['sealed_secret', 'last_time_step'])
    .where('user_id', '=', userId)
    .where('confirmed_at', which === 'confirmed' ? 'is not' : 'is', null)
    .executeTakeFirst();
  const secret = row ? unseal(sealer, userId, row.sealed_secret) : undefined;
  if (!row || !secret) return false;
  const delta = totpOf(secret, '').validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return false;
  const step = Math.floor(now / 30_000) + delta;
  const accepted = await db
    .updateTable('totp_authenticators')
    .set({ last_time_step: step, ...(which === 'setup' ? { confirmed_at: sql<Date>`now()` } : {}) })
    .where('user_id', '=', userId)
    .where('last_time_step', '<', step)
    .returning('user_id')
    .executeTakeFirst();
  return accepted !== undefined;
}

export async function removeTotp(db: Db | Transaction<Database>, userId: number): Promise<void> {
  await db.deleteFrom('totp_authenticators').where('user_id', '=', userId).execute();
}

/** Whether the account has an app in force (a set-up in progress does not count). */
export async function hasTotp(db: Db | Transaction<Database>, userId: number): Promise<boolean> {
  const row = await db.selectFrom('totp_authenticators').select('user_id').where('user_id', '=', userId).where('confirmed_at', 'is not', null).executeTakeFirst();
  return row !== undefined;
}
