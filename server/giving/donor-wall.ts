import { sql } from 'kysely';
import type { Db } from '../db/database';

/**
 * The donor wall: recent gifts received, showing only what the donor chose to show. The display
 * name appears only with the donor's consent and never for an anonymous gift; a message only with
 * consent (an anonymous donor consents by typing one under the form's "shown under Anonymous"
 * label: server/giving/give-form.ts). A gift without consent appears as anonymous, with neither. Amounts and e-mails are never
 * shown. `groupName` is the public name of the approved sponsor group the gift prefers (shown for
 * anonymous gifts too: with no amount, a group names no donor); null on a group's own wall.
 * `groupId` filters to gifts that named a group as their (non-binding) preference, for the groups' pages.
 */
export type WallGift = { anonymous: boolean; displayName: string | null; message: string | null; monthly: boolean; givenAt: Date; groupName: string | null };

export async function listDonorWall(db: Db, options: { groupId?: number | null; limit?: number } = {}): Promise<WallGift[]> {
  let query = db
    .selectFrom('pledges')
    // The group's name in the same statement (no query per gift); only an approved group's page is public.
    .leftJoin('sponsor_groups', (join) => join.onRef('sponsor_groups.id', '=', 'pledges.group_id').on('sponsor_groups.status', '=', 'approved'))
    .select('sponsor_groups.name as group_name')
    .select(['pledges.id', 'pledges.anonymous', 'pledges.wall_consent', 'pledges.display_name', 'pledges.public_message', 'pledges.frequency'])
    .select(sql<Date>`(select min(received_at) from payments where payments.pledge_id = pledges.id and payments.status <> 'voided')`.as('given_at'))
    // Money kept: a refunded gift, or one voided as a staff error, is not on the wall.
    .where((eb) => eb.exists(eb.selectFrom('payments').select('payments.id').whereRef('payments.pledge_id', '=', 'pledges.id').where('payments.status', 'not in', ['refunded', 'voided'])))
    .orderBy('pledges.id', 'desc')
    .limit(Math.min(options.limit ?? 12, 50));
  if (options.groupId) query = query.where('pledges.group_id', '=', options.groupId);
  const rows = await query.execute();
  return rows.map((r) => {
    const shown = r.wall_consent && !r.anonymous;
    return {
      anonymous: !shown || !r.display_name,
      displayName: shown ? r.display_name : null,
      message: r.wall_consent ? r.public_message : null,
      monthly: r.frequency === 'monthly',
      givenAt: r.given_at,
      groupName: options.groupId ? null : r.group_name,
    };
  });
}
