import type { RequestHandler } from 'express';
import type { TFunction } from 'i18next';
import { translations } from '../i18n/i18n';

/**
 * The confirmation after an action's redirect: a route redirects to `…?done=<module>.<what>`
 * and the page shows the message `<module>:done.<what>` (res.locals.doneMessage; the staff
 * navigation partial prints it). Only messages under a module's `done` key can be shown this
 * way, so a link someone else wrote cannot put arbitrary text on the page.
 */
export function doneHref(path: string, done: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}done=${done}`;
}

const DONE = /^([a-z]+)\.([a-zA-Z]+)$/;

export const doneNotice: RequestHandler = (req, res, next) => {
  const match = typeof req.query.done === 'string' ? DONE.exec(req.query.done) : null;
  if (match) {
    const key = `${match[1]}:done.${match[2]}`;
    if (translations().exists(key, { lng: 'en' })) res.locals.doneMessage = (res.locals.t as TFunction)(key);
  }
  next();
};
