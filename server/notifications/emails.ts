import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { viewHelpers } from '../http/views';
import { translatorFor } from '../i18n/i18n';
import { VIEWS_DIR } from '../paths';
import type { EmailMessage } from './outbox';

const handlebars = Handlebars.create();
handlebars.registerHelper(viewHelpers);
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
