import type { Db } from '../db/database';

/**
 * Sponsor groups a donor may name as a NON-BINDING preference (CRA: the charity decides how
 * gifts are used; never a family). The groups module fills these in once sponsor_groups exists;
 * until then the list is empty and any positive id is kept as the donor's stated preference.
 */
export type GroupChoice = { id: number; name: string };

export async function listGroupChoices(_db: Db): Promise<GroupChoice[]> {
  return [];
}

export async function isGroupChoice(_db: Db, groupId: number): Promise<boolean> {
  return Number.isSafeInteger(groupId) && groupId > 0;
}
