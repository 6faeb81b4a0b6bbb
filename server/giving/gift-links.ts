import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { issueDonorLink } from './donor-links';

/** The addresses of the giving pages' donor links (tokens: server/giving/donor-links.ts). */
export async function thanksPath(trx: Transaction<Database> | Parameters<typeof issueDonorLink>[0], pledgeId: number, page: 'thanks' | 'pledged'): Promise<string> {
  return `/give/${page}/${pledgeId}?t=${await issueDonorLink(trx, 'thanks', { pledgeId })}`;
}

/** The link in a monthly gift's e-mails that stops it: a new token each time, working as long as the gift runs. */
export async function monthlyCancelUrl(trx: Transaction<Database>, publicUrl: string, pledgeId: number): Promise<string> {
  return `${publicUrl}/give/monthly/${pledgeId}/cancel?t=${await issueDonorLink(trx, 'cancel_monthly', { pledgeId })}`;
}
