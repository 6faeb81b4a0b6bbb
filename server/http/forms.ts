import type { Request } from 'express';
import { z } from 'zod';
import { DomainError } from '../domain-error';

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

/**
 * Dollars typed by a person → integer cents, never through floating point, as either language
 * writes them: "1,250.50", "$80", Korean "80달러", and French "1 250,50 $" (spaces group the thousands, a comma
 * marks the cents). A lone comma followed by one or two final digits is a decimal comma ("12,50"
 * is $12.50: English groups thousands by three digits); other commas must group thousands by three.
 */
export function parseDollars(input: string): number | undefined {
  // Korean writes dollars after the number too: "50달러" is $50.
  const cleaned = input.replace(/\s/g, '').replace(/달러$/, '').replace(/^\$|\$$/g, '');
  const plain = /^\d+,\d{1,2}$/.test(cleaned) ? cleaned.replace(',', '.') : /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(cleaned) ? cleaned.replace(/,/g, '') : cleaned;
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(plain);
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

/**
 * The one parser for record ids and keyset cursors, wherever they arrive (path, query string,
 * form, JSON): decimal digits only, a positive integer that PostgreSQL's bigint and a JS number
 * both hold exactly. `1e308`, `0x1F`, `-1`, `1.5`, ` 7`, `9007199254740993` are not ids (Number()
 * accepted several of them and the query then failed: GET /staff/families?after=1e308 was a 500).
 */
export const idParam = z.union([z.string(), z.number()], { error: 'common:form.invalid' }).transform((value, ctx) => {
  const text = String(value);
  const id = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id)) {
    ctx.addIssue({ code: 'custom', message: 'common:form.invalid' });
    return z.NEVER;
  }
  return id;
});

/** An id in a query string or form that may be left out (an empty field counts as left out). */
export const optionalIdParam = z
  .union([z.literal('').transform(() => undefined), idParam])
  .optional();

/** A route's id parameter: anything that is not an id names no record, so it is a 404. */
export function requireIdParam(value: unknown, notFoundMessage = 'common:errors.notFound'): number {
  const parsed = idParam.safeParse(value);
  if (!parsed.success) throw new DomainError('not_found', notFoundMessage);
  return parsed.data;
}

/** A keyset cursor (`?after=`, `?before=`): absent is the first page, anything but an id is a 400. */
export function cursorParam(value: unknown): number | undefined {
  const parsed = optionalIdParam.safeParse(value);
  if (!parsed.success) throw new DomainError('invalid', 'common:errors.badRequest');
  return parsed.data;
}
