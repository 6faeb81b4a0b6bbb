import type { Request } from 'express';
import { z } from 'zod';

/**
 * Form parsing shared by every module. Zod messages are i18n keys (`common:form.*` or a
 * module's own), so a view shows each field's message in the page's language.
 */
export type FormResult<T> =
  | { ok: true; data: T; values: Record<string, unknown> }
  | { ok: false; values: Record<string, unknown>; fieldErrors: Record<string, string> };

const I18N_KEY = /^[a-z]+:[a-zA-Z0-9_.]+$/;

/** `fallbackKey` names the message for an issue whose message is not a key (a module's own "invalid"). */
export function parseForm<S extends z.ZodType>(schema: S, req: Request, fallbackKey = 'common:form.invalid'): FormResult<z.infer<S>> {
  const values = (req.body ?? {}) as Record<string, unknown>;
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  const fieldErrors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? '_');
    fieldErrors[field] ??= I18N_KEY.test(issue.message) ? issue.message : fallbackKey;
  }
  return { ok: false, values, fieldErrors };
}

export const text = (max: number) =>
  z.string({ error: 'common:form.required' }).trim().min(1, 'common:form.required').max(max, 'common:form.tooLong');

export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, 'common:form.tooLong')
    .optional()
    .transform((v) => v ?? '');

/** Dollars typed by a person ("1,250.50", "$80") → integer cents, never through floating point. */
export function parseDollars(input: string): number | undefined {
  const cleaned = input.trim().replace(/^\$/, '').replace(/,/g, '').replace(/\s/g, '').trim();
  const match = /^(\d{1,9})(?:[.,](\d{1,2}))?$/.exec(cleaned);
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** A dollar amount between minCents and maxCents. */
export const dollars = (maxCents: number, minCents = 1) =>
  z.string({ error: 'common:form.required' }).transform((v, ctx) => {
    const cents = parseDollars(v);
    if (cents === undefined) {
      ctx.addIssue({ code: 'custom', message: 'common:form.amount' });
      return z.NEVER;
    }
    if (cents < minCents || cents > maxCents) {
      ctx.addIssue({ code: 'custom', message: 'common:form.amountRange' });
      return z.NEVER;
    }
    return cents;
  });

/** A calendar date 'YYYY-MM-DD' (what <input type="date"> sends) within sensible years. */
export const isoDate = z
  .string({ error: 'common:form.required' })
  .trim()
  .refine((v) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    if (!m) return false;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const date = new Date(Date.UTC(y, mo - 1, d));
    return y >= 2000 && y <= 2100 && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
  }, 'common:form.date');

/** A route parameter that must be a positive integer id. */
export const idParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
