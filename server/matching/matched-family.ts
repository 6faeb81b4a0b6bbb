import type { Transaction } from 'kysely';
import type { Actor } from '../audit/audit';
import type { Database, FamilyNeed } from '../db/schema';
import type { FamilyKeyring } from '../families/data-keys';
import { requireFamily } from '../families/families';
import { type FamilyIdentity, viewFamilyIdentity } from '../families/identities';
import { findApprovedMatchOfGroup } from './matches';

/**
 * What a matched group sees of its family: what the group needs to prepare (size, languages,
 * needs, whether trauma-informed or medical support is needed) and the identity fields staff
 * chose to share for this match. Never the case code, the SGBV flag, file numbers or notes.
 */
export type MatchedFamilyView = {
  size: number;
  adults: number;
  children: number;
  languages: string[];
  needs: FamilyNeed[];
  medicalNeeds: boolean;
  traumaInformedSupport: boolean;
  shared: Partial<FamilyIdentity>;
};

/** The group's matched family, or undefined; every view is audited (through viewFamilyIdentity). */
export async function viewMatchedFamily(trx: Transaction<Database>, keyring: FamilyKeyring, actor: Actor, groupId: number): Promise<MatchedFamilyView | undefined> {
  const match = await findApprovedMatchOfGroup(trx, groupId);
  if (!match) return undefined;
  const family = await requireFamily(trx, match.familyId);
  const identity = await viewFamilyIdentity(trx, keyring, actor, family.id, { purpose: 'matched_group', matchId: match.id, groupId, fields: match.sharedFields });
  const shared: Partial<FamilyIdentity> = {};
  if (match.sharedFields.includes('names')) shared.names = identity.names;
  if (match.sharedFields.includes('dates_of_birth')) shared.datesOfBirth = identity.datesOfBirth;
  if (match.sharedFields.includes('contact')) shared.contact = identity.contact;
  if (match.sharedFields.includes('current_location')) shared.currentLocation = identity.currentLocation;
  return {
    size: family.size,
    adults: family.adults,
    children: family.children,
    languages: family.languages,
    needs: family.needs,
    medicalNeeds: family.medicalNeeds,
    traumaInformedSupport: family.traumaInformedSupport,
    shared,
  };
}
