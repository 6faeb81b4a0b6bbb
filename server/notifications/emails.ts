import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { viewHelpers } from '../http/views';
import { type Locale, translatorFor } from '../i18n/i18n';
import { VIEWS_DIR } from '../paths';
import type { EmailMessage } from './outbox';

/**
 * Text someone typed (a person's or a group's name, a reason) as an e-mail shows it: on one line,
 * at most 120 characters, inside the language's quotation marks (any the text carried removed),
 * so it reads as a quotation and never as HanVoice's own words. E-mails never put such text in a
 * subject or a greeting (test/notifications/emails.test.ts checks every template).
 */
export function quoted(text: unknown, locale: Locale): string {
  let value = String(text ?? '')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/["“”„«»‹›]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
  if (value.length > 120) value = `${value.slice(0, 119).trimEnd()}…`;
  // Korean quotes as English typesetting does (“…”), which Korean writing uses too.
  return locale === 'fr' ? `«\u00a0${value}\u00a0»` : `“${value}”`;
}

const handlebars = Handlebars.create();
handlebars.registerHelper(viewHelpers);
handlebars.registerHelper('quoted', (text: unknown, options: Handlebars.HelperOptions) => quoted(text, (options.data?.root?.locale as Locale | undefined) ?? 'en'));
const compiled = new Map<string, HandlebarsTemplateDelegate>();

function template(name: string): HandlebarsTemplateDelegate {
  if (!/^[a-z0-9-]+(\/[a-z0-9-]+)*$/.test(name)) throw new Error(`bad e-mail template name ${name}`);
  let t = compiled.get(name);
  if (!t) {
    const source = fs.readFileSync(path.join(VIEWS_DIR, 'emails', `${name}.hbs`), 'utf8');
    // Plain-text e-mail: nothing to HTML-escape.
    t = handlebars.compile(source, { noEscape: true, strict: false });
    compiled.set(name, t);
  }
  return t;
}

export type RenderedEmail = { to: string; subject: string; text: string };

export function renderEmail(message: EmailMessage): RenderedEmail {
  const t = translatorFor(message.locale);
  const subject = String(t(`emails:${message.template.replace(/\//g, '.')}.subject`, message.data));
  const text = template(message.template)({ ...message.data, locale: message.locale });
  return { to: message.to, subject, text: text.trim() + '\n' };
}
