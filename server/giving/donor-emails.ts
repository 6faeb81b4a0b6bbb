import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { issueDonorLink } from './donor-links';
import { queueEmail } from '../notifications/outbox';

/**
 * A gift was made with this e-mail under details other than the record's: the owner of the
 * e-mail (in the record's language, greeted by the record's name) may take them for their record
 * through a link that works once. The e-mail itself carries none of the typed details.
 */
export async function queueDetailsConfirmation(trx: Transaction<Database>, publicUrl: string, pledgeId: number): Promise<void> {
  const donor = await trx
    .selectFrom('pledges')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select(['donors.id', 'donors.email', 'donors.name', 'donors.locale'])
    .where('pledges.id', '=', pledgeId)
    .executeTakeFirstOrThrow();
  const token = await issueDonorLink(trx, 'confirm_details', { pledgeId });
  await queueEmail(trx, {
    to: donor.email,
    template: 'giving/details-confirmation',
    locale: donor.locale,
    data: { name: donor.name, url: `${publicUrl}/donor/confirm/${token}` },
  });
}

/** The link that signs a donor in to /donor (asked for on that page): works once, for 30 minutes. */
export async function queueDonorSignIn(trx: Transaction<Database>, publicUrl: string, donorId: number): Promise<void> {
  const donor = await trx.selectFrom('donors').select(['email', 'name', 'locale']).where('id', '=', donorId).executeTakeFirstOrThrow();
  const token = await issueDonorLink(trx, 'sign_in', { donorId });
  await queueEmail(trx, {
    to: donor.email,
    template: 'giving/donor-sign-in',
    locale: donor.locale,
    data: { name: donor.name, url: `${publicUrl}/donor/sign-in/${token}` },
  });
}
