import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { z } from 'zod';

/**
 * argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane), through @node-rs/argon2: a
 * prebuilt binary per platform (no compiler at install), run on libuv's thread pool so a hash never
 * blocks the event loop. The parameters travel inside each PHC string, so hashes made with other
 * parameters (or by the node-argon2 package Haven used before: test/accounts/passwords.test.ts) verify.
 */
const ARGON2ID: Algorithm = 2; // Algorithm.Argon2id (a const enum, which isolatedModules cannot import)
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 200;

export const PasswordSchema = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH);

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * True when password matches hash. Without a hash (unknown e-mail, no password set yet) it still
 * spends the time of one verification, so response times do not tell which addresses have accounts.
 */
export async function verifyPassword(storedHash: string | null | undefined, password: string): Promise<boolean> {
  if (!storedHash) {
    dummyHash ??= hashPassword('haven-timing-equaliser');
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
