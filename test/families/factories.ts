import type { Actor } from '../../server/audit/audit';
import type { Db } from '../../server/db/database';
import type { FamilyKeyring } from '../../server/families/data-keys';
import { type Family, type FamilyProfileInput, registerFamily, setFamilyStatus } from '../../server/families/families';
import type { FamilyIdentity } from '../../server/families/identities';

export const staffA: Actor = { userId: 9001, label: 'staff:9001' };
export const staffB: Actor = { userId: 9002, label: 'staff:9002' };

/** One distinct sentinel per identity field: none may ever appear outside family_identities' ciphertext. */
export const SENTINELS: FamilyIdentity = {
  names: 'SENTINEL-NAME-7f3a',
  datesOfBirth: 'SENTINEL-DOB-1c9e',
  governmentFileNumbers: 'SENTINEL-FILE-42bd',
  contact: 'SENTINEL-CONTACT-d05f',
  currentLocation: 'SENTINEL-LOCATION-88aa',
  notes: 'SENTINEL-NOTES-3e71',
  // Birth months must read as year-month (arrival reads them): one adult's, which changes no schedule.
  birthMonths: '1961-07',
};

export function profile(overrides: Partial<FamilyProfileInput> = {}): FamilyProfileInput {
  return {
    adults: 1,
    children: 2,
    languages: ['ko'],
    needs: ['childcare'],
    sgbvSurvivor: true,
    medicalNeeds: false,
    traumaInformedSupport: true,
    preferredRegion: 'ON',
    vettingStatus: 'cleared',
    vettedOn: '2026-10-01',
    ...overrides,
  };
}

/** Registers a family through the module (with sentinel identity) and makes it available. */
export async function availableFamily(db: Db, keyring: FamilyKeyring, overrides: Partial<FamilyProfileInput> = {}, identity = SENTINELS): Promise<Family> {
  return db.transaction().execute(async (trx) => {
    const family = await registerFamily(trx, keyring, staffA, profile(overrides), identity);
    return setFamilyStatus(trx, staffA, family.id, 'available');
  });
}
