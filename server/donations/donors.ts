import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema';

export type DonorInput = {
  email: string;
  name: string;
  addressLine1?: string | null;
  addressLine2?: string | null;
  city?: string | null;
  province?: string | null;
  postalCode?: string | null;
  country?: string;
  locale?: 'en' | 'fr';
};

/** A donor is known by e-mail (case-insensitive); a later gift refreshes their name and address. */
export async function upsertDonor(trx: Transaction<Database>, input: DonorInput): Promise<number> {
  const details = {
    name: input.name.trim(),
    address_line1: input.addressLine1 ?? null,
    address_line2: input.addressLine2 ?? null,
    city: input.city ?? null,
    province: input.province ?? null,
    postal_code: input.postalCode ?? null,
    country: input.country ?? 'CA',
    locale: input.locale ?? 'en',
  };
  const row = await trx
    .insertInto('donors')
    .values({ email: input.email.trim(), ...details })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doUpdateSet({ ...details, updated_at: new Date() }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
