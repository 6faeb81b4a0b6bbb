import type { Db } from '../db/database';
import { DomainError } from '../domain-error';
import { requirementFromEdition } from '../groups/cost-tables';

/**
 * The line that turns dollars into what they do: "$1,767 pays a month of rent, food and transport
 * for a family of four", from the current edition of IRCC's cost table (server/groups/cost-tables.ts).
 *
 * The figure is the table's income support column (income_support_cents: twelve months of rent,
 * food, transport and phone, shared/DOMAIN.md) for a family of four, divided by 12 and rounded to
 * the dollar. Start-up costs (startup_cents: furniture, clothing, deposits, paid once) are not
 * part of a month's support, so they are left out.
 */
export const IMPACT_FAMILY_SIZE = 4;

/** A month of a year's support, to the dollar: one figure on every page that quotes it (campaign, thank-you). */
export function monthlyFromYearly(yearlyCents: number): number {
  return Math.round(yearlyCents / 12 / 100) * 100;
}

/** The current edition's monthly support for a family of four in cents, in one statement; null without a cost table. */
export async function monthlySupportCents(db: Db, familySize = IMPACT_FAMILY_SIZE): Promise<number | null> {
  const rows = await db
    .selectFrom('cost_tables')
    .select(['edition_on', 'family_size', 'income_support_cents', 'startup_cents'])
    .where('edition_on', '=', (eb) => eb.selectFrom('cost_tables').select((e) => e.fn.max('edition_on').as('latest')))
    .execute();
  if (rows.length === 0) return null;
  const edition = {
    editionOn: String(rows[0]!.edition_on),
    rows: rows.map((r) => ({ familySize: r.family_size, incomeSupportCents: r.income_support_cents, startupCents: r.startup_cents })),
  };
  try {
    return monthlyFromYearly(requirementFromEdition(edition, familySize).incomeSupportCents);
  } catch (error) {
    if (error instanceof DomainError) return null; // an edition without the size or the additional-member row: no line rather than a wrong one
    throw error;
  }
}
