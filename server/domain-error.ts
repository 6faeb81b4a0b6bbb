/**
 * What a module throws when a request cannot be carried out for a reason the user should
 * read. The message (and each field error) is a message key (`schedules:errors.skipped`), said in
 * the page's language with `params`, or text shown as is; server/http/errors.ts maps the kind to a
 * status code.
 */
export type DomainErrorKind = 'invalid' | 'forbidden' | 'not_found' | 'conflict' | 'rate_limited' | 'unavailable';

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly fieldErrors: Record<string, string> = {},
    readonly params: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
