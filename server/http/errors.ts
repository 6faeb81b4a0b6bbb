import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { TFunction } from 'i18next';
import { DomainError, type DomainErrorKind } from '../domain-error';
import { translatorFor } from '../i18n/i18n';

const STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
};

function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/') || req.path === '/api' || req.path.startsWith('/webhooks/');
}

/** Connection failures and server shutdowns: the database is down, not the request wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Duck-typed: errors from node's net module may come from another realm (Jest's VM).
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08006', '08001', '08003', '08000'].includes(code)) {
    return true;
  }
  return (
    typeof message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated|connection closed|Client has encountered a connection error/i.test(message)
  );
}

function sendError(req: Request, res: Response, status: number, message: string, extra: Record<string, unknown> = {}): void {
  // A streamed answer (a CSV export) failed part-way: cut the connection so the download fails rather than hangs.
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(status);
  if (wantsJson(req)) {
    res.json({ error: { message, ...extra } });
    return;
  }
  res.render('errors/error', { status, message, requestId: extra.requestId, title: message });
}

/** A DomainError message may be a message key (`groups:errors.notFound`): shown in the page's language. */
function translated(t: TFunction, message: string, params: Record<string, unknown> = {}): string {
  return /^[a-z]+:[A-Za-z0-9_.]+$/.test(message) ? String(t(message, { ...params, defaultValue: message })) : message;
}

/** A DomainError's field messages in the page's language, for a form that shows them beside its fields. */
export function fieldMessages(t: TFunction, error: DomainError): Record<string, string> {
  return Object.fromEntries(Object.entries(error.fieldErrors).map(([field, message]) => [field, translated(t, message, error.params)]));
}

export const notFound: RequestHandler = (req, res) => {
  const t = (res.locals.t as TFunction | undefined) ?? translatorFor('en');
  sendError(req, res, 404, t('common:errors.notFound'));
};

/**
 * The one place errors become responses: DomainError kinds map to 4xx with their message,
 * malformed bodies to 400/413, a database outage to 503, and anything else to a 500 page
 * with a request id. Stack traces are logged, never sent.
 */
export const handleErrors: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const t = (res.locals.t as TFunction | undefined) ?? translatorFor('en');
  if (error instanceof DomainError) {
    const fields = fieldMessages(t, error);
    const extra = Object.keys(fields).length ? { fields } : {};
    // A policy may have set 401 (not signed in) before passing a 'forbidden' error on.
    const status = error.kind === 'forbidden' && res.statusCode === 401 ? 401 : STATUS[error.kind];
    return sendError(req, res, status, translated(t, error.message, error.params), extra);
  }
  const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // body-parser and friends: malformed JSON, payload too large, bad encoding.
    const message = status === 413 ? t('common:errors.tooLarge') : t('common:errors.badRequest');
    return sendError(req, res, status, message);
  }
  if (isDatabaseUnavailable(error)) {
    req.log?.warn({ err: error }, 'database unavailable');
    res.setHeader('Retry-After', '5');
    return sendError(req, res, 503, t('common:errors.unavailable'));
  }
  req.log?.error({ err: error }, 'unhandled error');
  return sendError(req, res, 500, t('common:errors.internal'), { requestId: String(req.id ?? '') });
};
