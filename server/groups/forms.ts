import type { Request } from 'express';
import { z } from 'zod';

/**
 * Form parsing for the groups module. Zod messages are i18n keys (groups:errors.*) so the
 * view shows each field's message in the page's language.
 */
export type FormResult<T> =
  | { ok: true; data: T; values: Record<string, unknown> }
  | { ok: false; values: Record<string, unknown>; fieldErrors: Record<string, string> };

export function parseForm<S extends z.ZodType>(schema: S, req: Request): FormResult<z.infer<S>> {
  const values = (req.body ?? {}) as Record<string, unknown>;
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  const fieldErrors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? '_');
    fieldErrors[field] ??= issue.message.startsWith('groups:') ? issue.message : 'groups:errors.invalid';
  }
  return { ok: false, values, fieldErrors };
}

export const text = (max: number) =>
  z
    .string({ error: 'groups:errors.required' })
    .trim()
    .min(1, 'groups:errors.required')
    .max(max, 'groups:errors.tooLong');

export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, 'groups:errors.tooLong')
    .optional()
    .transform((v) => v ?? '');

export const email = z
  .string({ error: 'groups:errors.required' })
  .trim()
  .toLowerCase()
  .max(254, 'groups:errors.tooLong')
  .pipe(z.email('groups:errors.email'));

/** A form's repeated field arrives as a string or an array of strings. */
export const many = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));

/** Dollars typed by a person ("1,250.50", "$80") → integer cents, never through floating point. */
export function parseDollars(input: string): number | undefined {
  const cleaned = input.trim().replace(/^\$/, '').replace(/,/g, '').trim();
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(cleaned);
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** A dollar amount between $0.01 and maxCents. */
export const dollars = (maxCents: number) =>
  z
    .string({ error: 'groups:errors.required' })
    .transform((v, ctx) => {
      const cents = parseDollars(v);
      if (cents === undefined) {
        ctx.addIssue({ code: 'custom', message: 'groups:errors.amount' });
        return z.NEVER;
      }
      if (cents < 1 || cents > maxCents) {
        ctx.addIssue({ code: 'custom', message: 'groups:errors.amountRange' });
        return z.NEVER;
      }
      return cents;
    });

export const PROVINCES = ['AB', 'BC', 'MB', 'NB', 'NL', 'NS', 'NT', 'NU', 'ON', 'PE', 'QC', 'SK', 'YT'] as const;
export type Province = (typeof PROVINCES)[number];
