import { z } from 'zod';
import { DONOR_FIELD_LIMITS as LIMIT, hasInvisibleCharacters, personText } from './donor-details';
import { PROVINCES } from '../groups/forms';
import { parseDollars } from '../http/forms';

/** The giving form, as typed. Errors are message keys in locales/<lang>/giving.json (give.errors.*). */
export const PRESET_AMOUNTS_CENTS = [2_500, 5_000, 10_000, 25_000, 50_000] as const;
export const MIN_GIFT_CENTS = 500;
export const MAX_GIFT_CENTS = 10_000_000;

export type GiveInput = {
  amountCents: number;
  frequency: 'once' | 'monthly';
  months: number | null;
  coverFee: boolean;
  method: 'card' | 'cheque' | 'etransfer';
  name: string;
  email: string;
  addressLine1: string;
  addressLine2: string | null;
  city: string;
  province: string;
  postalCode: string;
  anonymous: boolean;
  wallConsent: boolean;
  displayName: string | null;
  publicMessage: string | null;
  groupId: number | null;
  /** The official receipt's language, asked only of donors whose own language receipts are not issued in (Korean); null: their own. */
  receiptLocale: 'en' | 'fr' | null;
};

export type GiveFormValues = Record<string, string>;
export type ParsedGiveForm = { ok: true; data: GiveInput; values: GiveFormValues } | { ok: false; errors: Record<string, string>; values: GiveFormValues };

/** A province or territory code (the form's select; groups use the same list), any case, spaces around it aside. */
export function isProvince(value: string): boolean {
  return (PROVINCES as readonly string[]).includes(value.trim().toUpperCase());
}
export { PROVINCES };

/** "50", "50.25", "$1,000", "12,50 $" → cents, without floats (one parser for every money form: server/http/forms.ts). */
export { parseDollars };

const text = (max: number) => z.string().trim().max(max, 'tooLong');
const Fields = z.object({
  amount: z.string().default(''),
  customAmount: z.string().default(''),
  frequency: z.enum(['once', 'monthly'], { error: 'frequency' }).default('once'),
  months: z.string().trim().default(''),
  coverFee: z.string().optional(),
  method: z.enum(['card', 'cheque', 'etransfer'], { error: 'method' }).default('card'),
  // Names and addresses in any script; control and invisible characters refused (donor-details.ts).
  name: personText(LIMIT.name, 'name'),
  email: z.string().trim().max(254).pipe(z.email({ error: 'email' })),
  addressLine1: personText(LIMIT.addressLine1, 'address'),
  addressLine2: personText(LIMIT.addressLine2).default(''),
  city: personText(LIMIT.city, 'city'),
  province: personText(LIMIT.province, 'province'),
  postalCode: personText(LIMIT.postalCode, 'postalCode'),
  // The donor wall: one choice, "name" (display name and message shown) or "anonymous" (neither
  // name shown; a message typed is shown under "Anonymous"). The two checkboxes it replaced are
  // still read from older clients; both at once contradict each other and are refused.
  wall: z.enum(['', 'name', 'anonymous'], { error: 'wall' }).default(''),
  anonymous: z.string().optional(),
  wallConsent: z.string().optional(),
  displayName: personText(80).default(''),
  publicMessage: text(280).default('').refine((v) => !hasInvisibleCharacters(v.replace(/\r?\n/g, ' ')), 'invisible'),
  groupId: z.string().trim().default(''),
  receiptLocale: z.enum(['', 'en', 'fr'], { error: 'receiptLocale' }).default(''),
});

const FIELD_NAMES = Object.keys(Fields.shape);

export function parseGiveForm(body: unknown): ParsedGiveForm {
  const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const values: GiveFormValues = {};
  for (const name of FIELD_NAMES) if (typeof raw[name] === 'string') values[name] = raw[name] as string;

  const errors: Record<string, string> = {};
  const parsed = Fields.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0]);
      errors[field] ??= issue.message === 'tooLong' || issue.message === 'invisible' ? issue.message : ['frequency', 'method', 'receiptLocale', 'wall'].includes(field) ? field : issue.message.match(/^[a-zA-Z]+$/) ? issue.message : field;
    }
  }
  const f = parsed.success ? parsed.data : undefined;

  const amountText = values.amount === 'other' || !values.amount ? (values.customAmount ?? '') : values.amount;
  const amountCents = parseDollars(amountText);
  // A preset still chosen with another amount typed (the $50 preset is checked by default): which the donor meant is theirs to say.
  const presetChosen = values.amount !== undefined && values.amount !== '' && values.amount !== 'other';
  const typedCents = presetChosen && values.customAmount?.trim() ? parseDollars(values.customAmount) : null;
  if (typedCents !== null && typedCents !== amountCents) errors.amount = 'amountBoth';
  else if (amountCents === undefined) errors.amount = 'amount';
  else if (amountCents < MIN_GIFT_CENTS) errors.amount = 'amountMin';
  else if (amountCents > MAX_GIFT_CENTS) errors.amount = 'amountMax';

  // Months apply to monthly gifts only: what a one-time gift sends there (a field left filled in) is ignored.
  let months: number | null = null;
  if (values.frequency === 'monthly' && values.months && values.months.trim() !== '') {
    months = /^\d{1,3}$/.test(values.months.trim()) ? Number(values.months.trim()) : NaN;
    if (!(months >= 1 && months <= 120)) errors.months = 'months';
  }
  if (f && f.frequency === 'monthly' && f.method !== 'card' && months === null) errors.months = 'monthsPayLater';

  let groupId: number | null = null;
  if (values.groupId) {
    groupId = /^\d{1,12}$/.test(values.groupId) ? Number(values.groupId) : NaN;
    if (!(groupId > 0)) errors.groupId = 'groupId';
  }

  // A province or territory of the list, by its code (as stored since the form became a select).
  const province = f?.province.toUpperCase();
  if (f && !errors.province && !isProvince(f.province)) errors.province = 'provinceCode';

  const wall = f ? wallChoice(f) : undefined;
  if (f && wall === undefined) errors.wall = 'wallBoth';

  if (!f || !wall || !province || Object.keys(errors).length > 0 || amountCents === undefined) return { ok: false, errors, values };
  const anonymous = wall === 'anonymous';
  return {
    ok: true,
    values,
    data: {
      amountCents,
      frequency: f.frequency,
      months: f.frequency === 'monthly' ? months : null,
      coverFee: f.coverFee !== undefined && f.method === 'card',
      method: f.method,
      name: f.name,
      email: f.email,
      addressLine1: f.addressLine1,
      addressLine2: f.addressLine2 || null,
      city: f.city,
      province,
      postalCode: f.postalCode,
      anonymous,
      // Consent to show the message: given by "show my name", or by typing one under "anonymous".
      wallConsent: wall === 'name' || (f.publicMessage !== '' && values.wall === 'anonymous'),
      displayName: anonymous ? null : f.displayName || null,
      publicMessage: f.publicMessage || null,
      groupId,
      receiptLocale: f.receiptLocale || null,
    },
  };
}

/** The donor-wall choice: the radio group's, else the older checkboxes'; undefined when those say both. */
function wallChoice(f: { wall: string; anonymous?: string; wallConsent?: string }): 'name' | 'anonymous' | undefined {
  if (f.wall === 'name' || f.wall === 'anonymous') return f.wall;
  if (f.anonymous !== undefined && f.wallConsent !== undefined) return undefined;
  return f.wallConsent !== undefined ? 'name' : 'anonymous';
}
