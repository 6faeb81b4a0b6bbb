import type { Request } from 'express';
import { z } from 'zod';
import { type FormResult, parseDollars as parseSharedDollars, parseForm as parseSharedForm } from '../http/forms';

/**
 * Form parsing for the groups module. Zod messages are i18n keys (groups:errors.*) so the
 * view shows each field's message in the page's language.
 */
export type { FormResult } from '../http/forms';

/** The shared form parser with the groups module's own "invalid" message. */
export function parseForm<S extends z.ZodType>(schema: S, req: Request): FormResult<z.infer<S>> {
  return parseSharedForm(schema, req, 'groups:errors.invalid');
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

export { parseDollars } from '../http/forms';

/** A dollar amount between $0.01 and maxCents. */
export const dollars = (maxCents: number) =>
  z
    .string({ error: 'groups:errors.required' })
    .transform((v, ctx) => {
      const cents = parseSharedDollars(v);
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
