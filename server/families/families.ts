import { randomInt } from 'node:crypto';
import type { Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database, FamilyNeed, FamilyStatus } from '../db/schema';
import { DomainError } from '../domain-error';
import type { FamilyKeyring } from './data-keys';
import { charityCalendar } from '../calendar/charity-calendar';
import { type FamilyIdentity, saveFamilyIdentity } from './identities';

/** No 0/O, 1/I/L: a code read aloud over the phone is not misheard. */
export const CASE_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** A case code drawn at random (crypto.randomInt), never derived from anything about the family. */
export function newCaseCode(): string {
  let code = 'HV-';
  for (let i = 0; i < 6; i++) code += CASE_CODE_ALPHABET[randomInt(CASE_CODE_ALPHABET.length)];
  return code;
}

export const FAMILY_NEEDS: readonly FamilyNeed[] = ['wheelchair_access', 'large_housing', 'childcare', 'school_enrolment', 'interpretation', 'dietary', 'mental_health'];
export const FAMILY_STATUSES: readonly FamilyStatus[] = ['referred', 'available', 'matched', 'arrived', 'self_sufficient', 'closed', 'withdrawn'];

/** Statuses in which the family's support has ended: the retention clock runs from the day it was set. */
export const SUPPORT_ENDED_STATUSES: readonly FamilyStatus[] = ['self_sufficient', 'closed', 'withdrawn'];

/** A family as matching and staff lists see it: no identifying data. */
export type Family = {
  id: number;
  caseCode: string;
  size: number;
  adults: number;
  children: number;
  languages: string[];
  needs: FamilyNeed[];
  sgbvSurvivor: boolean;
  medicalNeeds: boolean;
  traumaInformedSupport: boolean;
  preferredRegion: string | null;
  vettingStatus: 'pending' | 'cleared' | 'refused';
  vettedOn: string | null;
  status: FamilyStatus;
  /** The day the status became self-sufficient, closed or withdrawn (null while support goes on). */
  supportEndedOn: string | null;
  /** When the identity was deleted under the retention rule (it cannot be written again). */
  identityPurgedAt: Date | null;
};

export type FamilyProfileInput = Omit<Family, 'id' | 'caseCode' | 'status' | 'size' | 'supportEndedOn' | 'identityPurgedAt'>;

const FAMILY_COLUMNS = [
  'id',
  'case_code',
  'size',
  'adults',
  'children',
  'languages',
  'needs',
  'sgbv_survivor',
  'medical_needs',
  'trauma_informed_support',
  'preferred_region',
  'vetting_status',
  'vetted_on',
  'status',
  'support_ended_on',
  'identity_purged_at',
] as const;

type FamilyRow = {
  id: number;
  case_code: string;
  size: number;
  adults: number;
  children: number;
  languages: string[];
  needs: FamilyNeed[];
  sgbv_survivor: boolean;
  medical_needs: boolean;
  trauma_informed_support: boolean;
  preferred_region: string | null;
  vetting_status: 'pending' | 'cleared' | 'refused';
  vetted_on: string | null;
  status: FamilyStatus;
  support_ended_on: string | null;
  identity_purged_at: Date | null;
};

export function toFamily(row: FamilyRow): Family {
  return {
    id: row.id,
    caseCode: row.case_code,
    size: row.size,
    adults: row.adults,
    children: row.children,
    languages: row.languages,
    needs: row.needs,
    sgbvSurvivor: row.sgbv_survivor,
    medicalNeeds: row.medical_needs,
    traumaInformedSupport: row.trauma_informed_support,
    preferredRegion: row.preferred_region,
    vettingStatus: row.vetting_status,
    vettedOn: row.vetted_on,
    status: row.status,
    supportEndedOn: row.support_ended_on,
    identityPurgedAt: row.identity_purged_at,
  };
}

function toRow(input: FamilyProfileInput) {
  return {
    size: input.adults + input.children,
    adults: input.adults,
    children: input.children,
    languages: [...new Set(input.languages.map((l) => l.trim().toLowerCase()).filter((l) => l !== ''))],
    needs: [...new Set(input.needs)],
    sgbv_survivor: input.sgbvSurvivor,
    medical_needs: input.medicalNeeds,
    trauma_informed_support: input.traumaInformedSupport,
    preferred_region: input.preferredRegion,
    vetting_status: input.vettingStatus,
    vetted_on: input.vettedOn,
  };
}

/** Registers a family (status referred) with its identity, under a fresh random case code. */
export async function registerFamily(
  trx: Transaction<Database>,
  keyring: FamilyKeyring,
  actor: Actor,
  profile: FamilyProfileInput,
  identity: FamilyIdentity,
): Promise<Family> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const row = await trx
      .insertInto('families')
      .values({ case_code: newCaseCode(), ...toRow(profile) })
      .onConflict((oc) => oc.column('case_code').doNothing())
      .returning(FAMILY_COLUMNS)
      .executeTakeFirst();
    if (!row) continue;
    await writeAudit(trx, { actor, action: 'family.registered', subject: `family:${row.id}`, details: { caseCode: row.case_code } });
    await saveFamilyIdentity(trx, keyring, actor, row.id, identity);
    return toFamily(row);
  }
  throw new Error('could not draw an unused case code');
}

export async function updateFamilyProfile(trx: Transaction<Database>, actor: Actor, familyId: number, profile: FamilyProfileInput): Promise<Family> {
  const row = await trx
    .updateTable('families')
    .set({ ...toRow(profile), updated_at: new Date() })
    .where('id', '=', familyId)
    .returning(FAMILY_COLUMNS)
    .executeTakeFirst();
  if (!row) throw new DomainError('not_found', 'families:errors.notFound');
  await writeAudit(trx, { actor, action: 'family.updated', subject: `family:${familyId}` });
  return toFamily(row);
}

/**
 * Staff move a family through its states; matched is set only by approveMatch (and left only
 * for arrived or closed: a matched family withdraws once its match is withdrawn). Entering an
 * ended status starts the retention clock on `today` (the charity's date); leaving one stops it.
 */
export async function setFamilyStatus(trx: Transaction<Database>, actor: Actor, familyId: number, status: FamilyStatus, today: string = charityCalendar().today()): Promise<Family> {
  const family = await lockFamily(trx, familyId);
  if (family.status === status) return family;
  if (status === 'available' && family.vettingStatus !== 'cleared') {
    throw new DomainError('conflict', 'families:errors.notVetted');
  }
  if (status === 'matched' || family.status === 'matched') {
    if (!(family.status === 'matched' && ['arrived', 'closed'].includes(status))) {
      throw new DomainError('conflict', 'families:errors.matchedByApproval');
    }
  }
  const ended = SUPPORT_ENDED_STATUSES.includes(status);
  const row = await trx
    .updateTable('families')
    .set({ status, updated_at: new Date(), support_ended_on: ended ? today : null, identity_purge_warned_on: null })
    .where('id', '=', familyId)
    .returning(FAMILY_COLUMNS)
    .executeTakeFirstOrThrow();
  await writeAudit(trx, { actor, action: 'family.status_changed', subject: `family:${familyId}`, details: { from: family.status, to: status, ...(ended ? { supportEndedOn: today } : {}) } });
  return toFamily(row);
}

export async function lockFamily(trx: Transaction<Database>, familyId: number): Promise<Family> {
  const row = await trx.selectFrom('families').select(FAMILY_COLUMNS).where('id', '=', familyId).forUpdate().executeTakeFirst();
  if (!row) throw new DomainError('not_found', 'families:errors.notFound');
  return toFamily(row);
}

export async function findFamily(db: Db | Transaction<Database>, familyId: number): Promise<Family | undefined> {
  const row = await db.selectFrom('families').select(FAMILY_COLUMNS).where('id', '=', familyId).executeTakeFirst();
  return row ? toFamily(row) : undefined;
}

export async function requireFamily(db: Db | Transaction<Database>, familyId: number): Promise<Family> {
  const family = await findFamily(db, familyId);
  if (!family) throw new DomainError('not_found', 'families:errors.notFound');
  return family;
}

/** Staff list, keyset-paged by id; optionally one status. */
export async function listFamilies(db: Db, filter: { status?: FamilyStatus; after?: number; limit?: number } = {}) {
  const limit = Math.min(filter.limit ?? 100, 500);
  let query = db.selectFrom('families').select(FAMILY_COLUMNS).orderBy('id').limit(limit + 1);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.after) query = query.where('id', '>', filter.after);
  const rows = await query.execute();
  return { families: rows.slice(0, limit).map(toFamily), nextAfter: rows.length > limit ? rows[limit - 1]!.id : undefined };
}

/** A family's id from its case code, typed by staff in any case (`hv-7k2m9p`). */
export async function findFamilyIdByCaseCode(db: Db | Transaction<Database>, caseCode: string): Promise<number | undefined> {
  const row = await db.selectFrom('families').select('id').where('case_code', '=', caseCode.trim().toUpperCase()).executeTakeFirst();
  return row?.id;
}

/** Case codes by family id, for pages that list families by id (the audit log). */
export async function caseCodesOf(db: Db | Transaction<Database>, familyIds: readonly number[]): Promise<Map<number, string>> {
  if (familyIds.length === 0) return new Map();
  const rows = await db.selectFrom('families').select(['id', 'case_code']).where('id', 'in', [...new Set(familyIds)]).execute();
  return new Map(rows.map((r) => [r.id, r.case_code]));
}
