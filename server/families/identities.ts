import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import type { FamilyKeyring } from './data-keys';

/**
 * A family's identifying data. It exists in clear only in memory, between the one function
 * that reads it (viewFamilyIdentity, which audits the view) and the staff family page, or the
 * fields staff chose to share with the matched group.
 */
export type FamilyIdentity = {
  names: string;
  datesOfBirth: string;
  governmentFileNumbers: string;
  contact: string;
  currentLocation: string;
  notes: string;
};

export const IDENTITY_FIELDS = ['names', 'datesOfBirth', 'governmentFileNumbers', 'contact', 'currentLocation', 'notes'] as const;
export type IdentityField = (typeof IDENTITY_FIELDS)[number];

/** The identity fields staff may share with a matched group (file numbers and notes never). */
export const SHAREABLE_FIELDS = { names: 'names', dates_of_birth: 'datesOfBirth', contact: 'contact', current_location: 'currentLocation' } as const;
export type ShareableField = keyof typeof SHAREABLE_FIELDS;

export const EMPTY_IDENTITY: FamilyIdentity = { names: '', datesOfBirth: '', governmentFileNumbers: '', contact: '', currentLocation: '', notes: '' };

const FORMAT = 1;

export type SealedIdentity = { format: number; key_id: string; iv: Buffer; auth_tag: Buffer; ciphertext: Buffer };

/** The additional data binds a ciphertext to its family: a row copied onto another family fails to open. */
function aadFor(familyId: number): Buffer {
  return Buffer.from(`haven:family_identity:v${FORMAT}:family:${familyId}`, 'utf8');
}

/** AES-256-GCM under the current key, with a fresh random 96-bit IV for every write. */
export function sealIdentity(keyring: FamilyKeyring, familyId: number, identity: FamilyIdentity): SealedIdentity {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv, { authTagLength: 16 });
  cipher.setAAD(aadFor(familyId));
  const plaintext = Buffer.from(JSON.stringify(pickIdentity(identity)), 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  return { format: FORMAT, key_id: keyring.current.id, iv, auth_tag: cipher.getAuthTag(), ciphertext };
}

/** Opens a sealed identity; a wrong key, family or any altered byte is refused (GCM authentication). */
export function openIdentity(keyring: FamilyKeyring, familyId: number, sealed: SealedIdentity): FamilyIdentity {
  if (sealed.format !== FORMAT) throw new Error(`unknown family identity format ${sealed.format}`);
  const key = keyring.byId.get(sealed.key_id);
  if (!key) throw new Error(`family identity key ${sealed.key_id} is not configured (FAMILY_DATA_KEY / FAMILY_DATA_PREVIOUS_KEYS)`);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: 16 });
  decipher.setAAD(aadFor(familyId));
  decipher.setAuthTag(sealed.auth_tag);
  const plaintext = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  return pickIdentity(JSON.parse(plaintext.toString('utf8')) as Partial<FamilyIdentity>);
}

function pickIdentity(value: Partial<FamilyIdentity>): FamilyIdentity {
  const out = { ...EMPTY_IDENTITY };
  for (const field of IDENTITY_FIELDS) out[field] = typeof value[field] === 'string' ? value[field] : '';
  return out;
}

/** Writes (creates or replaces) a family's identity, and audits the change (which fields are filled, never their values). */
export async function saveFamilyIdentity(
  trx: Transaction<Database>,
  keyring: FamilyKeyring,
  actor: Actor,
  familyId: number,
  identity: FamilyIdentity,
): Promise<void> {
  const sealed = sealIdentity(keyring, familyId, identity);
  await trx
    .insertInto('family_identities')
    .values({ family_id: familyId, ...sealed })
    .onConflict((oc) => oc.column('family_id').doUpdateSet({ ...sealed, updated_at: new Date() }))
    .execute();
  await writeAudit(trx, {
    actor,
    action: 'family_identity.changed',
    subject: `family:${familyId}`,
    details: { filled: IDENTITY_FIELDS.filter((f) => identity[f].trim() !== ''), keyId: sealed.key_id },
  });
}

export type IdentityView =
  | { purpose: 'staff_family_page' }
  | { purpose: 'matched_group'; matchId: number; groupId: number; fields: readonly ShareableField[] };

/**
 * THE one function that reads family_identities. It decrypts and writes the audit row in the
 * caller's transaction, so no view goes unrecorded. A matched group gets only the fields shared
 * with it; everything else comes back empty.
 */
export async function viewFamilyIdentity(
  trx: Transaction<Database>,
  keyring: FamilyKeyring,
  actor: Actor,
  familyId: number,
  view: IdentityView,
): Promise<FamilyIdentity> {
  const row = await trx
    .selectFrom('family_identities')
    .select(['format', 'key_id', 'iv', 'auth_tag', 'ciphertext'])
    .where('family_id', '=', familyId)
    .executeTakeFirst();
  const fields: IdentityField[] = view.purpose === 'staff_family_page' ? [...IDENTITY_FIELDS] : view.fields.map((f) => SHAREABLE_FIELDS[f]);
  await writeAudit(trx, {
    actor,
    action: 'family_identity.viewed',
    subject: `family:${familyId}`,
    details: view.purpose === 'staff_family_page' ? { purpose: view.purpose, fields } : { purpose: view.purpose, matchId: view.matchId, groupId: view.groupId, fields },
  });
  if (!row) return { ...EMPTY_IDENTITY };
  let identity: FamilyIdentity;
  try {
    identity = openIdentity(keyring, familyId, row);
  } catch {
    throw new DomainError('unavailable', 'families:errors.keyUnavailable');
  }
  const shown = { ...EMPTY_IDENTITY };
  for (const field of fields) shown[field] = identity[field];
  return shown;
}
