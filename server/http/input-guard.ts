import type { NextFunction, Request, Response } from 'express';
import type { TFunction } from 'i18next';
import { DomainError } from '../domain-error';

function hasNulByte(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 5 || value === null || typeof value !== 'object') return false;
  return Object.entries(value as Record<string, unknown>).some(([key, v]) => key.includes('\u0000') || hasNulByte(v, depth + 1));
}

/**
 * PostgreSQL text cannot hold a NUL byte: a query carrying one fails. Rather than let any form
 * field, query or path parameter turn into a 500, such a request is a 400 before any route sees it.
 */
export function rejectNulBytes(req: Request, res: Response, next: NextFunction): void {
  // The path too: route parameters are decoded from it later, so `%00` there would reach a query
  // as a NUL (found by the fuzz: GET /groups/%00 answered 500).
  if (req.path.includes('%00') || hasNulByte(req.query) || hasNulByte(req.body)) {
    const t = res.locals.t as TFunction;
    return next(new DomainError('invalid', t('common:errors.badRequest')));
  }
  next();
}
