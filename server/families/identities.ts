import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { type Actor, type AuditEntry, writeAudit } from '../audit/audit';
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
  /**
   * Each member's birth year and month, 'YYYY-MM', one per member (commas or lines between): read
   * at arrival (readBirthMonths) so a child who turns 18 during the schedule becomes a payee then.
   */
  birthMonths: string;
};

export const IDENTITY_FIELDS = ['names', 'datesOfBirth', 'governmentFileNumbers', 'contact', 'currentLocation', 'notes', 'birthMonths'] as const;
export type IdentityField = (typeof IDENTITY_FIELDS)[number];

/** The identity fields staff may share with a matched group (file numbers and notes never). */
export const SHAREABLE_FIELDS = { names: 'names', dates_of_birth: 'datesOfBirth', contact: 'contact', current_location: 'currentLocation' } as const;
export type ShareableField = keyof typeof SHAREABLE_FIELDS;

export const EMPTY_IDENTITY: FamilyIdentity = { names: '', datesOfBirth: '', governmentFileNumbers: '', contact: '', currentLocation: '', notes: '', birthMonths: '' };

export type BirthMonth = { year: number; month: number };

/** The oldest birth month staff may enter: a member is at most this many years old. */
export const BIRTH_MONTHS_MAX_AGE_YEARS = 100;

/**
 * The birth months as typed ('1985-03, 2009-05'), or why they cannot be: 'format' when one is not
 * a year and month; given `today`, 'range' when one is after today's month or more than 100 years
 * before it.
 */
export function parseBirthMonths(text: string, today?: string): { ok: true; births: BirthMonth[] } | { ok: false; problem: 'format' | 'range' } {
  const items = text.split(/[\s,;]+/).filter((v) => v !== '');
  const births: BirthMonth[] = [];
  const [ty, tm] = (today ?? '9999-12').split('-').map(Number) as [number, number];
  const now = ty * 12 + (tm - 1);
  for (const item of items) {
    const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(item);
    if (!match) return { ok: false, problem: 'format' };
    const birth = { year: Number(match[1]), month: Number(match[2]) };
    const at = birth.year * 12 + (birth.month - 1);
    if (today !== undefined && (at > now || at < now - BIRTH_MONTHS_MAX_AGE_YEARS * 12)) return { ok: false, problem: 'range' };
    births.push(birth);
  }
  return { ok: true, births };
}

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

type StoredIdentity = { familyId: number; keyId: string; identity: FamilyIdentity | undefined };

/**
 * THE one place family_identities is read: it decrypts, and writes an audit row for every row it
 * returns (`auditFor` says what the look is for: viewed, changed, re-keyed) in the caller's
 * transaction, before anything leaves it. A look at one family audits even when there is no row.
 * A row no configured key opens (a removed key, an altered byte) comes back without `identity`.
 * If the caller then refuses (throws), the transaction rolls back, audit row with it: nothing
 * was shown.
 */
async function openStoredIdentities(
  trx: Transaction<Database>,
  keyring: FamilyKeyring,
  selection: { familyId: number; forUpdate?: boolean } | { notUnderKeyId: string; afterFamilyId: number; limit: number },
  auditFor: (row: { familyId: number; keyId: string | null; opened: boolean }) => AuditEntry,
): Promise<StoredIdentity[]> {
  let query = trx.selectFrom('family_identities').select(['family_id', 'format', 'key_id', 'iv', 'auth_tag', 'ciphertext']);
  if ('familyId' in selection) {
    query = query.where('family_id', '=', selection.familyId);
    if (selection.forUpdate) query = query.forUpdate();
  } else {
    query = query
      .where('key_id', '!=', selection.notUnderKeyId)
      .where('family_id', '>', selection.afterFamilyId)
      .orderBy('family_id')
      .limit(selection.limit)
      .forUpdate()
      .skipLocked();
  }
  const rows = await query.execute();
  const stored = rows.map((row): StoredIdentity => {
    try {
      return { familyId: row.family_id, keyId: row.key_id, identity: openIdentity(keyring, row.family_id, row) };
    } catch {
      return { familyId: row.family_id, keyId: row.key_id, identity: undefined };
    }
  });
  for (const row of stored) await writeAudit(trx, auditFor({ familyId: row.familyId, keyId: row.keyId, opened: row.identity !== undefined }));
  if ('familyId' in selection && stored.length === 0) await writeAudit(trx, auditFor({ familyId: selection.familyId, keyId: null, opened: false }));
  return stored;
}

/** The one stored identity of a family, opened; undefined when it has none. */
function opened(stored: StoredIdentity | undefined): FamilyIdentity | undefined {
  if (stored && !stored.identity) throw new DomainError('unavailable', 'families:errors.keyUnavailable');
  return stored?.identity;
}

/** A deleted identity stays deleted: nothing may write one again for that family. */
async function requireIdentityKept(trx: Transaction<Database>, familyId: number): Promise<void> {
  const family = await trx.selectFrom('families').select('identity_purged_at').where('id', '=', familyId).executeTakeFirst();
  if (!family) throw new DomainError('not_found', 'families:errors.notFound');
  if (family.identity_purged_at) throw new DomainError('conflict', 'families:errors.identityPurged');
}

async function writeSealed(trx: Transaction<Database>, keyring: FamilyKeyring, familyId: number, identity: FamilyIdentity): Promise<SealedIdentity> {
  const sealed = sealIdentity(keyring, familyId, identity);
  await trx
    .insertInto('family_identities')
    .values({ family_id: familyId, ...sealed })
    .onConflict((oc) => oc.column('family_id').doUpdateSet({ ...sealed, updated_at: new Date() }))
    .execute();
  return sealed;
}

/** Writes (creates or replaces) a family's whole identity, and audits the change (which fields are filled, never their values). */
export async function saveFamilyIdentity(
  trx: Transaction<Database>,
  keyring: FamilyKeyring,
  actor: Actor,
  familyId: number,
  identity: FamilyIdentity,
): Promise<void> {
  await requireIdentityKept(trx, familyId);
  const sealed = await writeSealed(trx, keyring, familyId, identity);
  await writeAudit(trx, {
    actor,
    action: 'family_identity.changed',
    subject: `family:${familyId}`,
    details: { fields: [...IDENTITY_FIELDS], filled: IDENTITY_FIELDS.filter((f) => identity[f].trim() !== ''), keyId: sealed.key_id },
  });
}

/**
 * Changes some identity fields (those a staff member revealed and edited) and keeps the others
 * as they are: the stored identity is opened, merged and sealed again, audited as a change.
 */
export async function updateFamilyIdentityFields(
  trx: Transaction<Database>,
  keyring: FamilyKeyring,
  actor: Actor,
  familyId: number,
  changes: Partial<FamilyIdentity>,
): Promise<void> {
  await requireIdentityKept(trx, familyId);
  const fields = IDENTITY_FIELDS.filter((f) => typeof changes[f] === 'string');
  if (fields.length === 0) return;
  const cleared = fields.filter((f) => changes[f]!.trim() === '');
  const [stored] = await openStoredIdentities(trx, keyring, { familyId, forUpdate: true }, (row) => ({
    actor,
    action: 'family_identity.changed',
    subject: `family:${row.familyId}`,
    details: { fields, cleared, keyId: keyring.current.id },
  }));
  const merged = { ...(opened(stored) ?? EMPTY_IDENTITY), ...Object.fromEntries(fields.map((f) => [f, changes[f]!])) };
  await writeSealed(trx, keyring, familyId, merged);
}

/**
 * Deletes a family's identity for good (the retention rule, server/families/retention.ts): the
 * encrypted row goes, the family is marked purged so nothing can write one again, and the purge
 * is audited. The case code, profile, schedule and money are untouched. Returns false when it
 * was already purged (a second process got there first), so the audit row is written once.
 */
export async function purgeFamilyIdentity(trx: Transaction<Database>, actor: Actor, familyId: number, details: Record<string, unknown>): Promise<boolean> {
  const marked = await trx
    .updateTable('families')
    .set({ identity_purged_at: sql<Date>`now()` })
    .where('id', '=', familyId)
    .where('identity_purged_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!marked) return false;
  const deleted = await trx.deleteFrom('family_identities').where('family_id', '=', familyId).returning('family_id').executeTakeFirst();
  await writeAudit(trx, { actor, action: 'family_identity.purged', subject: `family:${familyId}`, details: { ...details, hadIdentity: deleted !== undefined } });
  return true;
}

export type RekeyBatch = {
  rekeyed: number;
  /** Rows no configured key opens (their key is gone, or a byte was altered): left as they are. */
  unopenable: { familyId: number; keyId: string }[];
  /** Where the next batch starts; undefined when this batch was the last. */
  nextAfter: number | undefined;
};

/**
 * Key rotation, one batch: identities sealed under any key but the current one (family ids after
 * `afterFamilyId`) are opened and sealed again under FAMILY_DATA_KEY, each audited as re-keyed
 * (key ids only). Rows another process is re-keying are skipped. Once every batch re-keyed all it
 * found and none was unopenable, the keys in FAMILY_DATA_PREVIOUS_KEYS can be destroyed.
 */
export async function rekeyFamilyIdentities(trx: Transaction<Database>, keyring: FamilyKeyring, actor: Actor, afterFamilyId = 0, limit = 100): Promise<RekeyBatch> {
  const rows = await openStoredIdentities(trx, keyring, { notUnderKeyId: keyring.current.id, afterFamilyId, limit }, (row) => ({
    actor,
    action: row.opened ? 'family_identity.rekeyed' : 'family_identity.rekey_failed',
    subject: `family:${row.familyId}`,
    details: { fromKeyId: row.keyId, toKeyId: keyring.current.id },
  }));
  const unopenable: RekeyBatch['unopenable'] = [];
  for (const row of rows) {
    if (row.identity) await writeSealed(trx, keyring, row.familyId, row.identity);
    else unopenable.push({ familyId: row.familyId, keyId: row.keyId });
  }
  return { rekeyed: rows.length - unopenable.length, unopenable, nextAfter: rows.length === limit ? rows[rows.length - 1]!.familyId : undefined };
}

/** Why a staff member asked to see some fields: one line, kept in the audit row. */
export const REVEAL_REASON_MAX = 200;

export type IdentityView =
  | { purpose: 'staff_reveal'; fields: readonly IdentityField[]; reason: string }
  | { purpose: 'support_schedule'; fields: readonly ['birthMonths'] }
  | { purpose: 'matched_group'; matchId: number; groupId: number; fields: readonly ShareableField[] };

/**
 * A look at a family's identity: the fields asked for, decrypted, with one `family_identity.viewed`
 * audit row (who, which fields, and the staff member's reason or the match) in the caller's
 * transaction. Everything not asked for comes back empty. A staff reason that repeats one of the
 * family's values is refused before anything is shown or recorded: the audit log holds no identity.
 */
export async function viewFamilyIdentity(
  trx: Transaction<Database>,
  keyring: FamilyKeyring,
  actor: Actor,
  familyId: number,
  view: IdentityView,
): Promise<FamilyIdentity> {
  const fields: IdentityField[] = view.purpose === 'matched_group' ? view.fields.map((f) => SHAREABLE_FIELDS[f]) : [...new Set<IdentityField>(view.fields)];
  const [row] = await openStoredIdentities(trx, keyring, { familyId }, () => ({
    actor,
    action: 'family_identity.viewed',
    subject: `family:${familyId}`,
    details:
      view.purpose === 'staff_reveal'
        ? { purpose: view.purpose, fields, reason: view.reason }
        : view.purpose === 'support_schedule'
          ? { purpose: view.purpose, fields }
          : { purpose: view.purpose, matchId: view.matchId, groupId: view.groupId, fields },
  }));
  const stored = opened(row);
  if (view.purpose === 'staff_reveal' && stored && mentionsIdentity(view.reason, stored)) {
    // Thrown inside the caller's transaction: the audit row above rolls back with it, and nothing is shown.
    throw new DomainError('invalid', 'families:errors.reasonHasIdentity', { reason: 'families:errors.reasonHasIdentity' });
  }
  const shown = { ...EMPTY_IDENTITY };
  if (stored) for (const field of fields) shown[field] = stored[field];
  return shown;
}

/**
 * The members' birth months, for the support schedule at arrival: only that field is taken from the
 * identity, the look is audited (`family_identity.viewed`, purpose support_schedule, no values),
 * and none is returned when the family has no identity or typed none. An identity no configured key
 * opens refuses (families:errors.keyUnavailable): a schedule without its coming-of-age payees would
 * pay the wrong people. The staff forms only store months that read (parseBirthMonths).
 */
export async function readBirthMonths(trx: Transaction<Database>, keyring: FamilyKeyring, actor: Actor, familyId: number): Promise<BirthMonth[]> {
  const identity = await viewFamilyIdentity(trx, keyring, actor, familyId, { purpose: 'support_schedule', fields: ['birthMonths'] });
  const parsed = parseBirthMonths(identity.birthMonths);
  if (!parsed.ok) throw new DomainError('invalid', 'families:errors.birthMonths');
  return parsed.births;
}

/**
 * Whether a typed reason repeats part of the identity: any line of a field (4 characters or
 * more), or any word of the names of 3 or more characters (2 in Hangul and Han): as a whole word in alphabetic
 * scripts (so "Park" is caught and "parking" is not), anywhere in Hangul and Han (where
 * particles attach to the name: 김은지씨). Compared case-insensitively.
 */
export function mentionsIdentity(reason: string, identity: FamilyIdentity): boolean {
  const text = reason.normalize('NFC').toLowerCase();
  for (const field of IDENTITY_FIELDS) {
    for (const line of identity[field].normalize('NFC').toLowerCase().split(/\r?\n/)) {
      if (line.trim().length >= 4 && text.includes(line.trim())) return true;
    }
  }
  for (const word of identity.names.normalize('NFC').toLowerCase().split(/[^\p{L}\p{M}\p{N}]+/u)) {
    if ([...word].length < (/[\p{Script=Hangul}\p{Script=Han}]/u.test(word) ? 2 : 3)) continue;
    if (/[\p{Script=Hangul}\p{Script=Han}]/u.test(word) ? text.includes(word) : new RegExp(`(?<![\\p{L}\\p{M}\\p{N}])${word}(?![\\p{L}\\p{M}\\p{N}])`, 'u').test(text)) return true;
  }
  return false;
}
