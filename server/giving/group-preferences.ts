import type { Db } from '../db/database';
import { isPreferableGroup, listPreferableGroups } from '../groups/public-pages';

/**
 * Sponsor groups a donor may name as a NON-BINDING preference (CRA: the charity decides how
 * gifts are used; never a family): approved groups only.
 */
export type GroupChoice = { id: number; name: string };

export async function listGroupChoices(db: Db): Promise<GroupChoice[]> {
  return listPreferableGroups(db);
}

export async function isGroupChoice(db: Db, groupId: number): Promise<boolean> {
  return isPreferableGroup(db, groupId);
}
