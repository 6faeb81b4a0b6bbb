import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import { type Db, isAnyOf } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';

/**
 * IRCC's Sponsorship Cost Table as dated editions (shared/DOMAIN.md). The current edition is
 * the latest edition_on; family_size 0 is the row for each member beyond the largest size.
 */
export type CostRow = { familySize: number; incomeSupportCents: number; startupCents: number };
export type Edition = { editionOn: string; rows: CostRow[] };
export type Requirement = {
  editionOn: string;
  familySize: number;
  incomeSupportCents: number;
  startupCents: number;
  totalCents: number;
};

type Handle = Db | Transaction<Database>;

export async function listEditions(db: Handle): Promise<Edition[]> {
  const rows = await db
    .selectFrom('cost_tables')
    .select(['edition_on', 'family_size', 'income_support_cents', 'startup_cents'])
    .orderBy('edition_on', 'desc')
    .orderBy('family_size')
    .execute();
  const editions = new Map<string, CostRow[]>();
  for (const row of rows) {
    const list = editions.get(row.edition_on) ?? [];
    list.push({ familySize: row.family_size, incomeSupportCents: row.income_support_cents, startupCents: row.startup_cents });
    editions.set(row.edition_on, list);
  }
  return [...editions].map(([editionOn, list]) => ({
    editionOn,
    // Listed sizes first, then the "each additional member" row.
    rows: [...list.filter((r) => r.familySize > 0), ...list.filter((r) => r.familySize === 0)],
  }));
}

/** What a family of `familySize` needs for a year under the current edition. */
export async function currentRequirement(db: Handle, familySize: number): Promise<Requirement> {
  const latest = await db.selectFrom('cost_tables').select(sql<string>`max(edition_on)::text`.as('edition_on')).executeTakeFirst();
  if (!latest?.edition_on) throw new DomainError('unavailable', 'groups:errors.noCostTable');
  const rows = await db
    .selectFrom('cost_tables')
    .select(['family_size', 'income_support_cents', 'startup_cents'])
    .where('edition_on', '=', latest.edition_on)
    .execute();
  return requirementFromEdition({ editionOn: latest.edition_on, rows: rows.map((r) => ({ familySize: r.family_size, incomeSupportCents: r.income_support_cents, startupCents: r.startup_cents })) }, familySize);
}

export function requirementFromEdition(edition: Edition, familySize: number): Requirement {
  const listed = edition.rows.filter((r) => r.familySize > 0);
  const exact = listed.find((r) => r.familySize === familySize);
  let incomeSupportCents: number;
  let startupCents: number;
  if (exact) {
    ({ incomeSupportCents, startupCents } = exact);
  } else {
    const largest = listed.reduce((a, b) => (b.familySize > a.familySize ? b : a));
    const extra = edition.rows.find((r) => r.familySize === 0);
    if (!extra || familySize < largest.familySize) throw new DomainError('unavailable', 'groups:errors.noCostTable');
    const beyond = familySize - largest.familySize;
    incomeSupportCents = largest.incomeSupportCents + beyond * extra.incomeSupportCents;
    startupCents = largest.startupCents + beyond * extra.startupCents;
  }
  return { editionOn: edition.editionOn, familySize, incomeSupportCents, startupCents, totalCents: incomeSupportCents + startupCents };
}

/** Sets a group's requirement from the current edition; a requirement already set keeps its edition. */
export async function setRequirement(trx: Transaction<Database>, groupId: number, familySize: number): Promise<Requirement> {
  const r = await currentRequirement(trx, familySize);
  await trx
    .insertInto('group_requirements')
    .values({ group_id: groupId, edition_on: r.editionOn, family_size: r.familySize, income_support_cents: r.incomeSupportCents, startup_cents: r.startupCents })
    .onConflict((oc) =>
      oc.column('group_id').doUpdateSet({ edition_on: r.editionOn, family_size: r.familySize, income_support_cents: r.incomeSupportCents, startup_cents: r.startupCents, set_at: new Date() }),
    )
    .execute();
  return r;
}

export async function findRequirement(db: Handle, groupId: number): Promise<Requirement | undefined> {
  return (await findRequirements(db, [groupId])).get(groupId);
}

/** Requirements of several groups in one query, by group id. */
export async function findRequirements(db: Handle, groupIds: number[]): Promise<Map<number, Requirement>> {
  const result = new Map<number, Requirement>();
  if (groupIds.length === 0) return result;
  const rows = await db
    .selectFrom('group_requirements')
    .select(['group_id', 'edition_on', 'family_size', 'income_support_cents', 'startup_cents'])
    .where(isAnyOf('group_id', groupIds))
    .execute();
  for (const row of rows) result.set(row.group_id, requirementOfRow(row));
  return result;
}

/** A group_requirements row as a Requirement. */
export function requirementOfRow(row: { edition_on: string; family_size: number; income_support_cents: number; startup_cents: number }): Requirement {
  return {
    editionOn: row.edition_on,
    familySize: row.family_size,
    incomeSupportCents: row.income_support_cents,
    startupCents: row.startup_cents,
    totalCents: row.income_support_cents + row.startup_cents,
  };
}

/** Staff add a new edition: sizes 1–6 and the additional-member row. Existing requirements keep theirs. */
export async function addEdition(trx: Transaction<Database>, actor: Actor, edition: Edition): Promise<void> {
  const exists = await trx.selectFrom('cost_tables').select('id').where('edition_on', '=', edition.editionOn).executeTakeFirst();
  if (exists) throw new DomainError('conflict', 'groups:errors.editionExists');
  await trx
    .insertInto('cost_tables')
    .values(edition.rows.map((r) => ({ edition_on: edition.editionOn, family_size: r.familySize, income_support_cents: r.incomeSupportCents, startup_cents: r.startupCents })))
    .execute();
  await writeAudit(trx, { actor, action: 'cost_table.added', subject: `cost_table:${edition.editionOn}`, details: { rows: edition.rows } });
}
