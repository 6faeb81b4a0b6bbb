import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { sql, type Transaction } from 'kysely';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';

/**
 * Passkeys (WebAuthn), with @simplewebauthn/server: it checks the origin, the relying-party id,
 * the challenge, the signature and the counter, so an assertion made on a look-alike site is
 * worthless here. Haven asks for user verification (the device's PIN or biometric) and keeps no
 * attestation. The relying party is PUBLIC_URL's host name, so PUBLIC_URL must be the address
 * people actually use (https in production; http only on localhost).
 */
export type RelyingParty = { rpID: string; origin: string; rpName: string };

export function relyingParty(config: Pick<Config, 'publicUrl'>): RelyingParty {
  const url = new URL(config.publicUrl);
  return { rpID: url.hostname, origin: url.origin, rpName: 'Haven · HanVoice' };
}

/** A WebAuthn challenge is good for one ceremony, for five minutes, on the session it was made for. */
const CHALLENGE_MINUTES = 5;

export async function rememberChallenge(db: Db, sessionTokenHash: string, challenge: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ challenge, challenge_expires_at: sql<Date>`now() + make_interval(mins => ${CHALLENGE_MINUTES})` })
    .where('token_hash', '=', sessionTokenHash)
    .execute();
}

/** The session's outstanding challenge, if unexpired; it is cleared, so an answer can be checked once. */
export async function takeChallenge(db: Db, sessionTokenHash: string): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('sessions')
      .select(['challenge', sql<boolean>`challenge_expires_at > now()`.as('fresh')])
      .where('token_hash', '=', sessionTokenHash)
      .forUpdate()
      .executeTakeFirst();
    if (!row?.challenge) return undefined;
    await trx.updateTable('sessions').set({ challenge: null, challenge_expires_at: null }).where('token_hash', '=', sessionTokenHash).execute();
    return row.fresh ? row.challenge : undefined;
  });
}

export type PasskeyRow = { id: number; name: string; createdAt: Date; lastUsedAt: Date | null; backedUp: boolean };

export async function listPasskeys(db: Db | Transaction<Database>, userId: number): Promise<PasskeyRow[]> {
  const rows = await db.selectFrom('passkeys').select(['id', 'name', 'created_at', 'last_used_at', 'backed_up']).where('user_id', '=', userId).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, backedUp: r.backed_up }));
}

async function credentialsOf(db: Db | Transaction<Database>, userId: number) {
  return db.selectFrom('passkeys').select(['id', 'credential_id', 'public_key', 'sign_count', 'transports']).where('user_id', '=', userId).execute();
}

/** Options for navigator.credentials.create(): the person's existing passkeys are excluded, so one device is not enrolled twice. */
export async function registrationOptions(db: Db, rp: RelyingParty, user: { id: number; email: string; name: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await credentialsOf(db, user.id);
  return generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpID,
    userName: user.email,
    userDisplayName: user.name,
    userID: new TextEncoder().encode(`haven-user-${user.id}`),
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports as AuthenticatorTransport[] })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
  });
}

export type RegistrationOutcome = { ok: true; passkeyId: number } | { ok: false; reason: 'not_verified' | 'already_registered' };

/** Checks the browser's answer against the challenge this session was given, and keeps the passkey. */
export async function registerPasskey(
  trx: Transaction<Database>,
  rp: RelyingParty,
  input: { userId: number; expectedChallenge: string; response: RegistrationResponseJSON; name: string },
): Promise<RegistrationOutcome> {
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
    });
  } catch {
    return { ok: false, reason: 'not_verified' };
  }
  if (!verification.verified) return { ok: false, reason: 'not_verified' };
  const { credential, credentialBackedUp } = verification.registrationInfo;
  const row = await trx
    .insertInto('passkeys')
    .values({
      user_id: input.userId,
      credential_id: credential.id,
      public_key: Buffer.from(credential.publicKey),
      sign_count: credential.counter,
      transports: credential.transports ?? [],
      backed_up: credentialBackedUp,
      name: input.name,
    })
    .onConflict((oc) => oc.column('credential_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row ? { ok: true, passkeyId: row.id } : { ok: false, reason: 'already_registered' };
}

/** Options for navigator.credentials.get(): only this person's passkeys are allowed. */
export async function authenticationOptions(db: Db, rp: RelyingParty, userId: number): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const existing = await credentialsOf(db, userId);
  return generateAuthenticationOptions({
    rpID: rp.rpID,
    userVerification: 'required',
    allowCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports as AuthenticatorTransport[] })),
  });
}

/** Whether the browser's assertion is a valid use of one of this person's passkeys (its counter and last use are kept). */
export async function verifyPasskeyAssertion(db: Db, rp: RelyingParty, input: { userId: number; expectedChallenge: string; response: AuthenticationResponseJSON }): Promise<boolean> {
  const credential = (await credentialsOf(db, input.userId)).find((c) => c.credential_id === input.response?.id);
  if (!credential) return false;
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
      credential: {
        id: credential.credential_id,
        publicKey: new Uint8Array(credential.public_key),
        counter: credential.sign_count,
        transports: credential.transports as AuthenticatorTransport[],
      },
    });
  } catch {
    return false;
  }
  if (!verification.verified) return false;
  await db
    .updateTable('passkeys')
    .set({ sign_count: verification.authenticationInfo.newCounter, last_used_at: sql<Date>`now()` })
    .where('id', '=', credential.id)
    .execute();
  return true;
}

/** Removes one of a person's passkeys; returns how many they have left. */
export async function removePasskey(trx: Transaction<Database>, userId: number, passkeyId: number): Promise<{ removed: boolean; left: number }> {
  const removed = await trx.deleteFrom('passkeys').where('id', '=', passkeyId).where('user_id', '=', userId).returning('id').executeTakeFirst();
  const left = (await credentialsOf(trx, userId)).length;
  return { removed: removed !== undefined, left };
}
