import type { Request } from 'express';
import { z } from 'zod';
import { type FormResult, parseForm } from '../http/forms';
import type { FamilyNeed, FamilyStatus } from '../db/schema';
import { FAMILY_NEEDS, FAMILY_STATUSES, type FamilyProfileInput } from './families';
import { type FamilyIdentity, IDENTITY_FIELDS, type IdentityField, parseBirthMonths, REVEAL_REASON_MAX } from './identities';

/** The staff family forms: Zod schemas whose messages are i18n keys (families:errors.*). */
export const PROVINCES = ['AB', 'BC', 'MB', 'NB', 'NL', 'NS', 'NT', 'NU', 'ON', 'PE', 'QC', 'SK', 'YT'] as const;

const list = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
const checkbox = z
  .string()
  .optional()
  .transform((v) => v === 'on' || v === 'true' || v === '1');
const count = (min: number) => z.coerce.number({ error: 'families:errors.number' }).int('families:errors.number').min(min, 'families:errors.number').max(20, 'families:errors.number');

export const ProfileForm = z
  .object({
    adults: count(1),
    children: count(0),
    languages: z
      .string()
      .optional()
      .transform((v) =>
        (v ?? '')
          .split(/[,\s]+/)
          .map((l) => l.trim().toLowerCase())
          .filter((l) => l !== ''),
      )
      .pipe(z.array(z.string().regex(/^[a-z]{2,3}$/, 'families:errors.languages')).max(10, 'families:errors.languages')),
    needs: list.pipe(z.array(z.enum(FAMILY_NEEDS as [FamilyNeed, ...FamilyNeed[]], 'families:errors.invalid'))),
    sgbvSurvivor: checkbox,
    medicalNeeds: checkbox,
    traumaInformedSupport: checkbox,
    preferredRegion: z
      .string()
      .optional()
      .transform((v) => (v ? v : null))
      .pipe(z.enum(PROVINCES, 'families:errors.invalid').nullable()),
    vettingStatus: z.enum(['pending', 'cleared', 'refused'], 'families:errors.invalid'),
    vettedOn: z
      .string()
      .optional()
      .transform((v) => (v ? v : null))
      .pipe(z.iso.date('families:errors.date').nullable()),
  })
  .refine((f) => f.adults + f.children <= 20, { message: 'families:errors.number', path: ['children'] })
  .refine((f) => f.vettingStatus === 'pending' || f.vettedOn !== null, { message: 'families:errors.vettedOn', path: ['vettedOn'] });

const identityText = (max: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .pipe(z.string().max(max, 'families:errors.tooLong'));

const IDENTITY_LIMITS: Record<IdentityField, number> = { names: 2000, datesOfBirth: 1000, governmentFileNumbers: 1000, contact: 1000, currentLocation: 1000, notes: 10000, birthMonths: 400 };

/** One identity field: its length limit, and for the birth months, year-month form within the last 100 years (charity `today`). */
function identityField(field: IdentityField, today: string) {
  const base = identityText(IDENTITY_LIMITS[field]);
  if (field !== 'birthMonths') return base;
  return base.superRefine((value, ctx) => {
    const parsed = parseBirthMonths(value, today);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.problem === 'format' ? 'families:errors.birthMonths' : 'families:errors.birthMonthsRange' });
  });
}

/** The identity typed at registration; birth months are checked against the charity's `today`. */
export function identityForm(today: string) {
  return z.object(Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, identityField(f, today)])) as Record<IdentityField, ReturnType<typeof identityText>>);
}

/** The reveal form's checkboxes, marked from what was submitted. */
export function revealChoices(values: Record<string, unknown>) {
  const chosen = Array.isArray(values.fields) ? (values.fields as unknown[]) : [values.fields];
  return IDENTITY_FIELDS.map((f) => ({ value: f, label: `families:identity.${f}`, checked: chosen.includes(f) }));
}

const identityFields = list.pipe(z.array(z.enum(IDENTITY_FIELDS, 'families:errors.invalid')).min(1, 'families:errors.revealFields'));

/** Which identity fields a staff member asks to see, and why: one line, kept in the audit row. */
export const RevealForm = z.object({
  fields: identityFields,
  reason: z
    .string({ error: 'families:errors.revealReason' })
    .trim()
    .min(1, 'families:errors.revealReason')
    .max(REVEAL_REASON_MAX, 'families:errors.tooLong')
    .refine((v) => !/[\r\n]/.test(v), 'families:errors.revealOneLine'),
});

/** The revealed fields a staff member edited (`fields` names them); the others are kept as stored. */
export function identityEditForm(today: string) {
  return z.looseObject({ fields: identityFields }).transform((form, ctx) => {
    const changes: Partial<FamilyIdentity> = {};
    for (const field of new Set(form.fields)) {
      const value = identityField(field, today).safeParse(form[field]);
      if (!value.success) ctx.addIssue({ code: 'custom', path: [field], message: value.error.issues[0]?.message ?? 'families:errors.tooLong' });
      else changes[field] = value.data;
    }
    return changes;
  });
}

export const StatusForm = z.object({ status: z.enum(FAMILY_STATUSES as [FamilyStatus, ...FamilyStatus[]], 'families:errors.invalid') });

/** The shared form parser with the families module's own "invalid" message. */
export function parseFamilyForm<S extends z.ZodType>(schema: S, req: Request): FormResult<z.infer<S>> {
  return parseForm(schema, req, 'families:errors.invalid');
}

export function profileValues(p: FamilyProfileInput): Record<string, unknown> {
  return {
    adults: p.adults,
    children: p.children,
    languages: p.languages.join(', '),
    needs: p.needs,
    sgbvSurvivor: p.sgbvSurvivor,
    medicalNeeds: p.medicalNeeds,
    traumaInformedSupport: p.traumaInformedSupport,
    preferredRegion: p.preferredRegion ?? '',
    vettingStatus: p.vettingStatus,
    vettedOn: p.vettedOn ?? '',
  };
}

export type IdentityInput = FamilyIdentity;

/** Choices for the family form's checkboxes and selects, marked from the submitted or stored values. */
export function formChoices(values: Record<string, unknown>) {
  const needs = Array.isArray(values.needs) ? (values.needs as string[]) : typeof values.needs === 'string' ? [values.needs] : [];
  const flag = (v: unknown) => v === true || v === 'on' || v === 'true';
  return {
    needOptions: FAMILY_NEEDS.map((n) => ({ value: n, label: `families:needs.${n}`, checked: needs.includes(n) })),
    provinceOptions: PROVINCES.map((p) => ({ value: p, selected: values.preferredRegion === p })),
    vettingOptions: (['pending', 'cleared', 'refused'] as const).map((v) => ({ value: v, label: `families:vetting.${v}`, selected: values.vettingStatus === v })),
    flags: {
      sgbvSurvivor: flag(values.sgbvSurvivor),
      medicalNeeds: flag(values.medicalNeeds),
      traumaInformedSupport: flag(values.traumaInformedSupport),
    },
  };
}

export function statusChoices(current: FamilyStatus) {
  return FAMILY_STATUSES.map((s) => ({ value: s, label: `families:status.${s}`, selected: s === current }));
}
