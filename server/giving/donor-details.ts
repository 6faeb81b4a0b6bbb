import { z } from 'zod';

/**
 * A donor's name and mailing address as people type them, in any script (Hangul, Vietnamese,
 * Polish, …). Text is NFC-normalized (so "Nguyễn" typed with combining marks prints and compares
 * as one letter) and trimmed, inner runs of spaces collapsed. Refused, with a message: control
 * characters, invisible formatting characters (bidirectional overrides, zero-width spaces, soft
 * hyphens, byte-order marks…), private-use and unassigned code points. The zero-width joiner and
 * non-joiner are kept: some scripts' names need them.
 */
export type DonorDetails = {
  name: string;
  addressLine1: string | null;
  addressLine2: string | null;
  city: string | null;
  province: string | null;
  postalCode: string | null;
  country: string;
  locale: 'en' | 'fr' | 'ko';
  /**
   * The language of official receipts, English or French only (CRA): null, the locale's own where
   * it is one (else English); undefined, not said (a record keeps what it had).
   */
  receiptLocale?: 'en' | 'fr' | null;
};

/** Limits stated on every form that asks for them (and checked by the database for the name). */
export const DONOR_FIELD_LIMITS = { name: 200, addressLine1: 200, addressLine2: 200, city: 100, province: 50, postalCode: 12 } as const;

const REFUSED = /[\p{Cc}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]|(?![\u200c\u200d])\p{Cf}/u;

/** True when the text holds a character a name or address must not (see above). */
export function hasInvisibleCharacters(text: string): boolean {
  return REFUSED.test(text);
}

/** As stored and printed: NFC, trimmed, runs of spaces as one. */
export function cleanPersonText(text: string): string {
  return text.normalize('NFC').trim().replace(/[ \u00a0\u3000]{2,}/g, ' ');
}

/**
 * One field of a donor's details: messages are `invisible` and `tooLong` (keys the caller
 * translates), or `requiredKey` when empty and required.
 */
export function personText(max: number, requiredKey?: string) {
  const base = z
    .string({ error: requiredKey ?? 'tooLong' })
    .refine((v) => !hasInvisibleCharacters(v), 'invisible')
    .transform(cleanPersonText)
    .pipe(z.string().max(max, 'tooLong'));
  return requiredKey ? base.pipe(z.string().min(1, requiredKey)) : base;
}

function fold(text: string | null | undefined): string {
  return cleanPersonText(text ?? '').toLocaleLowerCase('und');
}

/** Whether two sets of details name the same person at the same address (case and spacing aside; language aside). */
export function sameDetails(a: Omit<DonorDetails, 'locale'>, b: Omit<DonorDetails, 'locale'>): boolean {
  const keys = ['name', 'addressLine1', 'addressLine2', 'city', 'province', 'postalCode', 'country'] as const;
  return keys.every((k) => fold(a[k]) === fold(b[k]));
}

/** A donors / pledge_donor_details / pledge_donors row as DonorDetails. */
export function detailsOfRow(row: {
  name: string;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  province: string | null;
  postal_code: string | null;
  country: string;
  locale: 'en' | 'fr' | 'ko';
  receipt_locale?: 'en' | 'fr' | null;
}): DonorDetails {
  return {
    ...(row.receipt_locale === undefined ? {} : { receiptLocale: row.receipt_locale }),
    name: row.name,
    addressLine1: row.address_line1,
    addressLine2: row.address_line2,
    city: row.city,
    province: row.province,
    postalCode: row.postal_code,
    country: row.country,
    locale: row.locale,
  };
}

/** DonorDetails as a row's columns (empty strings stored as null). */
export function rowOfDetails(details: DonorDetails) {
  const orNull = (v: string | null) => (v === null || v.trim() === '' ? null : v);
  return {
    name: details.name,
    address_line1: orNull(details.addressLine1),
    address_line2: orNull(details.addressLine2),
    city: orNull(details.city),
    province: orNull(details.province),
    postal_code: orNull(details.postalCode),
    country: details.country || 'CA',
    locale: details.locale,
    ...(details.receiptLocale === undefined ? {} : { receipt_locale: details.receiptLocale }),
  };
}

/** A receipt's address block: street lines, then "City Province  Postal code", then the country outside Canada. */
export function formatDonorAddress(d: Pick<DonorDetails, 'addressLine1' | 'addressLine2' | 'city' | 'province' | 'postalCode' | 'country'>): string {
  const cityLine = [d.city, d.province].filter(Boolean).join(' ') + (d.postalCode ? `  ${d.postalCode}` : '');
  return [d.addressLine1, d.addressLine2, cityLine.trim(), d.country === 'CA' ? null : d.country].filter((l) => l && l.trim() !== '').join('\n');
}

/** CRA: a receipt states the donor's address: at least a street line and a city. */
export function hasReceiptAddress(d: Pick<DonorDetails, 'addressLine1' | 'city'>): boolean {
  return (d.addressLine1 ?? '').trim() !== '' && (d.city ?? '').trim() !== '';
}

/** The details form of the staff donor page and of the donor's own page (message keys: giving:details.errors.*). */
export const DonorDetailsForm = z.object({
  name: personText(DONOR_FIELD_LIMITS.name, 'name'),
  addressLine1: personText(DONOR_FIELD_LIMITS.addressLine1).default(''),
  addressLine2: personText(DONOR_FIELD_LIMITS.addressLine2).default(''),
  city: personText(DONOR_FIELD_LIMITS.city).default(''),
  province: personText(DONOR_FIELD_LIMITS.province).default(''),
  postalCode: personText(DONOR_FIELD_LIMITS.postalCode).default(''),
  country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'country').default('CA'),
  locale: z.enum(['en', 'fr', 'ko'], { error: 'locale' }).default('en'),
  // '' (the default: the e-mails' language where it is English or French, else English), en or fr.
  receiptLocale: z.enum(['', 'en', 'fr'], { error: 'receiptLocale' }).default(''),
});

export type DetailsFormResult =
  | { ok: true; details: DonorDetails; values: Record<string, string> }
  | { ok: false; errors: Record<string, string>; values: Record<string, string> };

/** Parses the details form; errors are message keys per field. A street line needs a city (and the reverse). */
export function parseDonorDetailsForm(body: unknown): DetailsFormResult {
  const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const values: Record<string, string> = {};
  for (const key of Object.keys(DonorDetailsForm.shape)) if (typeof raw[key] === 'string') values[key] = raw[key] as string;
  const parsed = DonorDetailsForm.safeParse(values);
  const errors: Record<string, string> = {};
  if (!parsed.success) {
    for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= /^[a-zA-Z]+$/.test(issue.message) ? issue.message : 'invalid';
    return { ok: false, errors, values };
  }
  const d = parsed.data;
  if (d.addressLine1 && !d.city) errors.city = 'city';
  if (d.city && !d.addressLine1) errors.addressLine1 = 'address';
  if (Object.keys(errors).length > 0) return { ok: false, errors, values };
  return {
    ok: true,
    values,
    details: { name: d.name, addressLine1: d.addressLine1 || null, addressLine2: d.addressLine2 || null, city: d.city || null, province: d.province || null, postalCode: d.postalCode || null, country: d.country, locale: d.locale, receiptLocale: d.receiptLocale || null },
  };
}

/** The form's values from a record. */
export function valuesOfDetails(d: DonorDetails): Record<string, string> {
  return { name: d.name, addressLine1: d.addressLine1 ?? '', addressLine2: d.addressLine2 ?? '', city: d.city ?? '', province: d.province ?? '', postalCode: d.postalCode ?? '', country: d.country, locale: d.locale, receiptLocale: d.receiptLocale ?? '' };
}
