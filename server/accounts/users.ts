import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database, UserRole } from '../db/schema';
import { DomainError } from '../domain-error';
import type { Locale } from '../i18n/i18n';
import { hashPassword } from './passwords';

/** E-mail addresses are compared case-insensitively: stored trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const EmailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email());

export type NewUser = { email: string; name: string; role: UserRole; password?: string; administrator?: boolean };

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** Creates a user (with a password, or none yet: they set it from an e-mailed link). */
export async function createUser(db: Db, input: NewUser): Promise<number> {
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  try {
    const row = await db
      .insertInto('users')
      .values({ email: normalizeEmail(input.email), name: input.name.trim(), role: input.role, password_hash: passwordHash, is_administrator: input.administrator ?? false })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError('conflict', 'An account with this e-mail address already exists.');
    throw error;
  }
}

export type UserRow = { id: number; email: string; name: string; role: UserRole; password_hash: string | null; disabled_at: Date | null };

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'role', 'password_hash', 'disabled_at'])
    .where(sql`lower(email)`, '=', normalizeEmail(email))
    .executeTakeFirst();
}

export async function findUser(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').select(['id', 'email', 'name', 'role', 'password_hash', 'disabled_at']).where('id', '=', id).executeTakeFirst();
}

/** Makes a staff account an administrator (npm run create-staff and seed: machine access decides). */
export async function makeAdministrator(db: Db, userId: number): Promise<void> {
  await db.updateTable('users').set({ is_administrator: true, updated_at: new Date() }).where('id', '=', userId).where('role', '=', 'staff').execute();
}

export async function setPassword(db: Db, userId: number, password: string): Promise<void> {
  const hash = await hashPassword(password);
  await db.updateTable('users').set({ password_hash: hash, updated_at: new Date() }).where('id', '=', userId).execute();
}

/** Everyone who can sign in, staff first, for the staff users page. */
export async function listUsers(db: Db) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'role', 'is_administrator', 'disabled_at', 'created_at', sql<boolean>`password_hash is not null`.as('has_password')])
    .orderBy('role', 'desc')
    .orderBy('email')
    .limit(500)
    .execute();
}

export type DisableResult = { ok: true } | { ok: false; reason: 'not_found' | 'self' | 'administrator_only' };

/**
 * A staff decision: disabling signs the person out everywhere and stops sign-in; enabling
 * lets them sign in again. A staff account is disabled or enabled by an administrator only.
 * Audited in the same transaction.
 */
export async function setUserDisabled(
  trx: Transaction<Database>,
  input: { userId: number; disabled: boolean; actor: { userId: number; label: string; administrator: boolean } },
): Promise<DisableResult> {
  if (input.userId === input.actor.userId) return { ok: false, reason: 'self' };
  const target = await trx.selectFrom('users').select('role').where('id', '=', input.userId).executeTakeFirst();
  if (!target) return { ok: false, reason: 'not_found' };
  if (target.role === 'staff' && !input.actor.administrator) return { ok: false, reason: 'administrator_only' };
  const row = await trx
    .updateTable('users')
    .set({ disabled_at: input.disabled ? sql<Date>`coalesce(disabled_at, now())` : null, updated_at: new Date() })
    .where('id', '=', input.userId)
    .returning('id')
    .executeTakeFirst();
  if (!row) return { ok: false, reason: 'not_found' };
  if (input.disabled) await trx.deleteFrom('sessions').where('user_id', '=', input.userId).execute();
  await writeAudit(trx, { actor: { userId: input.actor.userId, label: input.actor.label }, action: input.disabled ? 'user.disabled' : 'user.enabled', subject: `user:${input.userId}` });
  return { ok: true };
}

/** Staff members by name (disabled ones too: their past actions stay in the audit log). */
export async function listStaffMembers(db: Db): Promise<{ id: number; name: string; disabled: boolean }[]> {
  const rows = await db.selectFrom('users').select(['id', 'name', 'disabled_at']).where('role', '=', 'staff').orderBy('name').orderBy('id').limit(1000).execute();
  return rows.map((r) => ({ id: r.id, name: r.name, disabled: r.disabled_at !== null }));
}

/** Where staff-wide notices go when no inbox is configured for them: every staff account that can sign in, with its language. */
export async function activeStaffRecipients(db: Db): Promise<{ email: string; locale: Locale }[]> {
  return db.selectFrom('users').select(['email', 'locale']).where('role', '=', 'staff').where('disabled_at', 'is', null).orderBy('id').limit(1000).execute();
}

/** The language to write to an address in: its account's (users.locale), or English for an address with no account. */
export async function localeOfAddress(db: Db, email: string): Promise<Locale> {
  const row = await db.selectFrom('users').select('locale').where(sql`lower(email)`, '=', normalizeEmail(email)).executeTakeFirst();
  return row?.locale ?? 'en';
}

/** Remembers the language a signed-in person uses Haven in (written only when it changed). */
export async function rememberLocale(db: Db, userId: number, locale: Locale): Promise<void> {
  await db.updateTable('users').set({ locale }).where('id', '=', userId).where('locale', '<>', locale).execute();
}

/** Each person's name by user id (staff and sponsors alike), for pages that say who did something. */
export async function userNamesOf(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['id', 'name']).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
