import { createHash, randomInt } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';

/**
 * One-time recovery codes, for a lost passkey or authenticator: ten codes of 10 characters from
 * a 32-letter alphabet (50 bits each), shown once when made, stored only as SHA-256 (bound to
 * the account), each accepted once. Making a new set voids the old one.
 */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const LENGTH = 10;

function hashCode(userId: number, code: string): string {
  return createHash('sha256').update(`haven recovery code v1:${userId}:${code}`).digest('hex');
}

/** "abcde-fghjk", "ABCDE FGHJK", "abcdefghjk" are the same code. */
export function normalizeRecoveryCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, '');
}

function newCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** A fresh set (the old codes stop working); returns the codes to show once, as "XXXXX-XXXXX". */
export async function replaceRecoveryCodes(trx: Transaction<Database>, userId: number): Promise<string[]> {
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  await trx
    .insertInto('recovery_codes')
    .values(codes.map((code) => ({ user_id: userId, code_hash: hashCode(userId, code) })))
    .execute();
  return codes.map((c) => `${c.slice(0, 5)}-${c.slice(5)}`);
}

/** Uses a code: true once for each code, then never again (the update is conditional, so two requests cannot both use it). */
export async function useRecoveryCode(db: Db | Transaction<Database>, userId: number, typed: string): Promise<boolean> {
  const code = normalizeRecoveryCode(typed);
  if (!new RegExp(`^[${ALPHABET}]{${LENGTH}}$`).test(code)) return false;
  const used = await db
    .updateTable('recovery_codes')
    .set({ used_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hashCode(userId, code))
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return used !== undefined;
}

export async function unusedRecoveryCodes(db: Db | Transaction<Database>, userId: number): Promise<number> {
  const row = await db.selectFrom('recovery_codes').select(sql<number>`count(*)::bigint`.as('n')).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow();
  return row.n;
}

/** Whether the account was ever given codes (a new set is made at the first enrolment only). */
export async function hasRecoveryCodes(db: Db | Transaction<Database>, userId: number): Promise<boolean> {
  return (await db.selectFrom('recovery_codes').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst()) !== undefined;
}
