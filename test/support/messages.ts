import fs from 'node:fs';
import path from 'node:path';
import { LOCALES_DIR } from '../../server/paths';

/** The message files, flattened to `namespace:key` → text, for tests that look for untranslated words. */
export const NAMESPACES = fs.readdirSync(path.join(LOCALES_DIR, 'en')).map((f) => path.basename(f, '.json'));
export const RAW_KEY = new RegExp(`\\b(${NAMESPACES.join('|')}):[A-Za-z_]+(\\.[A-Za-z_]+)+`);

type Messages = { [key: string]: string | Messages };

function flatten(messages: Messages, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(messages)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(name, value);
    else for (const [k, v] of flatten(value, name)) out.set(k, v);
  }
  return out;
}

export function messagesOf(locale: 'en' | 'fr'): Map<string, string> {
  const all = new Map<string, string>();
  for (const ns of NAMESPACES) {
    const file = path.join(LOCALES_DIR, locale, `${ns}.json`);
    const messages = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Messages) : {};
    for (const [k, v] of flatten(messages)) all.set(`${ns}:${k}`, v);
  }
  return all;
}

/** Pieces of English message text that would give away an untranslated message on a French page. */
export function englishFragments(): string[] {
  const en = messagesOf('en');
  const fr = messagesOf('fr');
  const fragments = new Set<string>();
  for (const [key, text] of en) {
    if (fr.get(key) === text) continue;
    for (const piece of text.split(/\{\{[^}]+\}\}/)) {
      const trimmed = piece.trim();
      if (trimmed.length >= 10 && trimmed.includes(' ') && !/[<>&"']/.test(trimmed)) fragments.add(trimmed);
    }
  }
  return [...fragments];
}
